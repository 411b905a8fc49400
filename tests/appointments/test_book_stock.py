"""Blank passport books on the booking path (docs/book-stock.md): the outlook from the bookings
ahead, the closing rule at its edges through the booking service, the API and the web form, the
type filter of the office lists, the calendar's note, the book used at printing, draw entries and
the waiting list, the periodic refresh and the low-stock alert, and the reports' table."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from allocation.models import Entry, Waiting
from allocation.services.entries import enter_draw
from allocation.services.waiting import join_waiting_list
from appointments.exceptions import StepNotAllowed
from appointments.models import Application, Status, Step, StepRecord
from appointments.services.booking import PersonBooking
from appointments.services.lifecycle import cancel_application
from appointments.services.steps import finish_step, start_step
from appointments.services.stock import alert_low_stock, refresh_stock_outlook, refresh_stock_outlooks
from appointments.stock_outlook import bookings_ahead
from offices.exceptions import PassportTypeUnavailable
from offices.models import PassportStock, StaffMembership, StockMessage, StockUse
from offices.services import record_receipt, set_type_issued
from quotas.models import Slot
from reports.selectors import stock_overview
from tests.allocation.helpers import open_release
from tests.api.conftest import assert_error, client_for
from tests.factories import (
    ApplicationFactory,
    OfficeFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
    applicant_data,
    book_one,
)

pytestmark = pytest.mark.django_db


def session(office, days_ahead: int, capacity: int = 20) -> Slot:
    start = timezone.now().astimezone(office.tzinfo).replace(hour=8, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=days_ahead)
    return SlotFactory(
        office=office, starts_at=start, ends_at=start + dt.timedelta(hours=2), date=start.date(), capacity=capacity
    )


def stock_of(office, passport_type="electronic", on_hand=0) -> PassportStock:
    stock = PassportStock.objects.create(office=office, passport_type=passport_type, on_hand=on_hand)
    refresh_stock_outlook(office_id=office.pk, passport_type=passport_type)
    stock.refresh_from_db()
    return stock


def book(account, slot, passport_type="electronic"):
    cache.clear()  # each booking refreshes the outlook (the debounce key is per second)
    return book_one(account=account, slot_id=slot.pk, passport_type=passport_type, validity_years=5)


def applications_of(office):
    return Application.objects.filter(slot__office=office).count()


@pytest.fixture
def days(office):
    return {n: session(office, n) for n in (2, 4, 6)}


class TestClosingRule:
    def test_the_last_book_closes_its_day_and_every_later_one(self, office, days, applicant_user):
        stock = stock_of(office, on_hand=3)
        assert stock.closed_from is None
        book(applicant_user, days[4])
        book(UserFactory(), days[4])
        stock.refresh_from_db()
        assert (stock.booked_ahead, stock.closed_from) == (2, None)
        book(UserFactory(), days[4])  # the last book
        stock.refresh_from_db()
        assert (stock.booked_ahead, stock.closed_from) == (3, days[4].date)

        for slot in (days[4], days[6]):  # the day D itself and a later one
            with pytest.raises(PassportTypeUnavailable) as refused:
                book(UserFactory(), slot)
            assert refused.value.code == "passport_type_unavailable" and refused.value.http_status == 409
        assert applications_of(office) == 3
        assert Slot.objects.get(pk=days[6].pk).taken == 0
        # The other type keeps no stock here: it is not limited.
        book(UserFactory(), days[6], passport_type="regular")

    def test_a_day_before_d_still_books_and_moves_d_earlier(self, office, days, applicant_user):
        stock = stock_of(office, on_hand=2)
        book(applicant_user, days[4])
        book(UserFactory(), days[4])
        stock.refresh_from_db()
        assert stock.closed_from == days[4].date
        # Day 2 is before D: its projected balance still has both books, so it books until its
        # own balance has none left; day 4's bookings stay, and wait for the next delivery.
        book(UserFactory(), days[2])
        stock.refresh_from_db()
        assert stock.closed_from == days[4].date
        book(UserFactory(), days[2])
        stock.refresh_from_db()
        assert stock.closed_from == days[2].date  # D moved earlier
        with pytest.raises(PassportTypeUnavailable):
            book(UserFactory(), days[2])
        assert Application.objects.filter(slot__office=office, status=Status.PENDING_PAYMENT).count() == 4

    def test_no_books_closes_from_today_and_a_delivery_reopens(
        self, office, days, applicant_user, django_capture_on_commit_callbacks
    ):
        stock = stock_of(office, on_hand=0)
        assert stock.closed_from == timezone.now().astimezone(office.tzinfo).date()
        with pytest.raises(PassportTypeUnavailable):
            book(applicant_user, days[2])
        assert applications_of(office) == 0
        with django_capture_on_commit_callbacks(execute=True):
            record_receipt(
                office=office,
                passport_type="electronic",
                books=1,
                reference="SJ-1",
                received_on=stock.closed_from,
                actor=UserFactory(is_staff=True),
            )
        stock.refresh_from_db()
        assert (stock.on_hand, stock.closed_from) == (1, None)
        book(applicant_user, days[2])
        stock.refresh_from_db()
        assert stock.closed_from == days[2].date

    def test_cancelled_and_printed_applications_are_not_ahead(self, office, days, applicant_user):
        stock_of(office, on_hand=5)
        first = book(applicant_user, days[2])
        second = book(UserFactory(), days[4])
        ApplicationFactory(slot=days[4], passport_type="electronic", status=Status.ISSUED)
        ApplicationFactory(slot=days[4], passport_type="regular")
        # At the office: an interview finished and printing started is still ahead; printing
        # finished is not (whatever the status says yet).
        interviewed = ApplicationFactory(slot=days[6], passport_type="electronic", status=Status.IN_PROCESS)
        StepRecord.objects.create(
            application=interviewed, step=Step.INTERVIEW, started_at=timezone.now(), finished_at=timezone.now()
        )
        StepRecord.objects.create(application=interviewed, step=Step.PRINTING, started_at=timezone.now())
        printed = ApplicationFactory(slot=days[6], passport_type="electronic", status=Status.APPROVED)
        StepRecord.objects.create(
            application=printed, step=Step.PRINTING, started_at=timezone.now(), finished_at=timezone.now()
        )
        today = timezone.now().astimezone(office.tzinfo).date()
        assert bookings_ahead(office_id=office.pk, passport_type="electronic", today=today) == {
            days[2].date: 1,
            days[4].date: 1,
            days[6].date: 1,
        }
        cancel_application(application_id=first.pk, actor=applicant_user)
        assert bookings_ahead(office_id=office.pk, passport_type="electronic", today=today) == {
            days[4].date: 1,
            days[6].date: 1,
        }
        after = days[6].date + dt.timedelta(days=1)
        assert bookings_ahead(office_id=office.pk, passport_type="electronic", today=after) == {}
        assert second.pk

    def test_a_type_the_office_does_not_issue_is_refused_everywhere(self, office, days, applicant_user):
        set_type_issued(office=office, passport_type="electronic", issued=False)
        with pytest.raises(PassportTypeUnavailable) as refused:
            book(applicant_user, days[2])
        assert refused.value.field == "passport_type"
        assert applications_of(office) == 0
        book(applicant_user, days[2], passport_type="regular")

    def test_a_household_with_one_closed_type_books_nobody(self, office, days, applicant_user):
        from appointments.services.booking import book_applications

        set_type_issued(office=office, passport_type="electronic", issued=False)
        people = [
            PersonBooking(applicant=applicant_data(), passport_type=t, validity_years=5, kind="new")
            for t in ("regular", "electronic")
        ]
        with pytest.raises(PassportTypeUnavailable):
            book_applications(account=applicant_user, slot_id=days[2].pk, people=people)
        assert applications_of(office) == 0 and Slot.objects.get(pk=days[2].pk).taken == 0

    def test_the_check_adds_no_query_to_a_booking(self, office, days, applicant_user, django_assert_num_queries):
        """The stock is read in the slot's own statement: a booking at an office keeping stock
        runs what one without stock runs, plus the outlook's refresh once per second."""
        stock_of(office, on_hand=50)
        book(UserFactory(), days[2])  # prepares the statements
        cache.set(f"stock:refresh:{office.pk}:electronic", 1, 60)  # refreshed within the second
        with django_assert_num_queries(7):
            book_one(account=applicant_user, slot_id=days[2].pk, passport_type="electronic", validity_years=5)


class TestApiAndWeb:
    def test_the_api_answers_409_and_stores_nothing(self, office, days, applicant_user):
        stock_of(office, on_hand=0)
        person = applicant_data()
        body = {
            "slot": days[2].pk,
            "passport_type": "electronic",
            "validity_years": 10,
            "application_kind": "new",
            "express": False,
            "applicant": {
                "nik": person.nik,
                "full_name": "Budi Santoso",
                "birth_date": person.birth_date.isoformat(),
                "sex": "M",
                "phone": "081234567890",
            },
        }
        answer = client_for(applicant_user).post("/api/v1/applications/", body, format="json")
        assert_error(answer, 409, "passport_type_unavailable")
        assert "buku" in answer.json()["detail"]  # says why, in Indonesian
        assert applications_of(office) == 0 and Slot.objects.get(pk=days[2].pk).taken == 0

    def test_the_web_form_says_why_on_the_type_and_stores_nothing(self, client, office, days, applicant_user):
        set_type_issued(office=office, passport_type="electronic", issued=False)
        client.force_login(applicant_user)
        person = applicant_data()
        response = client.post(
            reverse("appointments:book", args=[days[2].pk]),
            {
                "full_name": "Budi Santoso",
                "nik": person.nik,
                "birth_date": person.birth_date.isoformat(),
                "sex": "M",
                "phone": "081234567890",
                "passport_type": "electronic",
                "validity_years": "5",
                "application_kind": "new",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["passport_type"] == [
            "Kantor Imigrasi Kediri tidak menerbitkan paspor Elektronik (e-paspor). "
            "Pilih kantor atau jenis paspor lain."
        ]
        assert applications_of(office) == 0

    def test_the_calendar_and_availability_say_from_when_per_type(self, client, office, days, applicant_user):
        stock_of(office, on_hand=1)
        book(applicant_user, days[4])
        page = client.get(reverse("appointments:calendar", args=[office.code])).content.decode()
        assert "Elektronik (e-paspor)" in page and "type-note" in page
        body = client.get(f"/api/v1/offices/{office.code}/availability/").json()
        types = {t["passport_type"]: t for t in body["office"]["passport_types"]}
        assert types["electronic"]["closed_from"] == days[4].date.isoformat()
        assert types["electronic"]["reason"] == "out_of_stock" and types["electronic"]["available"] is True
        assert types["electronic"]["message"]
        assert types["regular"] == {
            "passport_type": "regular",
            "available": True,
            "closed_from": None,
            "reason": "",
            "message": "",
        }
        assert set(body) == {"office", "days"} and body["days"]  # the contract's fields are all there


class TestOfficeLists:
    def test_the_lists_hide_an_office_that_does_not_issue_the_type(self, client, office):
        other = OfficeFactory(code="kanim-blitar", name="Kantor Imigrasi Blitar")
        set_type_issued(office=other, passport_type="electronic", issued=False)
        codes = lambda answer: [o["code"] for o in answer.json()]  # noqa: E731
        assert codes(client.get("/api/v1/offices/")) == ["kanim-blitar", "kanim-kediri"]
        assert codes(client.get("/api/v1/offices/?passport_type=electronic")) == ["kanim-kediri"]
        assert codes(client.get("/api/v1/offices/?passport_type=regular")) == ["kanim-blitar", "kanim-kediri"]
        listed = {o["code"]: o["passport_types"] for o in client.get("/api/v1/offices/").json()}
        assert listed == {"kanim-blitar": ["regular"], "kanim-kediri": ["regular", "electronic"]}
        assert_error(client.get("/api/v1/offices/?passport_type=gold"), 400, "invalid")

        page = client.get(reverse("appointments:offices") + "?passport_type=electronic").content.decode()
        assert "Kantor Imigrasi Kediri" in page and "Kantor Imigrasi Blitar" not in page
        page = client.get(reverse("appointments:offices") + "?passport_type=gold").content.decode()
        assert "Kantor Imigrasi Kediri" in page and "Kantor Imigrasi Blitar" in page


class TestDrawAndWaitingList:
    def test_an_entry_for_a_closed_type_is_refused(self, office, applicant_user):
        release, slots = open_release(office=office)
        stock_of(office, on_hand=0)
        person = PersonBooking(applicant=applicant_data(), passport_type="electronic", validity_years=5, kind="new")
        with pytest.raises(PassportTypeUnavailable):
            enter_draw(account=applicant_user, release_id=release.pk, people=[person], choices=[slots[0].pk])
        assert not Entry.objects.exists()
        regular = PersonBooking(applicant=applicant_data(), passport_type="regular", validity_years=5, kind="new")
        enter_draw(account=applicant_user, release_id=release.pk, people=[regular], choices=[slots[0].pk])

    def test_joining_the_waiting_list_for_a_closed_type_is_refused(self, office, days, applicant_user):
        set_type_issued(office=office, passport_type="electronic", issued=False)
        person = PersonBooking(applicant=applicant_data(), passport_type="electronic", validity_years=5, kind="new")
        with pytest.raises(PassportTypeUnavailable):
            join_waiting_list(
                account=applicant_user,
                office_id=office.pk,
                date_from=days[2].date,
                date_to=days[6].date,
                people=[person],
            )
        assert not Waiting.objects.exists()


class TestPrintingAndJobs:
    def test_printing_uses_one_book_once(self, office, applicant_user, django_capture_on_commit_callbacks):
        stock = stock_of(office, on_hand=4)
        start = timezone.now().astimezone(office.tzinfo).replace(minute=0, second=0, microsecond=0)
        today = SlotFactory(office=office, starts_at=start, ends_at=start + dt.timedelta(hours=2), date=start.date())
        application = ApplicationFactory(slot=today, passport_type="electronic", status=Status.APPROVED)
        officer = UserFactory(is_staff=True)
        refresh_stock_outlook(office_id=office.pk, passport_type="electronic")
        stock.refresh_from_db()
        assert stock.booked_ahead == 1
        start_step(application_id=application.pk, office_id=office.pk, step=Step.PRINTING, actor=officer)
        with django_capture_on_commit_callbacks(execute=True):
            finish_step(application_id=application.pk, office_id=office.pk, step=Step.PRINTING, actor=officer)
        stock.refresh_from_db()
        assert (stock.on_hand, stock.booked_ahead) == (3, 0)  # used, and no longer ahead
        assert StockUse.objects.get().application_id == application.pk
        with pytest.raises(StepNotAllowed):  # the step is finished: the counter is told so
            finish_step(application_id=application.pk, office_id=office.pk, step=Step.PRINTING, actor=officer)
        stock.refresh_from_db()
        assert stock.on_hand == 3 and StockUse.objects.count() == 1

    def test_the_periodic_refresh_sees_cancellations(self, office, days, applicant_user):
        stock = stock_of(office, on_hand=1)
        application = book(applicant_user, days[2])
        stock.refresh_from_db()
        assert stock.closed_from == days[2].date
        cancel_application(application_id=application.pk, actor=applicant_user)
        stock.refresh_from_db()
        assert stock.closed_from == days[2].date  # a cancellation refreshes nothing by itself
        assert refresh_stock_outlooks() == 1
        stock.refresh_from_db()
        assert stock.closed_from is None and stock.booked_ahead == 0

    def test_the_alert_tells_the_office_and_its_division_once_a_day(self, office, days, applicant_user, settings):
        settings.STOCK_ALERT_WORKING_DAYS = 10
        head = UserFactory(email="kepala@example.com", is_staff=True)
        StaffMembershipFactory(user=head, role=StaffMembership.Role.HEAD, office=office)
        regional = UserFactory(email="kanwil@example.com", is_staff=True)
        StaffMembershipFactory(user=regional, role=StaffMembership.Role.REGIONAL, office=None, region=office.region)
        elsewhere = OfficeFactory(code="kanim-blitar")
        StaffMembershipFactory(
            user=UserFactory(email="kepala.blitar@example.com", is_staff=True),
            role=StaffMembership.Role.HEAD,
            office=elsewhere,
        )
        stock_of(office, on_hand=1)
        stock_of(elsewhere, on_hand=500)
        book(applicant_user, days[6])  # the last book: closed from 6 days ahead, under 10 working days
        assert alert_low_stock() == 1
        messages = StockMessage.objects.all()
        assert {m.recipient for m in messages} == {"kepala@example.com", "kanwil@example.com"}
        assert all(m.context["runs_out_on"] == days[6].date.isoformat() for m in messages)
        assert alert_low_stock() == 0  # once a day
        assert StockMessage.objects.count() == 2

    def test_the_reports_show_stock_use_per_week_and_run_out_date(self, office, days, applicant_user):
        stock = stock_of(office, on_hand=2)
        today = timezone.now().astimezone(office.tzinfo).date()
        for n in range(1, 8):
            StockUse.objects.create(
                stock=stock, application_id=1000 + n, used_on=today - dt.timedelta(days=n), used_at=timezone.now()
            )
        book(applicant_user, days[4])
        (row,) = stock_overview(offices=[office])
        assert (row.on_hand, row.booked_ahead, row.used_last_week) == (2, 1, 7)
        assert row.use_per_week == pytest.approx(7 * 7 / 28)
        assert row.runs_out_on is not None and row.runs_out_on > today
        assert row.working_days is not None
