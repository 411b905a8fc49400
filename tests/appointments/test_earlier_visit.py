"""Coming earlier: a booked household asks to be moved into the first free place from a date on;
places given back move the households that asked, first asked first, together or not at all."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from allocation.services.offers import sweep_offers
from allocation.services.waiting import join_waiting_list
from appointments.exceptions import ApplicationNotFound, EarlierNotAllowed, InvalidInput
from appointments.models import Application, Notification, Status
from appointments.services import earlier
from appointments.services.booking import PersonBooking
from appointments.services.earlier import ask_earlier, move_earlier_into, stop_earlier
from appointments.services.lifecycle import cancel_application, change_status, reschedule_application
from offices.models import Incident
from quotas.models import Pool, Slot
from tests.appointments.test_reschedule_cancel import assert_places_match_applications, session
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db


def today(office) -> dt.date:
    return timezone.now().astimezone(office.tzinfo).date()


def booked(slot, account=None, **fields) -> Application:
    return ApplicationFactory(slot=slot, account=account or UserFactory(), **fields)


def ask(application, days_ahead=1, **kwargs) -> list[Application]:
    office = application.slot.office
    return ask_earlier(
        application_id=application.pk,
        account=application.account,
        date_from=today(office) + dt.timedelta(days=days_ahead),
        **kwargs,
    )


def cancel(application, capture):
    """Cancel, and run what the commit sends (the give-back's task, eager here)."""
    with capture(execute=True):
        cancel_application(application_id=application.pk)


def past_incident(office) -> Incident:
    """An incident over before the test starts: a foreign key to point at, with nothing to recompute."""
    return Incident.objects.create(
        kind=Incident.Kind.PAYMENT_DOWN,
        scope=Incident.Scope.OFFICE,
        office=office,
        starts_at=timezone.now() - dt.timedelta(hours=2),
        ends_at=timezone.now() - dt.timedelta(hours=1),
        message_id="Gangguan.",
        message_en="An outage.",
    )


def slot_of(application) -> Slot:
    return Application.objects.get(pk=application.pk).slot


class TestAsking:
    def test_a_household_asks_together_and_waits_when_nothing_is_free(self, office):
        early, late = session(office, 2, capacity=1), session(office, 6)
        booked(early)
        account = UserFactory()
        mother, child = booked(late, account), booked(late, account)
        elsewhere = booked(session(office, 7), account)  # the same account's other session: not asked

        household = ask(mother)

        assert [a.pk for a in household] == [mother.pk, child.pk]
        assert all(a.earlier_from == today(office) + dt.timedelta(days=1) and a.slot_id == late.pk for a in household)
        assert Application.objects.get(pk=elsewhere.pk).earlier_from is None

    def test_a_free_place_in_the_range_moves_the_household_at_once(self, office):
        before, wanted, late = session(office, 1), session(office, 3), session(office, 6)
        application = booked(late)

        (moved,) = ask(application, days_ahead=2)

        assert moved.slot_id == wanted.pk and moved.earlier_from is None  # tomorrow's is before the range
        assert moved.reschedule_count == 0  # the one change of date is still there
        assert (Slot.objects.get(pk=before.pk).taken, Slot.objects.get(pk=late.pk).taken) == (0, 0)
        event = moved.events.latest("id")
        assert event.reason.startswith("moved_earlier from") and event.to_status == Status.BOOKED
        assert Notification.objects.filter(application=moved, template="moved_earlier").exists()
        reschedule_application(application_id=moved.pk, slot_id=late.pk)  # still allowed once
        assert_places_match_applications()

    def test_asking_again_changes_the_date_and_keeps_the_place_in_line(self, office):
        application = booked(session(office, 6))
        session(office, 2, capacity=1, taken=1)
        (first,) = ask(application, days_ahead=1)
        (again,) = ask(application, days_ahead=3)
        assert again.earlier_asked_at == first.earlier_asked_at
        assert again.earlier_from == today(office) + dt.timedelta(days=3)

    @pytest.mark.parametrize(
        "setup, days_ahead, error",
        [
            ("pending", 1, EarlierNotAllowed),
            ("visit_tomorrow", 1, EarlierNotAllowed),
            ("displaced", 1, EarlierNotAllowed),
            ("booked", 0, InvalidInput),  # today
            ("booked", 6, InvalidInput),  # the visit's own date
            ("booked", 9, InvalidInput),  # after the visit
            ("someone_elses", 1, ApplicationNotFound),
        ],
    )
    def test_refusals_change_nothing(self, office, setup, days_ahead, error):
        session(office, 2)  # a free place that a wrongly accepted request would take
        days = 1 if setup == "visit_tomorrow" else 6
        application = booked(
            session(office, days, capacity=1), status=Status.PENDING_PAYMENT if setup == "pending" else Status.BOOKED
        )
        if setup == "displaced":
            Application.objects.filter(pk=application.pk).update(displaced_by=past_incident(office))
        account = UserFactory() if setup == "someone_elses" else application.account
        with pytest.raises(error):
            ask_earlier(
                application_id=application.pk,
                account=account,
                date_from=today(office) + dt.timedelta(days=days_ahead),
            )
        application.refresh_from_db()
        assert application.earlier_from is None and application.slot.date == today(office) + dt.timedelta(days=days)

    def test_a_date_that_is_not_a_date_is_refused(self, office):
        application = booked(session(office, 6))
        with pytest.raises(InvalidInput) as refused:
            ask_earlier(application_id=application.pk, account=application.account, date_from="2026-12-01")
        assert refused.value.field == "date_from"

    def test_stopping_ends_the_households_request(self, office, django_capture_on_commit_callbacks):
        early = session(office, 2, capacity=1)
        holder = booked(early)
        account = UserFactory()
        household = [booked(session_late := session(office, 6), account), booked(session_late, account)]
        ask(household[0])

        assert stop_earlier(application_id=household[1].pk, account=account) == 2
        cancel(holder, django_capture_on_commit_callbacks)

        assert [slot_of(a).pk for a in household] == [session_late.pk, session_late.pk]
        assert Slot.objects.get(pk=early.pk).taken == 0

    def test_a_status_change_ends_the_request(self, office):
        application = booked(session(office, 6))
        session(office, 2, capacity=1, taken=1)
        ask(application)
        change_status(application_id=application.pk, to=Status.CANCELLED)
        application.refresh_from_db()
        assert application.earlier_from is None and application.earlier_asked_at is None


class TestPlacesGivenBack:
    def test_first_asked_first_moved_and_the_place_left_moves_the_next(
        self, office, django_capture_on_commit_callbacks
    ):
        first_day, second_day, third_day = session(office, 2, capacity=1), session(office, 4), session(office, 6)
        holder = booked(first_day)
        second = booked(third_day)
        first = booked(second_day)
        ask(first)
        ask(second)

        cancel(holder, django_capture_on_commit_callbacks)

        # The first asker takes the freed place; the place it left moves the second asker.
        assert slot_of(first).pk == first_day.pk
        assert slot_of(second).pk == second_day.pk
        assert Slot.objects.get(pk=third_day.pk).taken == 0
        assert_places_match_applications()

    def test_a_household_moves_whole_or_lets_a_smaller_one_pass(self, office, django_capture_on_commit_callbacks):
        early = session(office, 2, capacity=2)
        holders = [booked(early), booked(early)]
        family_account = UserFactory()
        late = session(office, 6)
        family = [booked(late, family_account) for _ in range(3)]
        single = booked(session(office, 5, capacity=1))
        ask(family[0])
        ask(single)

        cancel(holders[0], django_capture_on_commit_callbacks)

        assert [slot_of(a).pk for a in family] == [late.pk] * 3  # three do not fit in one place
        assert slot_of(single).pk == early.pk
        cancel(holders[1], django_capture_on_commit_callbacks)
        assert [slot_of(a).pk for a in family] == [late.pk] * 3
        assert_places_match_applications()

    def test_a_household_needing_a_same_day_place_the_day_lacks_lets_the_next_one_pass(self, office):
        early = session(office, 2, capacity=0)
        SlotFactory(  # the day's same-day places: none left
            office=office,
            pool=Pool.EXPRESS,
            capacity=0,
            starts_at=dt.datetime.combine(early.date, dt.time(0), tzinfo=office.tzinfo),
            ends_at=dt.datetime.combine(early.date, dt.time(12), tzinfo=office.tzinfo),
            date=early.date,
        )
        same_day = booked(session(office, 6), express=True)
        regular = booked(session(office, 5, capacity=1))
        ask(same_day)
        ask(regular)
        Slot.objects.filter(pk=early.pk).update(capacity=1)

        # Places are looked at again and again (every give-back, the sweep): the first in line, who
        # cannot take this one, must not keep it from everyone behind.
        assert move_earlier_into(slot_id=early.pk) == 1
        assert (slot_of(same_day).date, slot_of(regular).pk) == (today(office) + dt.timedelta(days=6), early.pk)
        assert_places_match_applications()

    def test_a_household_asking_again_keeps_its_first_place_in_line_whole(self, office, monkeypatch):
        # One account's two people on one session: the second was booked later and the household
        # asked again then. Both stand where the first asked, so the line's read sees them together.
        monkeypatch.setattr(earlier, "HOUSEHOLDS_PER_SESSION", 1)  # households looked at: the first 5 people
        early, late = session(office, 2, capacity=0), session(office, 6)
        account = UserFactory()
        first_member = booked(late, account)
        ask(first_member)
        others = [booked(late) for _ in range(4)]
        for other in others:
            ask(other)
        second_member = booked(late, account)
        ask(second_member)  # the household asks again: the first keeps its place in line
        Slot.objects.filter(pk=early.pk).update(capacity=2)

        assert move_earlier_into(slot_id=early.pk) == 2
        assert slot_of(first_member).pk == slot_of(second_member).pk == early.pk
        assert_places_match_applications()

    def test_the_waiting_list_comes_first(self, office, django_capture_on_commit_callbacks):
        early = session(office, 2, capacity=1)
        holder = booked(early)
        mover = booked(session(office, 6))
        ask(mover)
        join_waiting_list(
            account=UserFactory(),
            office_id=office.pk,
            date_from=early.date,
            date_to=early.date,
            people=[PersonBooking(applicant=applicant_data(), passport_type="regular", validity_years=5, kind="new")],
        )

        cancel(holder, django_capture_on_commit_callbacks)

        assert slot_of(mover).date == today(office) + dt.timedelta(days=6)
        assert Slot.objects.get(pk=early.pk).held == 1  # offered to the household that waits

    def test_nobody_is_moved_into_a_session_too_soon_closed_or_not_for_their_kind(self, office):
        mover = booked(session(office, 6), kind="replacement_full")
        ask(mover)
        today_ = session(office, 0, hour=23)
        closed = session(office, 2)
        Slot.objects.filter(pk=closed.pk).update(closed_by=past_incident(office))
        other_kind = session(office, 3, allowed_kinds=["new"])
        not_open = session(office, 4, opens_at=timezone.now() + dt.timedelta(days=1))
        for slot in (today_, closed, other_kind, not_open):
            assert move_earlier_into(slot_id=slot.pk) == 0
        assert slot_of(mover).date == today(office) + dt.timedelta(days=6)

    def test_the_age_rule_holds_on_the_earlier_date(self, office):
        # Turns 17 on the visit's date: a 10-year passport on that date, not a day earlier.
        visit = session(office, 6)
        birth = visit.date.replace(year=visit.date.year - 17)
        mover = booked(visit, validity_years=10, birth_date=birth)
        ask(mover)
        assert move_earlier_into(slot_id=session(office, 3).pk) == 0
        assert slot_of(mover).pk == visit.pk

    def test_the_sweep_moves_into_places_staff_added(self, office):
        early = session(office, 2, capacity=1, taken=1)
        mover = booked(session(office, 6))
        ask(mover)
        Slot.objects.filter(pk=early.pk).update(capacity=2)

        assert sweep_offers()["moved_earlier"] == 1
        assert slot_of(mover).pk == early.pk


@pytest.mark.django_db(transaction=True)
def test_two_moves_racing_for_one_place_move_one_household(office):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    early = session(office, 2, capacity=0)
    movers = [booked(session(office, 5 + n)) for n in range(2)]
    for mover in movers:
        ask(mover)
    Slot.objects.filter(pk=early.pk).update(capacity=1)
    barrier, moved = threading.Barrier(2), []

    def run():
        barrier.wait()
        moved.append(move_earlier_into(slot_id=early.pk))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(moved) == [0, 1]
    assert Slot.objects.get(pk=early.pk).taken == 1
    assert_places_match_applications()


class TestWhenTheRequestEnds:
    def test_a_member_who_pays_after_the_household_asked_joins_it(self, office, django_capture_on_commit_callbacks):
        early, late = session(office, 2, capacity=0), session(office, 6)
        account = UserFactory()
        paid, unpaid = booked(late, account), booked(late, account, status=Status.PENDING_PAYMENT)
        ask(paid)
        change_status(application_id=unpaid.pk, to=Status.BOOKED)  # the payment of the second bill

        assert Application.objects.get(pk=unpaid.pk).earlier_from == Application.objects.get(pk=paid.pk).earlier_from
        Slot.objects.filter(pk=early.pk).update(capacity=2)
        assert move_earlier_into(slot_id=early.pk) == 2
        assert slot_of(paid).pk == slot_of(unpaid).pk == early.pk
        assert_places_match_applications()

    def test_a_household_that_is_not_the_one_read_is_not_moved(self, office):
        early, late = session(office, 2, capacity=0), session(office, 6)
        account = UserFactory()
        asking = booked(late, account)
        ask(asking)
        booked(late, account)  # booked (paid) since, straight in the database: not in the request
        Slot.objects.filter(pk=early.pk).update(capacity=2)

        assert move_earlier_into(slot_id=early.pk) == 0
        assert slot_of(asking).pk == late.pk
        assert_places_match_applications()

    def test_a_change_of_date_by_hand_ends_the_request(self, office):
        early, late, later = session(office, 2, capacity=0), session(office, 5), session(office, 7)
        application = booked(late)
        ask(application)
        reschedule_application(application_id=application.pk, slot_id=later.pk)
        Slot.objects.filter(pk=early.pk).update(capacity=1)

        assert Application.objects.get(pk=application.pk).earlier_from is None
        assert move_earlier_into(slot_id=early.pk) == 0
        assert slot_of(application).pk == later.pk

    def test_a_session_an_incident_closed_ends_the_request(self, office):
        from appointments.services.incidents import displace_applications

        late = session(office, 6)
        application = booked(late)
        session(office, 2, capacity=1, taken=1)
        ask(application)
        Slot.objects.filter(pk=late.pk).update(closed_by=past_incident(office))

        displace_applications()

        application.refresh_from_db()
        assert application.displaced_by_id and application.earlier_from is None

    @pytest.mark.parametrize("hour, moved", [(17, 1), (18, 0), (23, 0)])
    def test_into_tomorrow_only_before_the_evening(self, office, hour, moved):
        local_today = today(office)
        now = dt.datetime.combine(local_today, dt.time(hour, 30 if hour == 17 else 0), tzinfo=office.tzinfo)
        tomorrow = SlotFactory(
            office=office,
            starts_at=dt.datetime.combine(local_today + dt.timedelta(days=1), dt.time(13), tzinfo=office.tzinfo),
            date=local_today + dt.timedelta(days=1),
            capacity=1,
            opens_at=now - dt.timedelta(days=1),
        )
        application = booked(session(office, 6))
        Application.objects.filter(pk=application.pk).update(
            earlier_from=local_today + dt.timedelta(days=1), earlier_asked_at=now
        )

        assert move_earlier_into(slot_id=tomorrow.pk, now=now) == moved


def test_an_express_move_takes_its_same_day_place_along(office):
    early, late = session(office, 2), session(office, 6)
    days = {
        day: SlotFactory(
            office=office,
            pool=Pool.EXPRESS,
            capacity=5,
            starts_at=dt.datetime.combine(day, dt.time(0), tzinfo=office.tzinfo),
            ends_at=dt.datetime.combine(day, dt.time(12), tzinfo=office.tzinfo),
            date=day,
        )
        for day in (early.date, late.date)
    }
    Slot.objects.filter(pk=days[late.date].pk).update(taken=1)  # the applicant's same-day place
    application = booked(late, express=True)

    ask(application, days_ahead=2)

    assert slot_of(application).pk == early.pk
    assert [Slot.objects.get(pk=days[d].pk).taken for d in (early.date, late.date)] == [1, 0]
