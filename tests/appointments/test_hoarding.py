"""Hoarding: each rule's signal counted at its edges (threshold, window, what does not count),
the restriction it sets and how the applicant reads it (API and booking page), the decisions
that end or confirm it, and the one check that booking runs without a query."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.exceptions import AccountRestricted
from accounts.hoarding import BLOCKED, hoarding_rules
from accounts.models import AccountFlag, RefusedNik, User
from accounts.services import block_account, check_not_restricted, lift_flag, record_refused_niks
from appointments.models import ApplicationEvent, Status
from appointments.services.hoarding import evaluate_hoarding
from appointments.services.lifecycle import cancel_application, change_status, release_expired_holds
from tests.api.conftest import assert_error, client_for
from tests.appointments.test_views import form_data
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data, book_one

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def expire_holds(account, slot, n: int) -> None:
    """`n` bookings of the account left unpaid until the expiry job ran (now)."""
    for _ in range(n):
        book_one(account=account, slot_id=slot.pk, now=timezone.now() - dt.timedelta(hours=3))
    release_expired_holds(now=timezone.now())


def flags(account, rule=None):
    found = AccountFlag.objects.filter(account=account)
    return list(found.filter(rule=rule) if rule else found)


class TestExpiredHolds:
    def test_two_expired_holds_are_no_flag_the_third_restricts_for_seven_days(self, applicant_user, slot):
        expire_holds(applicant_user, slot, 2)
        assert evaluate_hoarding() == []
        expire_holds(applicant_user, slot, 1)
        now = timezone.now()
        (flag,) = evaluate_hoarding(now=now)
        assert (flag.account_id, flag.rule, flag.count, flag.state) == (applicant_user.pk, "expired_holds", 3, "open")
        assert flag.restricted_until == now + 7 * DAY
        applicant_user.refresh_from_db()
        assert (applicant_user.restricted_until, applicant_user.restricted_by) == (now + 7 * DAY, "expired_holds")

    def test_the_window_is_thirty_days(self, applicant_user, slot):
        expire_holds(applicant_user, slot, 3)
        last = ApplicationEvent.objects.filter(to_status=Status.EXPIRED).order_by("at").first().at
        assert evaluate_hoarding(now=last + 30 * DAY + dt.timedelta(seconds=1)) == []  # the first one left
        assert len(evaluate_hoarding(now=last + 30 * DAY - dt.timedelta(seconds=1))) == 1

    def test_paid_or_cancelled_holds_do_not_count(self, applicant_user, slot):
        for _ in range(3):
            application = book_one(account=applicant_user, slot_id=slot.pk)
            cancel_application(application_id=application.pk, actor=applicant_user)
        for _ in range(2):
            application = book_one(account=applicant_user, slot_id=slot.pk)
            change_status(application_id=application.pk, to=Status.BOOKED)
        assert flags(applicant_user) == [] and evaluate_hoarding() == []

    def test_one_flag_per_window_and_a_lifted_flag_is_not_raised_again_by_the_same_holds(self, applicant_user, slot):
        expire_holds(applicant_user, slot, 3)
        (flag,) = evaluate_hoarding()
        assert evaluate_hoarding() == []
        reviewer = UserFactory(is_staff=True)
        lift_flag(flag_id=flag.pk, actor=reviewer, note="keluarga, bukan calo")
        assert evaluate_hoarding(now=timezone.now() + 29 * DAY) == []
        applicant_user.refresh_from_db()
        assert applicant_user.restricted_until is None and applicant_user.restricted_by == ""


class TestLateCancellations:
    def cancel_before(self, account, hours: float):
        start = timezone.now() + dt.timedelta(hours=hours)
        slot = SlotFactory(starts_at=start, ends_at=start + dt.timedelta(hours=2), date=start.date())
        application = book_one(account=account, slot_id=slot.pk)
        cancel_application(application_id=application.pk, actor=account)

    def test_three_cancellations_within_24_hours_of_the_visit_restrict(self, applicant_user):
        for _ in range(2):
            self.cancel_before(applicant_user, 23)
        self.cancel_before(applicant_user, 25)  # more than a day ahead: not late
        assert evaluate_hoarding() == []
        self.cancel_before(applicant_user, 1)
        (flag,) = evaluate_hoarding()
        assert (flag.rule, flag.count) == ("late_cancellations", 3) and flag.restricted_until

    def test_cancellations_by_staff_do_not_count(self, applicant_user):
        staff = UserFactory(is_staff=True)
        for _ in range(3):
            start = timezone.now() + dt.timedelta(hours=2)
            slot = SlotFactory(starts_at=start, ends_at=start + dt.timedelta(hours=2), date=start.date())
            application = book_one(account=applicant_user, slot_id=slot.pk)
            change_status(application_id=application.pk, to=Status.CANCELLED, actor=staff)
        assert evaluate_hoarding() == []


class TestNiksPerPhone:
    def test_a_family_of_seven_on_one_phone_is_no_signal_eight_niks_flag_every_account_that_used_it(self, slot):
        first, second, elsewhere = UserFactory(), UserFactory(), UserFactory()
        phone = "081299990000"
        for n in range(7):
            ApplicationFactory(account=first if n < 4 else second, slot=slot, phone=phone)
        ApplicationFactory(account=elsewhere, slot=slot, phone="081211112222")
        assert evaluate_hoarding() == []
        ApplicationFactory(account=second, slot=slot, phone=phone)
        raised = evaluate_hoarding()
        assert {(f.account_id, f.subject, f.count) for f in raised} == {
            (first.pk, phone, 8),
            (second.pk, phone, 8),
        }

    def test_one_nik_booked_again_is_one_nik(self, slot):
        account = UserFactory()
        nik = applicant_data().nik
        for _ in range(8):
            ApplicationFactory(account=account, slot=slot, phone="081299990000", nik=nik, status=Status.CANCELLED)
        assert evaluate_hoarding() == []


class TestAccountsPerAddress:
    def test_twenty_accounts_from_one_address_within_an_hour_are_flagged_but_never_restricted(self):
        for _ in range(19):
            UserFactory(signup_address="203.0.113.7")
        UserFactory(signup_address="203.0.113.8")
        assert evaluate_hoarding() == []
        last = UserFactory(signup_address="203.0.113.7")
        raised = evaluate_hoarding()
        assert len(raised) == 20 and {f.subject for f in raised} == {"203.0.113.7"}
        assert all(f.restricted_until is None for f in raised)
        last.refresh_from_db()
        check_not_restricted(account=last, now=timezone.now())  # a signal, never a block on its own

    def test_accounts_an_hour_apart_are_not_counted_together(self):
        for _ in range(20):
            UserFactory(signup_address="203.0.113.7")
        assert evaluate_hoarding(now=timezone.now() + dt.timedelta(hours=1, seconds=1)) == []

    def test_a_restriction_for_this_signal_is_refused_at_configuration(self):
        rules = {"crowd": {"signal": "accounts_per_address", "threshold": 20, "window": dt.timedelta(hours=1)}}
        rules["crowd"]["restrict_for"] = dt.timedelta(days=1)
        with override_settings(HOARDING_RULES=rules), pytest.raises(ImproperlyConfigured):
            hoarding_rules()


class TestRefusedNiks:
    def test_ten_refused_niks_within_seven_days_restrict(self, applicant_user):
        now = timezone.now()
        for day in range(3):  # 9 NIKs over three days: under every day's cap of 5, under the rule
            record_refused_niks(
                account=applicant_user, niks=[applicant_data().nik for _ in range(3)], now=now - day * DAY
            )
        assert evaluate_hoarding(now=now) == []
        record_refused_niks(account=applicant_user, niks=[applicant_data().nik], now=now)
        (flag,) = evaluate_hoarding(now=now)
        assert (flag.rule, flag.count) == ("refused_niks", 10)
        assert RefusedNik.objects.filter(account=applicant_user).count() == 10
        assert evaluate_hoarding(now=now + 8 * DAY) == []  # the NIKs of 7 days ago and more left the window


class TestRestriction:
    def restricted(self, account, *, days=7, rule="expired_holds"):
        User.objects.filter(pk=account.pk).update(restricted_until=timezone.now() + days * DAY, restricted_by=rule)
        account.refresh_from_db()
        return account

    def test_the_check_reads_nothing_and_says_until_when_and_why(self, applicant_user, django_assert_num_queries):
        account = self.restricted(applicant_user)
        with django_assert_num_queries(0), pytest.raises(AccountRestricted) as refused:
            check_not_restricted(account=account, now=timezone.now())
        assert refused.value.code == "account_restricted" and refused.value.http_status == 403
        assert "WIB" in refused.value.message and "3" in refused.value.message and "30" in refused.value.message
        check_not_restricted(account=account, now=account.restricted_until)  # ends at `restricted_until`

    def test_a_restricted_account_cannot_book_over_the_api_and_nothing_is_stored(self, applicant_user, slot):
        account = self.restricted(applicant_user)
        body = {
            "slot": slot.pk,
            "passport_type": "regular",
            "validity_years": 5,
            "application_kind": "new",
            "express": False,
            "applicant": {**applicant_data().__dict__, "birth_date": "1990-05-17"},
        }
        body["applicant"].pop("married", None)
        answer = assert_error(
            client_for(account).post("/api/v1/applications/", body, format="json"), 403, "account_restricted"
        )
        assert "kedaluwarsa" in answer["detail"] or "expired" in answer["detail"]
        slot.refresh_from_db()
        assert slot.taken == 0 and not account.applications.exists()

    def test_the_booking_page_says_it_instead_of_the_form(self, client, applicant_user, slot):
        self.restricted(applicant_user)
        client.force_login(applicant_user)
        page = client.get(reverse("appointments:book", args=[slot.pk])).content.decode()
        assert 'id="restriction"' in page and '<form method="post" novalidate class="application-form">' not in page
        answer = client.post(reverse("appointments:book", args=[slot.pk]), form_data())
        assert answer.status_code == 200 and not applicant_user.applications.exists()
        User.objects.filter(pk=applicant_user.pk).update(restricted_until=timezone.now())  # it ended
        answer = client.post(reverse("appointments:book", args=[slot.pk]), form_data())
        assert answer.status_code == 302 and applicant_user.applications.count() == 1

    def test_lifting_one_flag_keeps_the_restriction_of_another_open_one(self, applicant_user, slot):
        expire_holds(applicant_user, slot, 3)
        (holds,) = evaluate_hoarding()
        record_refused_niks(account=applicant_user, niks=[applicant_data().nik for _ in range(10)])
        later = timezone.now() + dt.timedelta(minutes=5)
        (refused,) = evaluate_hoarding(now=later)
        reviewer = UserFactory(is_staff=True)
        lift_flag(flag_id=refused.pk, actor=reviewer)
        applicant_user.refresh_from_db()
        assert (applicant_user.restricted_until, applicant_user.restricted_by) == (
            holds.restricted_until,
            "expired_holds",
        )

    def test_blocking_has_no_end_and_no_later_flag_undoes_it(self, applicant_user, slot):
        expire_holds(applicant_user, slot, 3)
        (flag,) = evaluate_hoarding()
        block_account(flag_id=flag.pk, actor=UserFactory(is_staff=True), note="calo")
        applicant_user.refresh_from_db()
        assert applicant_user.restricted_by == BLOCKED and applicant_user.restricted_until is None
        record_refused_niks(account=applicant_user, niks=[applicant_data().nik for _ in range(10)])
        evaluate_hoarding()
        applicant_user.refresh_from_db()
        assert applicant_user.restricted_by == BLOCKED
        with pytest.raises(AccountRestricted, match="blocked|memblokir"):
            check_not_restricted(account=applicant_user, now=timezone.now() + 365 * DAY)


class TestSignUpAddress:
    def test_the_web_and_the_api_keep_the_client_address_of_a_sign_up(self, client):
        data = {"full_name": "Budi Santoso", "phone": "081234567890"}
        client.post(
            reverse("accounts:signup"),
            {**data, "email": "web@example.com", "password1": "Rahasia-Kuat-123", "password2": "Rahasia-Kuat-123"},
            REMOTE_ADDR="198.51.100.4",
        )
        client.post(
            "/api/v1/auth/register/",
            {**data, "email": "api@example.com", "password": "Rahasia-Kuat-123"},
            content_type="application/json",
            REMOTE_ADDR="198.51.100.5",
        )
        assert dict(User.objects.values_list("email", "signup_address")) == {
            "web@example.com": "198.51.100.4",
            "api@example.com": "198.51.100.5",
        }
