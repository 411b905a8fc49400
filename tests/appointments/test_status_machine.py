"""Every allowed and every forbidden transition of ALLOWED_TRANSITIONS, and their events."""

import itertools

import pytest

from appointments.exceptions import TransitionNotAllowed
from appointments.models import RELEASED_STATUSES, Application, ApplicationEvent, Status
from appointments.services.lifecycle import ALLOWED_TRANSITIONS, change_status
from quotas.models import Slot
from tests.factories import ApplicationFactory, UserFactory

ALL_PAIRS = list(itertools.product(Status.values, Status.values))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED_TRANSITIONS[Status(a)]]
FORBIDDEN = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED_TRANSITIONS[Status(a)]]


def test_the_table_covers_every_status_and_matches_the_domain():
    assert set(ALLOWED_TRANSITIONS) == set(Status)
    # An application's whole life: pay, come, be served, approved, printed, collected.
    for step in [
        ("pending_payment", "booked"),
        ("booked", "checked_in"),
        ("checked_in", "in_process"),
        ("in_process", "approved"),
        ("approved", "issued"),
        ("issued", "collected"),
    ]:
        assert step in ALLOWED
    # Final statuses go nowhere.
    for final in ("collected", "cancelled", "expired", "no_show", "rejected"):
        assert not ALLOWED_TRANSITIONS[Status(final)]
    assert len(ALLOWED) + len(FORBIDDEN) == len(Status) ** 2


@pytest.mark.django_db
@pytest.mark.parametrize("current, target", ALLOWED)
def test_allowed_transition_changes_status_leaves_event_and_keeps_places(current, target):
    officer = UserFactory(is_staff=True)
    application = ApplicationFactory(status=current)
    taken_before = Slot.objects.get(pk=application.slot_id).taken

    change_status(application_id=application.pk, to=target, actor=officer, reason="test reason")

    application.refresh_from_db()
    assert application.status == target
    event = ApplicationEvent.objects.filter(application=application).latest("id")
    assert (event.from_status, event.to_status, event.actor, event.reason) == (current, target, officer, "test reason")
    assert event.at is not None
    released = target in RELEASED_STATUSES and current not in RELEASED_STATUSES
    assert Slot.objects.get(pk=application.slot_id).taken == taken_before - (1 if released else 0)


@pytest.mark.django_db
@pytest.mark.parametrize("current, target", FORBIDDEN)
def test_forbidden_transition_is_refused_and_changes_nothing(current, target):
    application = ApplicationFactory(status=current)
    taken_before = Slot.objects.get(pk=application.slot_id).taken

    with pytest.raises(TransitionNotAllowed) as refusal:
        change_status(application_id=application.pk, to=target)

    assert refusal.value.code == "transition_not_allowed"
    assert Application.objects.get(pk=application.pk).status == current
    assert not ApplicationEvent.objects.filter(application=application).exists()
    assert Slot.objects.get(pk=application.slot_id).taken == taken_before
