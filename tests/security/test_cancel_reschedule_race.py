"""A cancel and a reschedule of one application at the same moment, on PostgreSQL with threads.

They are served one after the other, whichever locks the application first: a cancel after a
move cancels the moved application (200), a move after a cancel is refused (409). Neither answers
500, and the places stay equal to the applications holding them.

The order is made certain, not left to chance: another connection holds a slot row that the
first request needs, so it waits while holding the application's lock; the second request is
started once the first waits, and the slot row is let go once both wait."""

import contextlib
import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from appointments.models import Application, Status
from quotas.models import Slot
from tests.api.conftest import client_for
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory

APPLICATIONS = "/api/v1/applications/"


def session(office, days_ahead):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days_ahead),
        dt.time(8),
        tzinfo=office.tzinfo,
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=5)


@contextlib.contextmanager
def slot_row_held(slot):
    """Another connection holds the slot's row locked until the block ends."""
    held, let_go = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Slot.objects.select_for_update().get(pk=slot.pk)
                held.set()
                let_go.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    try:
        yield
    finally:
        let_go.set()
        thread.join(20)


def wait_until_waiting_for_locks(count: int) -> None:
    """Until `count` connections of this test database wait for a row lock."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} connections never waited for a lock")


def start_request(send) -> tuple[threading.Thread, dict]:
    answer = {}

    def run():
        try:
            response = send()
            answer.update(status=response.status_code, body=response.json())
        except Exception as exc:  # a crash in the view: raised by the test client
            answer.update(status=500, body=repr(exc))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, answer


@pytest.fixture
def world(transactional_db):
    office = OfficeFactory()
    old, new = session(office, 3), session(office, 5)  # the move touches the lower id first
    assert old.pk < new.pk
    account = UserFactory()
    application = ApplicationFactory(account=account, slot=old, status=Status.PENDING_PAYMENT)
    api = client_for(account)
    api.raise_request_exception = True
    code = application.booking_code

    def cancel():
        return api.post(f"{APPLICATIONS}{code}/cancel/")

    def reschedule():
        return api.post(f"{APPLICATIONS}{code}/reschedule/", {"slot": new.pk}, format="json")

    return application, old, new, cancel, reschedule


def test_a_cancel_waiting_behind_a_reschedule_cancels_the_moved_application(world):
    application, old, new, cancel, reschedule = world
    with slot_row_held(new):  # the move gives the old place back, then waits to claim the new one
        moving, moved = start_request(reschedule)
        wait_until_waiting_for_locks(1)
        cancelling, cancelled = start_request(cancel)  # waits for the application's row
        wait_until_waiting_for_locks(2)
    moving.join(20)
    cancelling.join(20)

    assert moved["status"] == 200, moved
    assert cancelled["status"] == 200, cancelled
    assert cancelled["body"]["slot"]["id"] == new.pk and cancelled["body"]["status"] == "cancelled"
    application.refresh_from_db()
    assert application.status == Status.CANCELLED and application.slot_id == new.pk
    assert (Slot.objects.get(pk=old.pk).taken, Slot.objects.get(pk=new.pk).taken) == (0, 0)


def test_a_reschedule_waiting_behind_a_cancel_is_refused_with_409(world):
    application, old, new, cancel, reschedule = world
    with slot_row_held(old):  # the cancel gives the place back to the old slot
        cancelling, cancelled = start_request(cancel)
        wait_until_waiting_for_locks(1)
        moving, moved = start_request(reschedule)
        wait_until_waiting_for_locks(2)
    moving.join(20)
    cancelling.join(20)

    assert cancelled["status"] == 200, cancelled
    assert moved["status"] == 409 and moved["body"]["code"] == "reschedule_not_allowed", moved
    application.refresh_from_db()
    assert application.status == Status.CANCELLED and application.slot_id == old.pk
    assert (Slot.objects.get(pk=old.pk).taken, Slot.objects.get(pk=new.pk).taken) == (0, 0)


def test_two_moves_of_one_application_at_once_move_it_once(world):
    """A second move waiting behind the first finds it already moved: refused, not a crash."""
    application, old, new, _cancel, reschedule = world
    with slot_row_held(new):
        first, first_answer = start_request(reschedule)
        wait_until_waiting_for_locks(1)
        second, second_answer = start_request(reschedule)
        wait_until_waiting_for_locks(2)
    first.join(20)
    second.join(20)

    assert sorted([first_answer["status"], second_answer["status"]]) == [200, 409], (first_answer, second_answer)
    application.refresh_from_db()
    assert application.slot_id == new.pk and application.reschedule_count == 1
    assert (Slot.objects.get(pk=old.pk).taken, Slot.objects.get(pk=new.pk).taken) == (0, 1)
    assert Application.objects.count() == 1
