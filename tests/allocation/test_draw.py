"""The draw on the real database: entries, the close's snapshot, the stored plan equal to the
replay of what is published, an application stopped half-way, forfeits and messages."""

import dataclasses
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from allocation.draw import allocate, canonical_json, sha256_hex
from allocation.exceptions import NotInEntryWindow
from allocation.management.commands.replay_draw import replay
from allocation.models import Entry, EntryMessage, Release, Seeker, Waiting
from allocation.outbox import SUBJECTS
from allocation.selectors import published_draw
from allocation.services import draws
from allocation.services.draws import apply_draw, close_window, plan_draw, run_draw
from allocation.services.entries import enter_draw
from allocation.tasks import sweep_releases
from appointments.models import Application, Status
from notifications.outbox import deliver
from offices.models import PassportStock
from quotas.models import Slot
from tests.allocation.helpers import open_release, person
from tests.factories import UserFactory, book_one

pytestmark = pytest.mark.django_db


def enter_many(release, slots, households):
    """One account per household of `size` people, choosing the slots in the given order."""
    entries = []
    for size in households:
        entries.append(
            enter_draw(
                account=UserFactory(),
                release_id=release.pk,
                people=[person() for _ in range(size)],
                choices=[s.pk for s in slots],
            )
        )
    return entries


def test_the_stored_result_is_the_replay_of_what_is_published(settings):
    release, slots = open_release(places=(3, 2))
    enter_many(release, slots, [1, 2, 1, 2, 1, 1, 2])
    now = timezone.now()
    run_draw(release_id=release.pk, now=now, close_now=True)

    published = published_draw(release_id=release.pk)
    release.refresh_from_db()
    assert sha256_hex(published["seed"]) == release.seed_sha256
    assert replay(published) == release.plan == published["result"]
    assert (
        canonical_json({"release": release.pk, "slots": published["slots"], "entries": published["entries"]})
        == release.snapshot
    )

    # every winner holds applications awaiting payment for DRAW_PAYMENT_HOURS, none beyond the places
    won = Entry.objects.filter(release=release, status=Entry.Status.WON)
    for entry in won:
        applications = Application.objects.filter(booking_code__in=entry.booking_codes)
        assert applications.count() == entry.people.count()
        assert {a.slot_id for a in applications} == {entry.slot_id}
        assert all(a.payment_due_at == now + dt.timedelta(hours=settings.DRAW_PAYMENT_HOURS) for a in applications)
    for slot in Slot.objects.filter(pk__in=[s.pk for s in slots]):
        assert slot.taken == Application.objects.filter(slot=slot, status=Status.PENDING_PAYMENT).count()
        assert slot.taken <= slot.capacity
    lost = Entry.objects.filter(release=release, status=Entry.Status.LOST)
    assert won.count() + lost.count() == 7
    assert set(EntryMessage.objects.values_list("entry_id", flat=True)) == set(lost.values_list("pk", flat=True))
    assert not Seeker.objects.filter(entry__release=release, is_open=True).exists()


def test_a_draw_stopped_half_way_runs_again_without_giving_anything_twice(monkeypatch, settings):
    """Winners are booked a batch per transaction: a worker killed in the middle of the second
    batch keeps the first batch whole and nothing of the second; the next run books the rest."""
    settings.DRAW_APPLY_BATCH = 2
    release, slots = open_release(places=(4, 4))
    enter_many(release, slots, [1] * 12)
    now = timezone.now()
    close_window(release_id=release.pk, now=now, close_now=True)
    plan_draw(release_id=release.pk, now=now)

    real = draws._mark_won
    calls = []

    def killed_at_the_fourth(applications, **kwargs):
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        calls.append(kwargs["entry_id"])
        real(applications, **kwargs)

    monkeypatch.setattr(draws, "_mark_won", killed_at_the_fourth)
    with pytest.raises(RuntimeError):
        apply_draw(release_id=release.pk, now=now)
    assert len(calls) == 3  # the third booking was made, in the batch that did not commit
    assert Entry.objects.filter(release=release, status=Entry.Status.WON).count() == 2
    assert Application.objects.count() == 2
    assert sum(Slot.objects.filter(pk__in=[s.pk for s in slots]).values_list("taken", flat=True)) == 2
    monkeypatch.setattr(draws, "_mark_won", real)

    run_draw(release_id=release.pk, now=now)  # and once more: nothing left to do
    run_draw(release_id=release.pk, now=now)
    assert Entry.objects.filter(release=release, status=Entry.Status.WON).count() == 8
    assert Application.objects.count() == 8
    assert sorted(Slot.objects.filter(pk__in=[s.pk for s in slots]).values_list("taken", flat=True)) == [4, 4]
    release.refresh_from_db()
    assert release.plan == allocate(release.seed, release.snapshot)


def test_a_person_booked_elsewhere_during_the_window_leaves_the_entry():
    """The residual race (a booking does not look at entries): the close drops the person."""
    release, slots = open_release(places=(5,))
    pair = [person(), person()]
    entry = enter_draw(account=UserFactory(), release_id=release.pk, people=pair, choices=[slots[0].pk])
    alone = person()
    lone = enter_draw(account=UserFactory(), release_id=release.pk, people=[alone], choices=[slots[0].pk])
    elsewhere = open_release(places=(5,))[1][0]
    Slot.objects.filter(pk=elsewhere.pk).update(opens_at=timezone.now() - dt.timedelta(days=1))
    book_one(account=UserFactory(), slot_id=elsewhere.pk, applicant=pair[1].applicant)
    book_one(account=UserFactory(), slot_id=elsewhere.pk, applicant=alone.applicant)

    run_draw(release_id=release.pk, close_now=True)
    entry.refresh_from_db()
    lone.refresh_from_db()
    assert entry.status == Entry.Status.WON
    assert Application.objects.filter(booking_code__in=entry.booking_codes).get().nik == pair[0].applicant.nik
    assert lone.status == Entry.Status.FORFEITED
    assert EntryMessage.objects.filter(entry=lone, template="forfeited").exists()


def test_a_winner_booked_elsewhere_after_the_close_is_forfeited():
    release, slots = open_release(places=(5,))
    someone = person()
    entry = enter_draw(account=UserFactory(), release_id=release.pk, people=[someone], choices=[slots[0].pk])
    now = timezone.now()
    close_window(release_id=release.pk, now=now, close_now=True)
    elsewhere = open_release(places=(5,))[1][0]
    Slot.objects.filter(pk=elsewhere.pk).update(opens_at=now - dt.timedelta(days=1))
    book_one(account=UserFactory(), slot_id=elsewhere.pk, applicant=someone.applicant)

    run_draw(release_id=release.pk, now=now)
    entry.refresh_from_db()
    assert entry.status == Entry.Status.FORFEITED
    assert entry.forfeit_reason == "duplicate_application"
    assert Slot.objects.get(pk=slots[0].pk).taken == 0  # its place stays free


def test_a_draw_does_not_run_while_the_window_is_open():
    release, slots = open_release()
    with pytest.raises(NotInEntryWindow):
        run_draw(release_id=release.pk)
    assert not Release.objects.get(pk=release.pk).snapshot


def test_the_sweep_runs_a_draw_whose_task_never_came():
    release, slots = open_release(places=(1,))
    entry = enter_draw(account=UserFactory(), release_id=release.pk, people=[person()], choices=[slots[0].pk])
    Release.objects.filter(pk=release.pk).update(entries_close_at=timezone.now() - dt.timedelta(minutes=1))
    sweep_releases()
    entry.refresh_from_db()
    assert entry.status == Entry.Status.WON
    assert Release.objects.get(pk=release.pk).applied_at is not None


def test_the_replay_command_prints_the_published_result(tmp_path):
    release, slots = open_release(places=(1, 1))
    enter_many(release, slots, [1, 1, 1])
    run_draw(release_id=release.pk, close_now=True)
    published = tmp_path / "draw.json"
    published.write_text(json.dumps(published_draw(release_id=release.pk)))
    out = io.StringIO()
    call_command("replay_draw", str(published), stdout=out)
    assert json.loads(out.getvalue()) == Release.objects.get(pk=release.pk).plan

    tampered = published_draw(release_id=release.pk)
    tampered["entries"] = tampered["entries"][1:]
    published.write_text(json.dumps(tampered))
    with pytest.raises(CommandError):
        call_command("replay_draw", str(published), stdout=io.StringIO())


def test_a_lost_entry_is_told_in_its_language(mailoutbox):
    release, slots = open_release(places=(1,))
    enter_many(release, slots, [1, 1])
    with translation.override("id"):
        run_draw(release_id=release.pk, close_now=True)
    message = EntryMessage.objects.get()
    deliver(model=EntryMessage, message_id=message.pk)
    sent = next(m for m in mailoutbox if m.to == [message.recipient])
    with translation.override("id"):
        assert sent.subject == str(SUBJECTS[Entry.Status.LOST])
    assert release.office.name in sent.body and "WIB" in sent.body


def test_losers_wait_for_their_chosen_sessions_in_draw_order_once():
    release, slots = open_release(places=(1, 1))
    entries = enter_many(release, slots, [1, 1, 1, 1, 1])
    run_draw(release_id=release.pk, close_now=True)
    release.refresh_from_db()
    losers = [e for e in draws.draw_order(release.seed, release.snapshot) if release.plan[str(e)] is None]
    assert len(losers) == 3
    waiting = list(Waiting.objects.filter(office=release.office).order_by("joined_at", "rank", "pk"))
    assert [w.entry_id for w in waiting] == losers
    assert all(set(w.slots.values_list("pk", flat=True)) == {s.pk for s in slots} for w in waiting)
    # each loser's person now waits (one open row per NIK), and a second run adds nobody again
    assert Seeker.objects.filter(waiting__in=waiting, is_open=True).count() == 3
    assert not Seeker.objects.filter(entry__in=entries, is_open=True).exists()
    assert [s.waiting for s in Slot.objects.filter(pk__in=[s.pk for s in slots])] == [3, 3]
    Release.objects.filter(pk=release.pk).update(applied_at=None)
    apply_draw(release_id=release.pk, now=timezone.now())
    assert Waiting.objects.filter(office=release.office).count() == 3
    assert EntryMessage.objects.count() == 3
    assert [s.waiting for s in Slot.objects.filter(pk__in=[s.pk for s in slots])] == [3, 3]


def test_losers_stopped_half_way_join_the_list_once_and_in_draw_order(monkeypatch, settings):
    """Losers are decided a batch per transaction (marked lost, told, put on the waiting list): a
    worker killed in the second batch keeps the first whole and nothing of the second; the next
    run adds the rest behind them, each household once and each told once."""
    settings.DRAW_APPLY_BATCH = 1  # losers go ten to a transaction
    release, slots = open_release(places=(1, 1))
    entries = enter_many(release, slots, [1] * 25)
    now = timezone.now()
    close_window(release_id=release.pk, now=now, close_now=True)
    release = plan_draw(release_id=release.pk, now=now)
    losers = [e for e in draws.draw_order(release.seed, release.snapshot) if release.plan[str(e)] is None]

    real, calls = draws.wait_after_lost_draw_batch, []

    def killed_in_the_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(draws, "wait_after_lost_draw_batch", killed_in_the_second)
    seen = []
    with pytest.raises(RuntimeError):
        apply_draw(release_id=release.pk, now=now, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 25), (2, 25), (12, 25)]  # a winner per batch, then ten losers
    assert list(Entry.objects.filter(status=Entry.Status.LOST).order_by("pk").values_list("pk", flat=True)) == sorted(
        losers[:10]
    )
    assert Waiting.objects.count() == EntryMessage.objects.count() == 10
    monkeypatch.setattr(draws, "wait_after_lost_draw_batch", real)

    seen.clear()
    run_draw(release_id=release.pk, now=now, progress=lambda done, total: seen.append((done, total)))
    run_draw(release_id=release.pk, now=now)
    assert seen == [(22, 25), (25, 25)]
    waiting = list(Waiting.objects.order_by("joined_at", "rank", "pk"))
    assert [w.entry_id for w in waiting] == losers
    assert [w.rank for w in waiting] == list(range(23))
    assert sorted(EntryMessage.objects.values_list("entry_id", flat=True)) == sorted(losers)
    assert [s.waiting for s in Slot.objects.filter(pk__in=[s.pk for s in slots])] == [23, 23]
    assert Seeker.objects.filter(waiting__isnull=False, is_open=True).count() == 23
    assert not Seeker.objects.filter(entry__in=entries, is_open=True).exists()


def test_one_refused_winner_in_a_batch_is_forfeited_and_the_others_are_booked(settings):
    """A batch's winners share one transaction; a NIK booked elsewhere after the close refuses
    only its own entry (its savepoint), and its place stays free."""
    settings.DRAW_APPLY_BATCH = 10
    release, slots = open_release(places=(6,))
    people = [person() for _ in range(5)]
    entries = [
        enter_draw(account=UserFactory(), release_id=release.pk, people=[p], choices=[slots[0].pk]) for p in people
    ]
    now = timezone.now()
    close_window(release_id=release.pk, now=now, close_now=True)
    elsewhere = open_release(places=(5,))[1][0]
    Slot.objects.filter(pk=elsewhere.pk).update(opens_at=now - dt.timedelta(days=1))
    book_one(account=UserFactory(), slot_id=elsewhere.pk, applicant=people[2].applicant)

    run_draw(release_id=release.pk, now=now)
    statuses = {e.pk: e.status for e in Entry.objects.filter(pk__in=[e.pk for e in entries])}
    assert statuses.pop(entries[2].pk) == Entry.Status.FORFEITED
    assert set(statuses.values()) == {Entry.Status.WON}
    assert Slot.objects.get(pk=slots[0].pk).taken == 4
    assert Application.objects.filter(slot=slots[0]).count() == 4


def test_a_winner_of_a_type_whose_books_ran_out_after_the_close_is_forfeited(settings):
    """The batched booking reads the slot with each winner's passport types: a type closed by the
    office's blank books refuses its winners (docs/book-stock.md), the others are booked."""
    settings.DRAW_APPLY_BATCH = 10
    release, slots = open_release(places=(4,))
    regular, electronic = person(), dataclasses.replace(person(), passport_type="electronic")
    entries = [
        enter_draw(account=UserFactory(), release_id=release.pk, people=[p], choices=[slots[0].pk])
        for p in (regular, electronic)
    ]
    now = timezone.now()
    close_window(release_id=release.pk, now=now, close_now=True)
    PassportStock.objects.create(office=release.office, passport_type="electronic", on_hand=0, closed_from=now.date())

    run_draw(release_id=release.pk, now=now)
    won, forfeited = (Entry.objects.get(pk=e.pk) for e in entries)
    assert won.status == Entry.Status.WON
    assert forfeited.status == Entry.Status.FORFEITED and forfeited.forfeit_reason == "passport_type_unavailable"
    assert list(Application.objects.filter(slot=slots[0]).values_list("passport_type", flat=True)) == ["regular"]


def test_a_loser_booked_elsewhere_after_the_close_does_not_wait_and_the_others_do():
    release, slots = open_release(places=(1,))
    entries = enter_many(release, slots, [1, 1, 1, 1])
    now = timezone.now()
    close_window(release_id=release.pk, now=now, close_now=True)
    release = plan_draw(release_id=release.pk, now=now)
    losers = [e for e in draws.draw_order(release.seed, release.snapshot) if release.plan[str(e)] is None]
    booked = Seeker.objects.get(entry_id=losers[1])
    elsewhere = open_release(places=(5,))[1][0]
    Slot.objects.filter(pk=elsewhere.pk).update(opens_at=now - dt.timedelta(days=1))
    book_one(account=UserFactory(), slot_id=elsewhere.pk, applicant=booked.as_person_booking().applicant)

    apply_draw(release_id=release.pk, now=now)
    waiting = list(Waiting.objects.filter(office=release.office).order_by("joined_at", "rank", "pk"))
    assert [w.entry_id for w in waiting] == [losers[0], losers[2]]
    assert [w.rank for w in waiting] == [0, 2]
    assert Slot.objects.get(pk=slots[0].pk).waiting == 2
    assert not Seeker.objects.filter(nik=booked.nik, is_open=True).exists()
    assert not Seeker.objects.filter(entry__in=entries, is_open=True).exists()


@pytest.mark.django_db(transaction=True)
def test_an_entry_caught_by_the_close_in_progress_is_refused_not_left_outside_the_snapshot():
    """The entry read an open window, then the close locked the release and wrote its snapshot:
    the entry's insert waits for the close and refuses, instead of an entry that no draw holds
    and whose people stay open."""
    import threading

    from django.db import connection, transaction

    release, slots = open_release()
    close_locked, outcome = threading.Event(), {}

    def enter():
        try:
            close_locked.wait()
            outcome["entry"] = enter_draw(
                account=UserFactory(), release_id=release.pk, people=[person()], choices=[slots[0].pk]
            )
        except Exception as exc:  # noqa: BLE001 - the test looks at the outcome
            outcome["error"] = exc
        finally:
            connection.close()

    entering = threading.Thread(target=enter)
    entering.start()
    with transaction.atomic():
        Release.objects.select_for_update().get(pk=release.pk)  # as close_window does
        close_locked.set()
        entering.join(timeout=1)  # the entry has read the open window and now waits for the row
        assert entering.is_alive()
        Release.objects.filter(pk=release.pk).update(snapshot='{"entries": []}', entries_sha256="0" * 64)
    entering.join()
    assert isinstance(outcome.get("error"), NotInEntryWindow), outcome
    assert not Entry.objects.exists() and not Seeker.objects.exists()
