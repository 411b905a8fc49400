import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from appointments.exceptions import (
    DuplicateApplication,
    InvalidInput,
    KindNotAccepted,
    TooManyApplicants,
)
from appointments.models import Application, ApplicationEvent, Status
from quotas.exceptions import NotOpenYet, SlotFull, SlotInPast
from quotas.models import Slot
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data, book_one


def book(account, slot, **overrides):
    values = dict(
        account=account,
        slot_id=slot.pk,
        applicant=applicant_data(),
        passport_type="electronic",
        validity_years=10,
        kind="new",
    )
    values.update(overrides)
    return book_one(**values)


def assert_nothing_stored(slot, before=0):
    slot.refresh_from_db()
    assert slot.taken == before
    assert Application.objects.filter(slot=slot).count() == before


@pytest.mark.django_db
class TestBooking:
    def test_books_a_place_pending_payment_with_fee_and_billing_code(self, applicant_user, slot):
        application = book(applicant_user, slot, express=True)

        slot.refresh_from_db()
        assert slot.taken == 1
        assert application.status == Status.PENDING_PAYMENT
        assert application.amount == 950_000 + 1_000_000
        assert len(application.billing_code) == 15 and application.billing_code.isdigit()
        assert len(application.booking_code) == 10
        window = application.payment_due_at - timezone.now()
        assert dt.timedelta(minutes=119) < window <= dt.timedelta(minutes=120)
        event = ApplicationEvent.objects.get(application=application)
        assert (event.from_status, event.to_status, event.actor) == ("", Status.PENDING_PAYMENT, applicant_user)

    def test_full_slot_refused(self, applicant_user, office):
        full = SlotFactory(office=office, capacity=1)
        ApplicationFactory(slot=full)
        with pytest.raises(SlotFull):
            book(applicant_user, full)
        assert_nothing_stored(full, before=1)

    def test_slot_not_open_yet_refused(self, applicant_user, office):
        later = SlotFactory(office=office, opens_at=timezone.now() + dt.timedelta(minutes=1))
        with pytest.raises(NotOpenYet):
            book(applicant_user, later)
        assert_nothing_stored(later)

    def test_slot_in_past_refused(self, applicant_user, office):
        started = timezone.now() - dt.timedelta(minutes=5)
        past = SlotFactory(office=office, starts_at=started, ends_at=started + dt.timedelta(hours=2))
        with pytest.raises(SlotInPast):
            book(applicant_user, past)
        assert_nothing_stored(past)

    @pytest.mark.parametrize(
        "nik_change",
        [
            lambda nik: nik[:15],  # 15 digits
            lambda nik: nik[:15] + "x",  # not a digit
            lambda nik: "99" + nik[2:],  # no such province
            lambda nik: nik[:6] + "18" + nik[8:],  # day does not match the birth date
            lambda nik: nik[:6] + "57" + nik[8:],  # woman's day (+40) for a man
            lambda nik: nik[:12] + "0000",  # serial 0000
        ],
    )
    def test_invalid_nik_refused(self, applicant_user, slot, nik_change):
        person = applicant_data()
        with pytest.raises(InvalidInput) as refusal:
            book(applicant_user, slot, applicant=applicant_data(nik=nik_change(person.nik)))
        assert refusal.value.field == "nik"
        assert_nothing_stored(slot)

    def test_woman_nik_has_day_plus_forty(self, applicant_user, slot):
        woman = applicant_data(birth_date=dt.date(1992, 3, 9), sex="F")
        assert woman.nik[6:12] == "490392"
        assert book(applicant_user, slot, applicant=woman).sex == "F"

    def test_nik_with_active_application_refused(self, applicant_user, slot, office):
        person = applicant_data()
        book(applicant_user, slot, applicant=person)
        other_slot = SlotFactory(office=office, starts_at=slot.starts_at + dt.timedelta(hours=2))
        with pytest.raises(DuplicateApplication):
            book(UserFactory(), other_slot, applicant=person)
        assert_nothing_stored(other_slot)

    def test_nik_may_book_again_after_cancellation(self, applicant_user, slot):
        person = applicant_data()
        ApplicationFactory(slot=slot, nik=person.nik, status=Status.CANCELLED)
        assert book(applicant_user, slot, applicant=person).nik == person.nik

    def test_sixth_active_applicant_on_one_account_refused(self, applicant_user, office):
        slot = SlotFactory(office=office, capacity=20)
        for _ in range(5):
            book(applicant_user, slot)
        with pytest.raises(TooManyApplicants):
            book(applicant_user, slot)
        assert_nothing_stored(slot, before=5)

    @pytest.mark.parametrize("kind", ["lost", "damaged", "data_change"])
    def test_counter_only_kind_refused_online(self, applicant_user, slot, kind):
        with pytest.raises(InvalidInput) as refusal:
            book(applicant_user, slot, kind=kind)
        assert refusal.value.field == "application_kind"
        assert_nothing_stored(slot)

    def test_ten_years_under_17_refused(self, applicant_user, slot):
        teenager = applicant_data(birth_date=slot.date.replace(year=slot.date.year - 16))
        with pytest.raises(InvalidInput) as refusal:
            book(applicant_user, slot, applicant=teenager, validity_years=10)
        assert refusal.value.field == "validity_years"
        assert_nothing_stored(slot)
        assert book(applicant_user, slot, applicant=teenager, validity_years=5).validity_years == 5

    def test_ten_years_under_17_when_married(self, applicant_user, slot):
        """A married minor may choose 10 years (declared; the counter checks the marriage book)."""
        born = slot.date.replace(year=slot.date.year - 16)
        married = applicant_data(birth_date=born, married=True)
        application = book(applicant_user, slot, applicant=married, validity_years=10)
        assert (application.validity_years, application.married) == (10, True)
        application.refresh_from_db()
        assert application.married and application.married_minor
        with pytest.raises(InvalidInput) as refusal:  # a marital status that is not a yes or no
            book(UserFactory(), slot, applicant=applicant_data(birth_date=born, married="ya"), validity_years=10)
        assert refusal.value.field == "married"
        assert_nothing_stored(slot, before=1)

    def test_kind_not_accepted_by_slot_refused(self, applicant_user, office):
        saturday = SlotFactory(office=office, allowed_kinds=["new", "replacement_expired"])
        with pytest.raises(KindNotAccepted):
            book(applicant_user, saturday, kind="replacement_full")
        assert_nothing_stored(saturday)

    def test_full_slot_gives_back_overdue_holds_first(self, applicant_user, office):
        full = SlotFactory(office=office, capacity=1)
        hold = ApplicationFactory(
            slot=full, status=Status.PENDING_PAYMENT, payment_due_at=timezone.now() - dt.timedelta(seconds=1)
        )
        application = book(applicant_user, full)

        hold.refresh_from_db()
        full.refresh_from_db()
        assert hold.status == Status.EXPIRED
        assert application.status == Status.PENDING_PAYMENT
        assert full.taken == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_bookings_for_ten_places_give_exactly_ten(office):
    slot = SlotFactory(office=office, capacity=10)
    accounts = [UserFactory() for _ in range(50)]
    start = threading.Barrier(50)
    outcomes = []

    def attempt(account):
        try:
            start.wait()
            book(account, slot)
            outcomes.append("booked")
        except SlotFull:
            outcomes.append("full")
        except Exception as exc:  # any other error is a failure of the test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(a,)) for a in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(set(outcomes)) == ["booked", "full"]
    assert outcomes.count("booked") == 10
    assert Application.objects.filter(slot=slot).count() == 10
    assert Slot.objects.get(pk=slot.pk).taken == 10


@pytest.mark.django_db
def test_both_ways_of_claiming_store_the_same_rows(applicant_user, office, monkeypatch):
    """On PostgreSQL the claim and the inserts are one statement; the embedded default (SQLite)
    takes the same steps one by one. Both store the same rows, and return the stored application."""
    from appointments.models import Notification

    slot = SlotFactory(office=office, capacity=3)

    def book_as(vendor):
        monkeypatch.setattr(connection, "vendor", vendor)
        try:
            application = book(applicant_user, slot, express=True)
        finally:
            monkeypatch.undo()
        row = Application.objects.filter(pk=application.pk).values().get()
        assert {f: getattr(application, Application._meta.get_field(f).attname) for f in row} == row
        assert not application._state.adding
        return (
            {
                k: v
                for k, v in row.items()
                if k not in {"id", "nik", "booking_code", "billing_code", "created_at", "updated_at", "payment_due_at"}
            },
            list(
                ApplicationEvent.objects.filter(application=application).values_list(
                    "from_status", "to_status", "actor", "reason"
                )
            ),
            list(
                Notification.objects.filter(application=application).values_list(
                    "channel", "recipient", "template", "state", "context", "attempts"
                )
            ),
        )

    in_one_statement, step_by_step = book_as("postgresql"), book_as("sqlite")
    assert in_one_statement == step_by_step
    assert in_one_statement[0]["status"] == "pending_payment" and in_one_statement[0]["amount"] == 1_950_000
    assert in_one_statement[1] == [("", "pending_payment", applicant_user.pk, "")]
    assert in_one_statement[2] == [("email", applicant_user.email, "booking_made", "pending", {}, 0)]
    slot.refresh_from_db()
    assert slot.taken == 2
