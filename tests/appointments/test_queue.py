"""The day's queue: checked-in people wait by number, desks call the next one (never the same
person twice at once), recall, served (the application moves on) or no answer; the waiting-room
screen shows numbers and desks only, at an unguessable address."""

import datetime as dt
import threading

import pytest
from django.db import connection

from appointments.exceptions import InvalidInput, QueueActionNotAllowed
from appointments.models import Application, ApplicationEvent, Status
from appointments.services.counter import check_in_application, register_walk_in
from appointments.services.lifecycle import change_status
from appointments.services.queue import (
    call_next,
    mark_no_answer,
    mark_served,
    recall,
)
from tests.factories import ApplicationFactory, OfficeFactory, applicant_data
from tests.staff_world import today_slot


def checked_in(slot, name="Dewi Lestari"):
    application = ApplicationFactory(slot=slot, full_name=name)
    return check_in_application(application_id=application.pk)


def walk_in(office, slot, name="Mbah Sastro"):
    return register_walk_in(
        office_id=office.pk,
        slot_id=slot.pk,
        applicant=applicant_data(birth_date=dt.date(1950, 3, 2), full_name=name),
        kind="new",
        priority_group="elderly",
        passport_type="regular",
        validity_years=5,
    )


@pytest.fixture
def kediri(world):
    world.kediri.counter_count = 3
    world.kediri.save(update_fields=["counter_count"])
    return world.kediri


@pytest.mark.django_db
class TestDesks:
    def test_call_next_takes_people_in_check_in_order_across_both_series(self, world, kediri):
        online = today_slot(kediri)
        priority = today_slot(kediri, pool="priority", capacity=3, start=online.starts_at)
        first = checked_in(online, "Pertama")
        walked_in = walk_in(kediri, priority)
        second = checked_in(online, "Kedua")
        calls = [call_next(office_id=kediri.pk, desk=desk, actor=world.kediri_officer) for desk in (2, 1, 3)]
        assert [(c.pk, c.queue_number, c.desk) for c in calls] == [
            (first.pk, "A-001", 2),
            (walked_in.pk, "B-001", 1),
            (second.pk, "A-002", 3),
        ]
        assert call_next(office_id=kediri.pk, desk=1) is None  # nobody waits
        stored = Application.objects.get(pk=first.pk)
        assert (stored.queue_state, stored.desk, stored.status) == ("called", 2, Status.CHECKED_IN)
        assert stored.called_at is not None
        assert not ApplicationEvent.objects.filter(application=first, to_status=Status.IN_PROCESS).exists()

    def test_served_moves_the_application_on_with_its_event(self, world, kediri):
        application = checked_in(today_slot(kediri))
        call_next(office_id=kediri.pk, desk=2)
        served = mark_served(application_id=application.pk, office_id=kediri.pk, actor=world.kediri_officer)
        assert (served.queue_state, served.status) == ("served", Status.IN_PROCESS) and served.served_at
        event = ApplicationEvent.objects.filter(application=application).latest("id")
        assert (event.from_status, event.to_status, event.actor, event.reason) == (
            Status.CHECKED_IN,
            Status.IN_PROCESS,
            world.kediri_officer,
            "served at desk 2",
        )
        with pytest.raises(QueueActionNotAllowed):
            mark_served(application_id=application.pk, office_id=kediri.pk)

    def test_no_answer_sets_aside_and_a_desk_calls_again(self, kediri):
        application = checked_in(today_slot(kediri))
        with pytest.raises(QueueActionNotAllowed):  # waiting, not called yet
            mark_no_answer(application_id=application.pk, office_id=kediri.pk)
        with pytest.raises(QueueActionNotAllowed):
            recall(application_id=application.pk, office_id=kediri.pk, desk=1)
        call_next(office_id=kediri.pk, desk=1)
        missed = mark_no_answer(application_id=application.pk, office_id=kediri.pk)
        assert (missed.queue_state, missed.status) == ("no_answer", Status.CHECKED_IN)
        assert call_next(office_id=kediri.pk, desk=1) is None  # set aside, not waiting
        back = recall(application_id=application.pk, office_id=kediri.pk, desk=3)
        assert (back.queue_state, back.desk) == ("called", 3)
        again = recall(application_id=application.pk, office_id=kediri.pk, desk=3)
        assert again.called_at >= back.called_at

    def test_refusals(self, world, kediri):
        waiting = checked_in(today_slot(kediri))
        with pytest.raises(InvalidInput):
            call_next(office_id=kediri.pk, desk=4)  # Kediri has three desks
        with pytest.raises(InvalidInput):
            call_next(office_id=kediri.pk, desk=0)
        malang = checked_in(today_slot(world.malang))
        call_next(office_id=world.malang.pk, desk=1)
        with pytest.raises(QueueActionNotAllowed):  # another office's number
            mark_served(application_id=malang.pk, office_id=kediri.pk)
        with pytest.raises(QueueActionNotAllowed):  # booked, never checked in
            recall(application_id=world.kediri_app.pk, office_id=kediri.pk, desk=1)
        change_status(application_id=waiting.pk, to=Status.CANCELLED)  # cancelled by staff meanwhile
        assert call_next(office_id=kediri.pk, desk=1) is None

    def test_an_office_without_counters_set_has_one_desk(self, world):
        checked_in(today_slot(world.malang))
        assert call_next(office_id=world.malang.pk, desk=1).desk == 1
        with pytest.raises(InvalidInput):
            call_next(office_id=world.malang.pk, desk=2)


@pytest.mark.django_db(transaction=True)
def test_desks_calling_at_the_same_moment_never_get_the_same_person():
    office = OfficeFactory(counter_count=10)
    slot = today_slot(office, capacity=20)
    waiting = {checked_in(slot, f"Pemohon {n}").pk for n in range(6)}
    barrier = threading.Barrier(10)
    called, errors = [], []

    def press(desk):
        try:
            barrier.wait()
            application = call_next(office_id=office.pk, desk=desk)
            called.append(application.pk if application else None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(desk,)) for desk in range(1, 11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    people = [pk for pk in called if pk is not None]
    assert sorted(people) == sorted(waiting)  # each waiting person called once, nobody twice
    assert called.count(None) == 4
    desks = Application.objects.filter(pk__in=waiting).values_list("desk", flat=True)
    assert len(set(desks)) == 6
