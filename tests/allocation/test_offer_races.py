"""Races on PostgreSQL: places given back and offers answered at the same moment never give one
place twice, one person two offers, or a count that drifts."""

import datetime as dt
import threading

import pytest
from django.db import connection

from allocation.exceptions import OfferExpired
from allocation.models import Offer, Waiting
from allocation.services.offers import accept_offer, leave_waiting_list, offer_held_places, sweep_offers
from allocation.services.waiting import recount_waiting_lists
from appointments.models import Application, Status
from appointments.services.lifecycle import cancel_application
from appointments.services.reconciliation import reconcile_slot_counts
from quotas.models import Slot, SlotDrift
from tests.allocation.test_waiting_list import full_slot, join
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*actions):
    """Run the actions in threads released at once; each outcome is its result or its error."""
    start = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        try:
            start.wait()
            outcomes[i] = action()
        except Exception as exc:  # noqa: BLE001 - the test looks at every outcome
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_places_given_back_for_two_households_give_each_one_place_once(office):
    slot, applications = full_slot(office, capacity=2)
    households = [join(slot), join(slot)]
    # Both cancellations commit at once; each one's offer task runs as it commits (eager).
    run_together(*[lambda a=a: cancel_application(application_id=a.pk) for a in applications])
    run_together(*[lambda: offer_held_places(slot_id=slot.pk) for _ in range(3)])
    offers = Offer.objects.filter(status=Offer.Status.OPEN)
    assert sorted(offers.values_list("waiting_id", flat=True)) == sorted(h.pk for h in households)
    slot = Slot.objects.get(pk=slot.pk)
    assert (slot.taken, slot.held) == (0, 2)
    assert sum(offers.values_list("places", flat=True)) == slot.held


def test_one_household_never_holds_two_offers(office):
    """Places come back on two sessions the household waits for, at once: one offer only."""
    first, first_applications = full_slot(office, capacity=1)
    second, second_applications = full_slot(
        office, capacity=1, starts_at=first.starts_at.replace(hour=first.starts_at.hour + 2)
    )
    household = join(first)
    Waiting.objects.filter(pk=household.pk).update(date_to=second.date)
    for application in (*first_applications, *second_applications):
        cancel_application(application_id=application.pk)  # the places are held; offers below
    Slot.objects.filter(pk__in=[first.pk, second.pk]).update(held=1)  # whatever the count, both held
    run_together(lambda: offer_held_places(slot_id=first.pk), lambda: offer_held_places(slot_id=second.pk))
    assert Offer.objects.filter(waiting=household, status=Offer.Status.OPEN).count() == 1
    # The other session's place, offered to nobody, went back to the pool.
    assert sum(Slot.objects.filter(pk__in=[first.pk, second.pk]).values_list("held", flat=True)) == 1


def test_an_acceptance_racing_the_lapse_has_one_winner(office):
    slot, applications = full_slot(office, capacity=1)
    household = join(slot)
    cancel_application(application_id=applications[0].pk)
    offer = Offer.objects.get(waiting=household)
    at_deadline = offer.expires_at
    accepted, swept = run_together(
        lambda: accept_offer(offer_id=offer.pk, account=household.account, now=at_deadline.replace(microsecond=0)),
        lambda: sweep_offers(now=at_deadline),
    )
    offer.refresh_from_db()
    slot.refresh_from_db()
    if isinstance(accepted, list):
        assert offer.status == Offer.Status.ACCEPTED and (slot.taken, slot.held) == (1, 0)
    else:
        assert isinstance(accepted, OfferExpired) and offer.status == Offer.Status.LAPSED
        assert (slot.taken, slot.held) == (0, 0)  # nobody else waits: back to the pool
    assert reconcile_slot_counts() == 0


def test_a_cancel_racing_an_acceptance_keeps_every_count(office):
    """One household accepts its offer while another applicant cancels on the same session:
    both succeed, the cancelled place is held for the household still waiting, nothing drifts."""
    slot, applications = full_slot(office, capacity=3)
    accepting, still_waiting = join(slot), join(slot)
    cancel_application(application_id=applications[0].pk)
    offer = Offer.objects.get(waiting=accepting)
    accepted, cancelled = run_together(
        lambda: accept_offer(offer_id=offer.pk, account=accepting.account),
        lambda: cancel_application(application_id=applications[1].pk),
    )
    assert isinstance(accepted, list) and not isinstance(cancelled, Exception)
    slot.refresh_from_db()
    active = Application.objects.filter(slot=slot).exclude(status=Status.CANCELLED).count()
    assert (slot.taken, active) == (2, 2)
    assert slot.held == 1 and Offer.objects.get(waiting=still_waiting).status == Offer.Status.OPEN
    assert reconcile_slot_counts() == 0 and not SlotDrift.objects.exists()


def test_an_acceptance_joins_and_a_leave_at_once_keep_the_counts_exact(office):
    """Every change of the list takes the office's row before any slot row (an acceptance before
    its claim), so none of them deadlocks, and each moves the counts of its own sessions: the
    recount afterwards corrects nothing."""
    slot, applications = full_slot(office, capacity=1)
    later = SlotFactory(office=office, starts_at=slot.starts_at + dt.timedelta(hours=3))  # same day
    household, leaver = join(slot), join(slot)
    cancel_application(application_id=applications[0].pk)
    offer = Offer.objects.get(waiting=household)
    outcomes = run_together(
        lambda: accept_offer(offer_id=offer.pk, account=household.account),
        lambda: join(slot),
        lambda: join(slot),
        lambda: leave_waiting_list(waiting_id=leaver.pk, account=leaver.account),
    )
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert Slot.objects.get(pk=later.pk).waiting == Slot.objects.get(pk=slot.pk).waiting == 2
    assert recount_waiting_lists() == 0
