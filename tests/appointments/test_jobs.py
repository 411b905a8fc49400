"""The periodic jobs, run through their Celery tasks (eager in tests; a real worker in the
integration test). Each is idempotent: a second run changes nothing more."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from appointments import tasks as appointment_tasks
from appointments.models import Application, ApplicationEvent, Status
from mpaspor.celery import app
from quotas import tasks as quota_tasks
from quotas.models import Pool, QuotaRule, ReleaseSchedule, Slot, SlotDrift
from quotas.services.generation import generate_slots
from quotas.services.priority import give_back_priority_places
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data, book_one

pytestmark = pytest.mark.django_db


def overdue_hold(slot):
    return ApplicationFactory(
        slot=slot,
        account=None,
        status=Status.PENDING_PAYMENT,
        payment_due_at=timezone.now() - dt.timedelta(minutes=1),
    )


def test_release_job_expires_an_overdue_hold_once(office):
    slot = SlotFactory(office=office, capacity=2)
    hold = overdue_hold(slot)
    paid_in_time = ApplicationFactory(slot=slot, account=None, status=Status.PENDING_PAYMENT)

    assert appointment_tasks.release_expired_holds.delay().get() == 1
    assert appointment_tasks.release_expired_holds.delay().get() == 0

    hold.refresh_from_db()
    slot.refresh_from_db()
    assert hold.status == Status.EXPIRED and slot.taken == 1
    assert Application.objects.get(pk=paid_in_time.pk).status == Status.PENDING_PAYMENT
    assert ApplicationEvent.objects.filter(application=hold, to_status=Status.EXPIRED).count() == 1


def test_booking_on_a_full_slot_releases_an_overdue_hold_without_the_job(office):
    slot = SlotFactory(office=office, capacity=1)
    hold = overdue_hold(slot)

    application = book_one(
        account=UserFactory(),
        slot_id=slot.pk,
        applicant=applicant_data(),
        passport_type="regular",
        validity_years=5,
        kind="new",
    )

    hold.refresh_from_db()
    slot.refresh_from_db()
    assert hold.status == Status.EXPIRED and application.status == Status.PENDING_PAYMENT and slot.taken == 1
    assert appointment_tasks.release_expired_holds.delay().get() == 0


def test_no_show_after_session_end_and_grace(office):
    now = timezone.now()
    grace = dt.timedelta(minutes=settings.NO_SHOW_GRACE_MINUTES)
    ended = SlotFactory(
        office=office,
        starts_at=now - grace - dt.timedelta(hours=3),
        ends_at=now - grace - dt.timedelta(minutes=1),
        capacity=5,
    )
    in_grace = SlotFactory(
        office=office, starts_at=now - dt.timedelta(hours=2), ends_at=now - grace + dt.timedelta(minutes=5)
    )
    absent = ApplicationFactory(slot=ended, account=None, status=Status.BOOKED)
    came = ApplicationFactory(slot=ended, account=None, status=Status.CHECKED_IN)
    maybe_late = ApplicationFactory(slot=in_grace, account=None, status=Status.BOOKED)

    assert appointment_tasks.mark_no_shows.delay().get() == 1
    assert appointment_tasks.mark_no_shows.delay().get() == 0

    statuses = dict(Application.objects.values_list("pk", "status"))
    assert statuses == {absent.pk: Status.NO_SHOW, came.pk: Status.CHECKED_IN, maybe_late.pk: Status.BOOKED}
    ended.refresh_from_db()
    assert ended.taken == 1  # the no-show's place went back


def session_pair(office, starts_in, online=10, priority=5, priority_taken=2):
    starts_at = timezone.now() + starts_in
    online_slot = SlotFactory(office=office, starts_at=starts_at, capacity=online)
    priority_slot = SlotFactory(
        office=office, starts_at=starts_at, pool=Pool.PRIORITY, capacity=priority, taken=priority_taken
    )
    return online_slot, priority_slot


def test_unused_priority_places_go_online_at_each_offices_time(office):
    ReleaseSchedule.objects.create(office=office, priority_release_hours=24)
    soon_online, soon_priority = session_pair(office, dt.timedelta(hours=23))
    later_online, later_priority = session_pair(office, dt.timedelta(hours=25))
    other = OfficeFactory()
    ReleaseSchedule.objects.create(office=other, priority_release_hours=48)
    other_online, other_priority = session_pair(other, dt.timedelta(hours=25), priority_taken=5)

    assert quota_tasks.give_back_priority_places.delay().get() == 3
    assert quota_tasks.give_back_priority_places.delay().get() == 0

    def caps(*slots):
        return [(s.capacity, s.taken) for s in Slot.objects.filter(pk__in=[x.pk for x in slots]).order_by("pk")]

    assert caps(soon_online, soon_priority) == [(13, 0), (2, 2)]
    assert Slot.objects.get(pk=soon_priority.pk).moved_to_online == 3
    assert caps(later_online, later_priority) == [(10, 0), (5, 2)]
    assert caps(other_online, other_priority) == [(10, 0), (5, 5)]  # within its time, but nothing unused

    later = timezone.now() + dt.timedelta(hours=1, minutes=1)
    assert give_back_priority_places(now=later) == 3
    assert caps(later_online, later_priority) == [(13, 0), (2, 2)]


def test_slot_generation_keeps_places_moved_by_the_give_back():
    office = OfficeFactory(timezone="Asia/Jayapura")
    wit = ZoneInfo("Asia/Jayapura")
    start = dt.datetime(2027, 8, 24, 10, tzinfo=wit)
    ReleaseSchedule.objects.create(office=office, kind="rolling", days_before=30, priority_release_hours=24)
    QuotaRule.objects.create(
        office=office,
        weekday=start.weekday(),
        start_time=dt.time(10),
        end_time=dt.time(11),
        online_capacity=10,
        priority_capacity=4,
        valid_from=start.date(),
    )
    generate_slots(office=office, date_from=start.date(), date_to=start.date(), now=start - dt.timedelta(days=1))
    assert give_back_priority_places(now=start - dt.timedelta(hours=25)) == 0
    assert give_back_priority_places(now=start - dt.timedelta(hours=23)) == 4

    plan = generate_slots(
        office=office, date_from=start.date(), date_to=start.date(), now=start - dt.timedelta(hours=2)
    )
    assert not plan.has_changes
    assert dict(Slot.objects.filter(office=office).values_list("pool", "capacity")) == {"online": 14, "priority": 0}


def test_reconciliation_records_and_corrects_drift_once(office):
    drifted = SlotFactory(office=office, capacity=10)
    for status in (Status.BOOKED, Status.PENDING_PAYMENT, Status.CHECKED_IN):
        ApplicationFactory(slot=drifted, account=None, status=status)
    ApplicationFactory(slot=drifted, account=None, status=Status.CANCELLED)
    Slot.objects.filter(pk=drifted.pk).update(taken=5)  # two places lost, as a bug would lose them
    healthy = SlotFactory(office=office, capacity=10, starts_at=drifted.starts_at + dt.timedelta(hours=3))
    ApplicationFactory(slot=healthy, account=None)
    overfull = SlotFactory(office=office, capacity=2, starts_at=drifted.starts_at + dt.timedelta(hours=6))
    ApplicationFactory(slot=overfull, account=None)
    ApplicationFactory(slot=overfull, account=None)
    Slot.objects.filter(pk=overfull.pk).update(capacity=1, taken=1)  # someone shrank it by hand

    assert appointment_tasks.reconcile_slot_counts.delay().get() == 2
    assert appointment_tasks.reconcile_slot_counts.delay().get() == 0

    drifts = {d.slot_id: (d.recorded_taken, d.actual_taken, d.corrected) for d in SlotDrift.objects.all()}
    assert drifts == {drifted.pk: (5, 3, True), overfull.pk: (1, 2, False)}
    assert Slot.objects.get(pk=drifted.pk).taken == 3
    assert Slot.objects.get(pk=overfull.pk).taken == 1  # more held than the slot has: left to a person


def test_horizon_job_generates_each_active_office(office):
    today = timezone.now().astimezone(office.tzinfo).date()
    ReleaseSchedule.objects.create(office=office, horizon_days=6)
    for weekday in range(7):
        QuotaRule.objects.create(
            office=office,
            weekday=weekday,
            start_time=dt.time(23),
            end_time=dt.time(23, 30),
            online_capacity=3,
            valid_from=today,
        )
    OfficeFactory(is_active=False)

    assert quota_tasks.generate_slots_for_horizon.delay().get() == 1
    dates = sorted(Slot.objects.filter(office=office).values_list("date", flat=True))
    assert dates[-1] == today + dt.timedelta(days=6) and len(dates) >= 6
    assert quota_tasks.generate_office_slots.delay(office.pk).get() == {"created": 0, "updated": 0, "removed": 0}


def test_beat_schedule_names_registered_late_acked_tasks():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        task = app.tasks[entry["task"]]
        assert task.acks_late, entry["task"]


def test_database_scheduler_takes_the_schedule_from_settings():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        ModelEntry.from_entry(name, app=app, **entry)
    rows = {t.name: t for t in PeriodicTask.objects.filter(name__in=settings.CELERY_BEAT_SCHEDULE)}
    assert {n: t.task for n, t in rows.items()} == {n: e["task"] for n, e in settings.CELERY_BEAT_SCHEDULE.items()}
    assert rows["release-expired-holds"].interval.every == 60 and rows["release-expired-holds"].expire_seconds == 55
    assert str(rows["generate-slots-for-horizon"].crontab).startswith("5 17 * * *")
    assert ModelEntry(rows["release-expired-holds"], app=app).options["expires"] == 55
