import datetime as dt

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.models import Applicant, Application, Payment, Status
from appointments.nik import build_nik
from quotas.models import Slot
from tests.factories import ApplicationFactory, SlotFactory, UserFactory


@pytest.fixture
def logged_in(client, applicant_user):
    client.force_login(applicant_user)
    return client


def later_session(office, days):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days), dt.time(10), tzinfo=office.tzinfo
    )
    return SlotFactory(office=office, starts_at=start, date=start.date())


@pytest.mark.django_db
class TestApplicationPages:
    def test_detail_shows_timeline_times_in_office_zone_and_actions(self, logged_in, applicant_user, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot, status=Status.PENDING_PAYMENT)
        application.events.create(to_status=Status.PENDING_PAYMENT, actor=applicant_user)
        page = logged_in.get(f"/applications/{application.booking_code}/").content.decode()
        grouped = " ".join(application.billing_code[i : i + 5] for i in range(0, 15, 5))
        assert application.booking_code in page and grouped in page
        assert "WIB" in page and "Rp350.000" in page
        assert application.nik not in page and application.masked_nik in page
        assert f"/applications/{application.booking_code}/pay/" in page
        assert f"/applications/{application.booking_code}/reschedule/" in page
        assert f"/applications/{application.booking_code}/cancel/" in page
        assert 'class="timeline"' in page and "Menunggu pembayaran" in page

    def test_someone_elses_application_is_404(self, logged_in, slot):
        other = ApplicationFactory(slot=slot)
        for suffix in ("", "pay/", "reschedule/", "cancel/"):
            assert logged_in.get(f"/applications/{other.booking_code}/{suffix}").status_code == 404
        assert logged_in.post(f"/applications/{other.booking_code}/cancel/").status_code == 404
        assert Application.objects.get(pk=other.pk).status == Status.BOOKED

    def test_anonymous_is_sent_to_login(self, client, slot):
        application = ApplicationFactory(slot=slot)
        answer = client.get(f"/applications/{application.booking_code}/")
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]

    def test_dev_gateway_pays_and_books(self, logged_in, applicant_user, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot, status=Status.PENDING_PAYMENT)
        assert logged_in.get(f"/applications/{application.booking_code}/pay/").status_code == 200
        answer = logged_in.post(f"/applications/{application.booking_code}/pay/")
        assert answer.status_code == 302
        application.refresh_from_db()
        assert application.status == Status.BOOKED
        assert Payment.objects.get(application=application).gateway == "dev"

    def test_dev_gateway_off_outside_debug_unless_switched_on(self, logged_in, applicant_user, slot, settings):
        settings.DEBUG = False
        settings.PAYMENT_DEV_GATEWAY = False
        application = ApplicationFactory(account=applicant_user, slot=slot, status=Status.PENDING_PAYMENT)
        assert logged_in.post(f"/applications/{application.booking_code}/pay/").status_code == 404
        application.refresh_from_db()
        assert application.status == Status.PENDING_PAYMENT

    def test_reschedule_page_moves_then_refuses_second_time(self, logged_in, applicant_user, office, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot)
        new = later_session(office, 5)
        page = logged_in.get(f"/applications/{application.booking_code}/reschedule/").content.decode()
        assert f'value="{new.pk}"' in page
        logged_in.post(f"/applications/{application.booking_code}/reschedule/", {"slot": new.pk})
        application.refresh_from_db()
        assert application.slot_id == new.pk
        answer = logged_in.get(f"/applications/{application.booking_code}/reschedule/", follow=True)
        with translation.override("id"):
            refusal = gettext("The date of an application can be changed only once.")
        assert refusal in answer.content.decode() and refusal.startswith("Tanggal")

    def test_reschedule_to_a_slot_not_offered_is_refused(self, logged_in, applicant_user, office, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot)
        elsewhere = later_session(SlotFactory().office, 5)
        answer = logged_in.post(f"/applications/{application.booking_code}/reschedule/", {"slot": elsewhere.pk})
        assert answer.status_code == 200  # the form with its error
        application.refresh_from_db()
        assert application.slot_id == slot.pk and application.reschedule_count == 0

    def test_cancel_page(self, logged_in, applicant_user, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot)
        assert logged_in.get(f"/applications/{application.booking_code}/cancel/").status_code == 200
        logged_in.post(f"/applications/{application.booking_code}/cancel/")
        application.refresh_from_db()
        assert application.status == Status.CANCELLED
        assert Slot.objects.get(pk=slot.pk).taken == 0


def person(n, **overrides):
    birth = dt.date(1985, 1, 1) + dt.timedelta(days=n)
    values = {
        "full_name": f"Orang {chr(65 + n)}",
        "nik": build_nik(birth_date=birth, sex="M", serial=n + 1),
        "birth_date": birth.isoformat(),
        "sex": "M",
        "phone": "",
    }
    values.update(overrides)
    return values


@pytest.mark.django_db
class TestPeople:
    def test_add_up_to_five_then_refused(self, logged_in, applicant_user):
        for n in range(5):
            assert logged_in.post("/people/", person(n)).status_code == 302
        page = logged_in.post("/people/", person(6)).content.decode()
        assert Applicant.objects.filter(account=applicant_user).count() == 5
        assert "Daftar Anda penuh" in page
        assert person(0)["nik"] not in page  # masked

    def test_nik_not_matching_birth_date_refused_with_clear_error(self, logged_in, applicant_user):
        bad = person(1, birth_date="1999-09-09")
        page = logged_in.post("/people/", bad).content.decode()
        assert not Applicant.objects.exists()
        assert "NIK" in page and "field-error" in page

    def test_same_person_twice_refused(self, logged_in):
        logged_in.post("/people/", person(1))
        logged_in.post("/people/", person(1))
        assert Applicant.objects.count() == 1

    def test_remove_only_own_and_without_active_application(self, logged_in, applicant_user, slot):
        logged_in.post("/people/", person(1))
        mine = Applicant.objects.get()
        theirs = Applicant.objects.create(account=UserFactory(), **{**person(2), "birth_date": dt.date(1985, 1, 3)})
        logged_in.post(f"/people/{theirs.pk}/remove/")
        assert Applicant.objects.filter(pk=theirs.pk).exists()
        ApplicationFactory(account=applicant_user, applicant=mine, slot=slot)
        logged_in.post(f"/people/{mine.pk}/remove/")
        assert Applicant.objects.filter(pk=mine.pk).exists()


@pytest.mark.django_db
class TestPersonPicker:
    def _form(self, p, **overrides):
        values = {
            "nik": p.nik,
            "full_name": p.full_name,
            "birth_date": p.birth_date.isoformat(),
            "sex": p.sex,
            "phone": "081234567890",
            "passport_type": "regular",
            "validity_years": "5",
            "application_kind": "new",
            "person": p.pk,
        }
        values.update(overrides)
        return values

    def test_picking_a_person_fills_the_form_and_links_the_booking(self, logged_in, applicant_user, slot):
        p = Applicant.objects.create(account=applicant_user, **{**person(1), "birth_date": dt.date(1985, 1, 2)})
        page = logged_in.get(f"/book/{slot.pk}/?person={p.pk}").content.decode()
        assert f'value="{p.nik}"' in page and 'name="person"' in page
        answer = logged_in.post(f"/book/{slot.pk}/", self._form(p))
        assert answer.status_code == 302, answer.content.decode()[:2000]
        assert Application.objects.get().applicant == p

    def test_another_accounts_person_is_not_offered_or_linked(self, logged_in, slot):
        theirs = Applicant.objects.create(account=UserFactory(), **{**person(2), "birth_date": dt.date(1985, 1, 3)})
        page = logged_in.get(f"/book/{slot.pk}/?person={theirs.pk}").content.decode()
        assert theirs.nik not in page and theirs.full_name not in page
        logged_in.post(f"/book/{slot.pk}/", self._form(theirs))
        assert Application.objects.get().applicant is None

    def test_person_not_linked_when_the_nik_was_changed(self, logged_in, applicant_user, slot):
        p = Applicant.objects.create(account=applicant_user, **{**person(1), "birth_date": dt.date(1985, 1, 2)})
        other = person(5)
        logged_in.post(f"/book/{slot.pk}/", self._form(p, nik=other["nik"], birth_date=other["birth_date"]))
        assert Application.objects.get().applicant is None
