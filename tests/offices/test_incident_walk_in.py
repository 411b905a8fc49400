"""A closed office-day's two other ends (docs/incidents.md): an office-day an incident touches
served by walk-in instead of moving its applicants (switched and switched back, who may, bad
input), and a displaced applicant who never moves, cancelled at the session's start with the fee
flagged for refund."""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from allocation.services.incidents import apply_incidents
from appointments.models import Application, ApplicationEvent, Notification, Payment, Status
from appointments.outbox import render_message
from appointments.selectors import reschedule_options
from appointments.services import lifecycle
from offices.exceptions import IncidentInvalid, IncidentNotAllowed
from offices.models import Incident
from offices.services import declare_incident, withdraw_incident
from quotas.exceptions import WalkInOnly
from quotas.models import Pool, QuotaRule, Slot, WalkInDay
from quotas.selectors import DayState, office_availability
from quotas.services.claims import claim_places
from quotas.services.generation import generate_slots
from quotas.services.incidents import switch_day_back_online, switch_day_to_walk_in
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, book_one

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
PORTAL = {"message_id": "Portal M-Paspor sedang gangguan.", "message_en": "The M-Paspor portal is down."}
FLOOD = {"message_id": "Kantor tutup karena banjir.", "message_en": "The office is closed by a flood."}


def tomorrow(office) -> dt.date:
    return timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=1)


def session(office, day, pool="online", *, hour=9, capacity=5):
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=office.tzinfo)
    return SlotFactory(office=office, pool=pool, capacity=capacity, starts_at=start, ends_at=start + HOUR, date=day)


def fresh(slot) -> Slot:
    return Slot.objects.get(pk=slot.pk)


def portal_down(world) -> Incident:
    """The portal has been down nationally since an hour ago; its end is not known."""
    return declare_incident(
        actor=world.national,
        kind=Incident.Kind.PORTAL_DOWN,
        scope=Incident.Scope.ALL,
        starts_at=timezone.now() - HOUR,
        ends_at=None,
        **PORTAL,
    )


def flood(world, day) -> Incident:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=world.kediri.tzinfo)
    return declare_incident(
        actor=world.kediri_head,
        kind=Incident.Kind.OFFICE_CLOSED,
        scope=Incident.Scope.OFFICE,
        office=world.kediri,
        starts_at=start,
        ends_at=start + dt.timedelta(days=1),
        **FLOOD,
    )


@pytest.fixture
def outage(world):
    """Kediri tomorrow: an online session of 5 places with a paid booking and an unpaid hold, and
    the portal down since an hour ago."""
    day = tomorrow(world.kediri)
    online = session(world.kediri, day)
    booked = ApplicationFactory(slot=online, account=world.applicant, language="en")
    hold = ApplicationFactory(slot=online, status=Status.PENDING_PAYMENT)
    return world, portal_down(world), online, booked, hold


class TestServeByWalkIn:
    def test_the_free_online_places_go_to_the_door_and_the_applicants_keep_their_booking(self, client, outage):
        world, incident, online, booked, hold = outage
        switched = switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=online.date
        )
        now_online = fresh(online)
        walk_in = Slot.objects.get(office=world.kediri, starts_at=online.starts_at, pool=Pool.WALK_IN)
        assert (now_online.walk_in_by_id, now_online.capacity, now_online.moved_to_walk_in) == (switched.pk, 2, 3)
        assert (walk_in.capacity, walk_in.taken) == (3, 0)
        # Nobody is moved or cancelled: both keep their session.
        for application in (booked, hold):
            stored = Application.objects.get(pk=application.pk)
            assert (stored.slot_id, stored.status, stored.displaced_by_id) == (online.pk, application.status, None)
        # The day shows as a walk-in day, with the places at the door.
        (day,) = office_availability(office=world.kediri, date_from=online.date, date_to=online.date)
        assert day.state == DayState.WALK_IN and [s.available for s in day.walk_in] == [3]
        answer = client.get(reverse("api-availability", args=[world.kediri.code]), {"from": day.date, "to": day.date})
        (api_day,) = answer.json()["days"]
        assert api_day["state"] == "walk_in" and api_day["slots"] == [] and api_day["walk_in"][0]["available"] == 3
        # Told once each, in their language, with the incident's message.
        (message,) = Notification.objects.filter(application=booked, template="walk_in_day")
        subject, text = render_message(message)
        assert booked.booking_code in subject and "The M-Paspor portal is down." in text
        assert "served as booked" in text and "order of arrival" in text
        assert Notification.objects.filter(application=hold, template="walk_in_day").count() == 1
        apply_incidents()  # the minute job: nothing new
        assert Notification.objects.filter(template="walk_in_day").count() == 2
        assert ApplicationEvent.objects.filter(reason__startswith="day served by walk-in").count() == 2

    def test_nobody_books_or_moves_to_it_online_and_a_place_given_back_goes_to_the_door(self, outage):
        world, incident, online, booked, _hold = outage
        switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=online.date
        )
        with pytest.raises(WalkInOnly):
            book_one(account=UserFactory(), slot_id=online.pk)
        other_day = session(world.kediri, online.date + dt.timedelta(days=1))
        elsewhere = ApplicationFactory(slot=other_day)
        with pytest.raises(WalkInOnly):
            lifecycle.reschedule_application(application_id=elsewhere.pk, slot_id=online.pk)
        assert online.pk not in [s.pk for s in reschedule_options(application=elsewhere, now=timezone.now())]
        assert (fresh(online).taken, Application.objects.get(pk=elsewhere.pk).slot_id) == (2, other_day.pk)
        # A cancellation gives its place back to the online pool; the minute job moves it to the door.
        lifecycle.cancel_application(application_id=booked.pk, actor=world.applicant)
        apply_incidents()
        walk_in = Slot.objects.get(office=world.kediri, starts_at=online.starts_at, pool=Pool.WALK_IN)
        assert (fresh(online).capacity, fresh(online).moved_to_walk_in, walk_in.capacity) == (1, 4, 4)

    def test_switching_back_restores_the_online_places_no_walk_in_used(self, outage):
        world, incident, online, _booked, _hold = outage
        switched = switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=online.date
        )
        walk_in = Slot.objects.get(office=world.kediri, starts_at=online.starts_at, pool=Pool.WALK_IN)
        with transaction.atomic():  # a walk-in registered at the counter takes one
            claim_places(slot_id=walk_in.pk, now=timezone.now())
        switch_day_back_online(actor=world.jatim_regional, walk_in_day_id=switched.pk)
        assert (fresh(online).walk_in_by_id, fresh(online).capacity, fresh(online).moved_to_walk_in) == (None, 4, 1)
        assert (fresh(walk_in).capacity, fresh(walk_in).taken) == (1, 1)
        (day,) = office_availability(office=world.kediri, date_from=online.date, date_to=online.date)
        assert day.state == DayState.FREE
        book_one(account=UserFactory(), slot_id=online.pk)
        # Audited: the switch and its end, each with who made it.
        versions = WalkInDay.history.filter(id=switched.pk).order_by("history_id")
        assert [v.history_user for v in versions] == [world.kediri_head, world.jatim_regional]
        assert WalkInDay.objects.get(pk=switched.pk).switched_back_at is not None

    def test_a_withdrawn_incident_takes_its_walk_in_day_back_and_another_may_switch_it(self, outage):
        world, incident, online, _booked, _hold = outage
        first = switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=online.date
        )
        withdraw_incident(actor=world.national, incident_id=incident.pk)
        assert (fresh(online).walk_in_by_id, fresh(online).capacity, fresh(online).moved_to_walk_in) == (None, 5, 0)
        again = switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=portal_down(world).pk, office_id=world.kediri.pk, date=online.date
        )
        assert WalkInDay.objects.get(pk=first.pk).switched_back_at is not None
        assert (fresh(online).walk_in_by_id, fresh(online).capacity) == (again.pk, 2)

    def test_the_nightly_slot_generation_keeps_the_places_at_the_door(self, outage):
        world, incident, online, _booked, _hold = outage
        QuotaRule.objects.create(
            office=world.kediri,
            weekday=online.date.weekday(),
            start_time=dt.time(9),
            end_time=dt.time(10),
            online_capacity=5,
            valid_from=online.date,
        )
        switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=online.date
        )
        generate_slots(office=world.kediri, date_from=online.date, date_to=online.date)
        walk_in = Slot.objects.get(office=world.kediri, starts_at=online.starts_at, pool=Pool.WALK_IN)
        assert (fresh(online).capacity, walk_in.capacity) == (2, 3)

    def test_a_closure_lifted_for_walk_ins_opens_the_day_and_switched_back_closes_it_again(self, world):
        day = tomorrow(world.kediri)
        online = session(world.kediri, day)
        applicant = ApplicationFactory(slot=online, account=world.applicant)
        incident = flood(world, day)
        assert Application.objects.get(pk=applicant.pk).displaced_by_id == incident.pk
        switched = switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=day
        )
        assert (fresh(online).closed_by_id, fresh(online).walk_in_by_id) == (None, switched.pk)
        assert Application.objects.get(pk=applicant.pk).displaced_by_id is None
        assert Notification.objects.filter(application=applicant, template="walk_in_day").count() == 1
        switch_day_back_online(actor=world.kediri_head, walk_in_day_id=switched.pk)
        assert fresh(online).closed_by_id == incident.pk and fresh(online).capacity == 5
        assert Application.objects.get(pk=applicant.pk).displaced_by_id == incident.pk


class TestWhoSwitches:
    @pytest.mark.parametrize(
        "who, allowed",
        [
            ("kediri_head", True),
            ("jatim_regional", True),
            ("national", True),
            ("kediri_officer", False),
            ("malang_head", False),
            ("bali_regional", False),
            ("applicant", False),
        ],
    )
    def test_whoever_may_declare_an_incident_for_the_office(self, outage, who, allowed):
        world, incident, online, _booked, _hold = outage
        actor = getattr(world, who)
        switch = {"incident_id": incident.pk, "office_id": world.kediri.pk, "date": online.date}
        if allowed:
            assert switch_day_to_walk_in(actor=actor, **switch).switched_by == actor
            return
        with pytest.raises(IncidentNotAllowed):
            switch_day_to_walk_in(actor=actor, **switch)
        assert not WalkInDay.objects.exists()
        assert (fresh(online).walk_in_by_id, fresh(online).capacity) == (None, 5)
        assert not Slot.objects.filter(pool=Pool.WALK_IN).exists()

    def test_another_office_s_head_cannot_switch_it_back(self, outage):
        world, incident, online, _booked, _hold = outage
        switched = switch_day_to_walk_in(
            actor=world.kediri_head, incident_id=incident.pk, office_id=world.kediri.pk, date=online.date
        )
        with pytest.raises(IncidentNotAllowed):
            switch_day_back_online(actor=world.malang_head, walk_in_day_id=switched.pk)
        assert WalkInDay.objects.get(pk=switched.pk).switched_back_at is None
        assert fresh(online).walk_in_by_id == switched.pk


class TestBadInput:
    @pytest.mark.parametrize(
        "case, field",
        [
            ("withdrawn", "incident"),
            ("not_covered", "office"),
            ("yesterday", "date"),
            ("not_touched", "date"),
            ("no_online_session", "date"),
            ("already", "date"),
            ("no_date", "date"),
        ],
    )
    def test_refused_with_a_translated_error_and_nothing_changed(self, world, case, field):
        day = tomorrow(world.kediri)
        online = session(world.kediri, day)
        incident = portal_down(world)
        switch = {"incident_id": incident.pk, "office_id": world.kediri.pk, "date": day}
        if case == "withdrawn":
            withdraw_incident(actor=world.national, incident_id=incident.pk)
        elif case == "not_covered":
            switch["incident_id"] = declare_incident(
                actor=world.national,
                kind=Incident.Kind.PORTAL_DOWN,
                scope=Incident.Scope.OFFICE,
                office=world.malang,
                starts_at=timezone.now() - HOUR,
                **PORTAL,
            ).pk
        elif case == "yesterday":
            switch["date"] = day - dt.timedelta(days=2)
        elif case == "not_touched":
            switch["incident_id"] = declare_incident(
                actor=world.national,
                kind=Incident.Kind.PORTAL_DOWN,
                scope=Incident.Scope.ALL,
                starts_at=timezone.now() - 2 * HOUR,
                ends_at=timezone.now() - HOUR,
                **PORTAL,
            ).pk
            switch["date"] = day + dt.timedelta(days=1)
        elif case == "no_online_session":
            switch["date"] = day + dt.timedelta(days=1)
        elif case == "already":
            switch_day_to_walk_in(actor=world.kediri_head, **switch)
        elif case == "no_date":
            switch["date"] = None
        before = (WalkInDay.objects.count(), fresh(online).capacity, fresh(online).walk_in_by_id)
        messages = {}
        for language in ("id", "en"):
            with translation.override(language), pytest.raises(IncidentInvalid) as refused:
                switch_day_to_walk_in(actor=world.kediri_head, **switch)
            messages[language] = refused.value.message
        assert refused.value.field == field and messages["id"] and messages["id"] != messages["en"]
        assert (WalkInDay.objects.count(), fresh(online).capacity, fresh(online).walk_in_by_id) == before
        if case != "already":
            assert not Slot.objects.filter(pool=Pool.WALK_IN).exists()


class TestStaffScreen:
    ADD = "/admin/quotas/walkinday/add/"

    def test_the_head_switches_from_the_incident_s_page_and_switches_back_with_the_action(self, client, outage):
        world, incident, online, _booked, _hold = outage
        client.force_login(world.kediri_head)
        page = client.get(f"/admin/offices/incident/{incident.pk}/change/").content.decode()
        assert f"{self.ADD}?incident={incident.pk}" in page and "walk-in" in page
        form = client.get(f"{self.ADD}?incident={incident.pk}").context["adminform"].form
        assert list(form.fields["office"].queryset) == [world.kediri]
        answer = client.post(
            self.ADD, {"incident": incident.pk, "office": world.kediri.pk, "date": online.date.isoformat()}
        )
        assert answer.status_code == 302
        switched = WalkInDay.objects.get()
        assert switched.switched_by == world.kediri_head and fresh(online).walk_in_by_id == switched.pk
        client.post(
            "/admin/quotas/walkinday/",
            {"action": "switch_back", "_selected_action": [switched.pk]},
        )
        assert WalkInDay.objects.get().switched_back_at is not None and fresh(online).capacity == 5

    def test_a_refused_day_shows_the_error_and_stores_nothing(self, client, outage):
        world, incident, online, _booked, _hold = outage
        client.force_login(world.kediri_head)
        yesterday = online.date - dt.timedelta(days=2)
        answer = client.post(self.ADD, {"incident": incident.pk, "office": world.kediri.pk, "date": yesterday})
        assert answer.status_code == 200 and answer.context["adminform"].form.errors["date"]
        assert not WalkInDay.objects.exists() and fresh(online).capacity == 5
        client.force_login(world.kediri_officer)
        assert client.get(self.ADD).status_code == 403


class TestDisplacedWhoNeverMoves:
    @pytest.fixture
    def closed(self, world):
        day = tomorrow(world.kediri)
        online = session(world.kediri, day)
        paid = ApplicationFactory(slot=online, account=world.applicant, paid_at=timezone.now())
        Payment.objects.create(
            application=paid, transaction_id="TX-1", gateway="dev", amount=paid.amount, paid_at=timezone.now()
        )
        unpaid = ApplicationFactory(slot=online, status=Status.PENDING_PAYMENT)
        moved = ApplicationFactory(slot=online)
        flood(world, day)
        later = session(world.kediri, day + dt.timedelta(days=1))
        lifecycle.reschedule_application(application_id=moved.pk, slot_id=later.pk)
        return world, online, paid, unpaid, moved

    def test_cancelled_at_the_session_s_start_with_the_fee_flagged_for_refund(self, closed):
        world, online, paid, unpaid, moved = closed
        apply_incidents(now=online.starts_at - dt.timedelta(minutes=1))
        assert Application.objects.get(pk=paid.pk).status == Status.BOOKED  # still time to move
        apply_incidents(now=online.starts_at)
        assert Application.objects.get(pk=paid.pk).status == Status.CANCELLED
        assert Application.objects.get(pk=unpaid.pk).status == Status.CANCELLED
        assert Application.objects.get(pk=moved.pk).status == Status.BOOKED
        assert Payment.objects.get(application=paid).refund_due
        assert fresh(online).taken == 0
        (message,) = Notification.objects.filter(application=paid, template="cancelled")
        _subject, text = render_message(message)
        assert "tutup pada hari itu" in text and "dikembalikan" in text  # closed that day; refunded
        (unpaid_message,) = Notification.objects.filter(application=unpaid, template="cancelled")
        assert "dikembalikan" not in render_message(unpaid_message)[1]  # nothing was paid
        event = ApplicationEvent.objects.get(application=paid, to_status=Status.CANCELLED)
        assert "no other day chosen" in event.reason
        apply_incidents(now=online.starts_at + HOUR)  # again: nothing more
        assert Notification.objects.filter(application=paid, template="cancelled").count() == 1
        # The NIK is free for a new booking.
        book_one(account=world.applicant, slot_id=session(world.kediri, online.date + dt.timedelta(days=2)).pk)

    def test_not_a_no_show_and_never_before_the_start(self, closed):
        _world, online, paid, _unpaid, _moved = closed
        assert lifecycle.mark_no_shows(now=online.starts_at - dt.timedelta(minutes=1)) == 0
        assert Application.objects.get(pk=paid.pk).status == Status.BOOKED
        assert not Payment.objects.get(application=paid).refund_due


@pytest.mark.django_db(transaction=True)
def test_recomputations_of_what_incidents_give_run_one_after_the_other():
    """The minute job and a staff change both recompute from what they read: one waits for the
    other's commit, so neither undoes a switch the other has just made."""
    import threading

    from django.db import connection

    started, finished = threading.Event(), threading.Event()

    def second():
        started.set()
        apply_incidents()
        finished.set()
        connection.close()

    with transaction.atomic():
        apply_incidents()
        other = threading.Thread(target=second)
        other.start()
        started.wait()
        assert not finished.wait(timeout=0.5)  # it waits for this transaction
    other.join(timeout=10)
    assert finished.is_set()
