"""`Slot.waiting` moved by one for the sessions of the household that joins or leaves, in the
transaction of the change: after each change it is what the full recount finds, and a join's work
does not grow with the list."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allocation.models import Entry, Offer, Seeker, Waiting
from allocation.services.offers import accept_offer, leave_waiting_list, offer_held_places, sweep_offers
from allocation.services.waiting import (
    count_waiting_households,
    join_waiting_list,
    recount_waiting_lists,
    wait_after_lost_draw_batch,
)
from appointments.services.lifecycle import cancel_application
from quotas.models import Pool, Slot
from tests.allocation.helpers import closed_release, lose, person
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def days(office):
    """Today in the office's zone, and a session maker: `session(n)` starts n days from today."""
    today = timezone.now().astimezone(office.tzinfo).date()

    def session(n, **fields):
        starts_at = dt.datetime.combine(today + dt.timedelta(days=n), dt.time(9), tzinfo=office.tzinfo)
        return SlotFactory(office=office, starts_at=starts_at, date=today + dt.timedelta(days=n), **fields)

    return today, session


@pytest.fixture
def sessions(days):
    """Online sessions yesterday and in 1, 2, 3 and 5 days, and a priority session in 2 days."""
    _today, session = days
    return {n: session(n) for n in (-1, 1, 2, 3, 5)} | {"priority": session(2, pool=Pool.PRIORITY)}


def join(office, today, first, last, *, now=None, size=1) -> Waiting:
    return join_waiting_list(
        account=UserFactory(),
        office_id=office.pk,
        date_from=today + dt.timedelta(days=first),
        date_to=today + dt.timedelta(days=last),
        people=[person() for _ in range(size)],
        now=now,
    )


def counts(sessions) -> dict:
    waiting = dict(Slot.objects.filter(pk__in=[s.pk for s in sessions.values()]).values_list("pk", "waiting"))
    return {key: waiting[s.pk] for key, s in sessions.items()}


def recounted(office) -> int:
    """How many sessions the full recount corrects: 0 when the counts kept by one are exact."""
    with transaction.atomic():
        return count_waiting_households(office_id=office.pk, now=timezone.now())


def lost_entry(office, chosen) -> Entry:
    entry = Entry.objects.create(release=closed_release(office), account=UserFactory(), choices=[s.pk for s in chosen])
    Seeker.objects.create(
        entry=entry, **applicant_data().as_fields(), passport_type="regular", validity_years=5, kind="new"
    )
    return entry


def test_a_join_counts_for_the_online_sessions_of_its_range_only(office, days, sessions):
    today, _session = days
    join(office, today, 1, 2)
    join(office, today, 2, 5)
    assert counts(sessions) == {-1: 0, 1: 1, 2: 2, 3: 1, 5: 1, "priority": 0}
    assert recounted(office) == 0


def test_a_join_leaves_the_other_sessions_alone(office, days, sessions):
    """Not a recount: a session outside the household's range keeps its count, even a wrong one."""
    today, _session = days
    Slot.objects.filter(pk=sessions[5].pk).update(waiting=4)
    join(office, today, 1, 2)
    assert counts(sessions) == {-1: 0, 1: 1, 2: 1, 3: 0, 5: 4, "priority": 0}


def test_leaving_uncounts_from_today_on_and_leaves_past_sessions_as_they_were(office, days, sessions):
    today, _session = days
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    staying = join(office, today, -1, 3, now=two_days_ago)
    leaving = join(office, today, -1, 2, now=two_days_ago)
    assert counts(sessions) == {-1: 2, 1: 2, 2: 2, 3: 1, 5: 0, "priority": 0}
    leave_waiting_list(waiting_id=leaving.pk, account=leaving.account)
    # Yesterday's session is past: neither the recount nor the leaving touches it.
    assert counts(sessions) == {-1: 2, 1: 1, 2: 1, 3: 1, 5: 0, "priority": 0}
    assert recounted(office) == 0
    leave_waiting_list(waiting_id=staying.pk, account=staying.account)
    assert counts(sessions) == {-1: 2, 1: 0, 2: 0, 3: 0, 5: 0, "priority": 0}
    assert recounted(office) == 0


@pytest.fixture
def offered(office, days, sessions, django_capture_on_commit_callbacks):
    """Session 2 full, a household of two waiting for days 1 to 3 and one for day 2; two places of
    session 2 given back and offered to the first household."""
    today, _session = days
    Slot.objects.filter(pk=sessions[2].pk).update(capacity=2)
    applications = [ApplicationFactory(slot=sessions[2]) for _ in range(2)]
    household = join(office, today, 1, 3, size=2)
    join(office, today, 2, 2)
    for application in applications:
        cancel_application(application_id=application.pk)
    assert offer_held_places(slot_id=sessions[2].pk) == 1
    return Offer.objects.get(waiting=household)


def test_an_accepted_offer_uncounts_the_household_in_the_bookings_transaction(office, sessions, offered):
    seen = []
    accept_offer(
        offer_id=offered.pk,
        account=offered.waiting.account,
        in_same_transaction=lambda applications: seen.append(counts(sessions)),
    )
    expected = {-1: 0, 1: 0, 2: 1, 3: 0, 5: 0, "priority": 0}
    assert seen == [expected]  # already in the transaction that books the household
    assert counts(sessions) == expected
    assert recounted(office) == 0


def test_a_lapsed_offer_keeps_the_household_counted(office, sessions, offered):
    before = counts(sessions)
    assert sweep_offers(now=offered.expires_at)["lapsed"] == 1
    assert Offer.objects.get(pk=offered.pk).status == Offer.Status.LAPSED
    assert counts(sessions) == before == {-1: 0, 1: 1, 2: 2, 3: 1, 5: 0, "priority": 0}
    assert recounted(office) == 0


def test_a_draw_loser_counts_for_its_chosen_sessions_only(office, sessions):
    # Chosen: days 1 and 3; day 2 lies between them but was not chosen.
    entry = lost_entry(office, [sessions[1], sessions[3]])
    waiting = lose(entry, [sessions[1], sessions[3]])
    assert counts(sessions) == {-1: 0, 1: 1, 2: 0, 3: 1, 5: 0, "priority": 0}
    assert recounted(office) == 0
    leave_waiting_list(waiting_id=waiting.pk, account=waiting.account)
    assert counts(sessions) == {-1: 0, 1: 0, 2: 0, 3: 0, 5: 0, "priority": 0}
    assert recounted(office) == 0


def test_a_draws_batch_of_losers_counts_as_a_recount_would(office, days, sessions):
    today, _session = days
    join(office, today, 1, 5)
    entries = [lost_entry(office, chosen) for chosen in ([sessions[1], sessions[3]], [sessions[3]], [sessions[2]])]
    with transaction.atomic():
        wait_after_lost_draw_batch(
            entries=[(entry, position) for position, entry in enumerate(entries)],
            office_id=office.pk,
            drawn_at=timezone.now(),
        )
    assert counts(sessions) == {-1: 0, 1: 2, 2: 2, 3: 3, 5: 1, "priority": 0}
    assert recounted(office) == 0


def test_leaving_a_session_created_after_joining_is_not_refused(office, days, sessions):
    """A session created after the household joined has not counted it (until the nightly
    recount): leaving leaves its count at 0 instead of failing the column's check."""
    today, session = days
    waiting = join(office, today, 1, 5)
    later = session(4)
    leave_waiting_list(waiting_id=waiting.pk, account=waiting.account)
    assert Slot.objects.get(pk=later.pk).waiting == 0
    assert recounted(office) == 0


def test_the_nightly_recount_repairs_every_office(office, days, sessions):
    today, session = days
    join(office, today, 1, 5)
    later = session(4)  # created after the join: not counted yet
    elsewhere = SlotFactory(office=OfficeFactory(code="kanim-malang"), waiting=3)  # nobody waits there
    assert recount_waiting_lists() == 2
    assert Slot.objects.get(pk=later.pk).waiting == 1 and Slot.objects.get(pk=elsewhere.pk).waiting == 0
    assert recount_waiting_lists() == 0


def test_a_joins_statements_do_not_grow_with_the_list(office, days, sessions):
    today, _session = days

    def statements_of_a_join() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            join(office, today, 1, 5)
        return [query["sql"] for query in captured.captured_queries]

    few = statements_of_a_join()
    for _ in range(30):
        join(office, today, 1, 5)
    many = statements_of_a_join()
    assert len(many) == len(few)
    # No statement reads the list to count it: the sessions' counts move by one.
    waiting_table = connection.ops.quote_name(Waiting._meta.db_table)
    assert not [sql for sql in many if sql.startswith("SELECT") and waiting_table in sql]
    assert counts(sessions)[3] == 32
