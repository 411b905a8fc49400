"""An office's first quota set-up (weekday rules, limited programmes, release schedule), for
seed_demo and a new office."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from offices.models import Office

from ..models import (
    ProgramSession,
    QuotaRule,
    ReleaseMode,
    ReleaseSchedule,
    SameDayService,
    ServiceProgram,
)
from .generation import SlotPlan, generate_horizon_slots

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionSpec:
    """One session of a weekday in set_up_office_quotas; `kinds` limits it to those kinds."""

    start: dt.time
    end: dt.time
    online: int
    priority: int = 0
    kinds: tuple = ()
    walk_in: int = 0  # places for walk-ins without booking (a walk-in session when online is 0)


def set_up_office_quotas(
    *,
    office: Office,
    week: dict[int, list[SessionSpec]],
    release_kind: str = ReleaseSchedule.Kind.ROLLING,
    days_before: int = 14,
    release_weekday: int = 4,
    day_of_month: int = 25,
    release_time: dt.time = dt.time(9),
    release_mode: str = ReleaseMode.FIRST_COME,
    entry_window_hours: int = 72,
    horizon_days: int = 30,
    programme_name: str = "Layanan Paspor Akhir Pekan",
    valid_from: dt.date | None = None,
    same_day: tuple[int, dt.time] | None = None,
    now: dt.datetime | None = None,
) -> SlotPlan:
    """Give an office its quota rules and release schedule, then generate its slots for the
    horizon. `week` maps a weekday (0 = Monday) to its sessions; sessions limited to some
    application kinds become a service programme (rules carry no kinds) on the weekdays they
    occur. `same_day`, (places per day, latest check-in), sets up its same-day service.
    Idempotent: an office that already has rules, a schedule, the programme or a same-day
    service keeps them. Meant for seed_demo and a first set-up."""
    now = now or timezone.now()
    valid_from = valid_from or now.astimezone(office.tzinfo).date() - dt.timedelta(days=1)
    with transaction.atomic():
        if not QuotaRule.objects.filter(office=office).exists():
            _create_weekday_rules(office=office, week=week, valid_from=valid_from)
        _create_limited_programmes(office=office, week=week, valid_from=valid_from, name=programme_name)
        ReleaseSchedule.objects.get_or_create(
            office=office,
            defaults={
                "kind": release_kind,
                "days_before": days_before,
                "weekday": release_weekday,
                "day_of_month": day_of_month,
                "release_time": release_time,
                "mode": release_mode,
                "entry_window_hours": entry_window_hours,
                "horizon_days": horizon_days,
            },
        )
        if same_day is not None:
            places, check_in_by = same_day
            SameDayService.objects.get_or_create(
                office=office, defaults={"places_per_day": places, "check_in_by": check_in_by}
            )
    return generate_horizon_slots(office_id=office.pk, now=now)


def _create_weekday_rules(*, office: Office, week: dict[int, list[SessionSpec]], valid_from: dt.date) -> None:
    """A quota rule for each session open to every kind."""
    QuotaRule.objects.bulk_create(
        QuotaRule(
            office=office,
            weekday=weekday,
            start_time=spec.start,
            end_time=spec.end,
            online_capacity=spec.online,
            priority_capacity=spec.priority,
            walk_in_capacity=spec.walk_in,
            valid_from=valid_from,
        )
        for weekday, specs in sorted(week.items())
        for spec in specs
        if not spec.kinds
    )


def _create_limited_programmes(
    *, office: Office, week: dict[int, list[SessionSpec]], valid_from: dt.date, name: str
) -> None:
    """A service programme for the sessions limited to some kinds, for a year from valid_from;
    weekdays with the same limited sessions share one. A programme already there is kept."""
    limited: dict[tuple, list[int]] = {}
    for weekday, specs in sorted(week.items()):
        group = tuple(sorted(spec for spec in specs if spec.kinds))
        if group:
            limited.setdefault(group, []).append(weekday)
    for number, (group, weekdays) in enumerate(limited.items(), start=1):
        programme_name = name if len(limited) == 1 else f"{name} {number}"
        if ServiceProgram.objects.filter(office=office, name=programme_name).exists():
            continue
        program = ServiceProgram.objects.create(
            office=office,
            name=programme_name,
            date_from=valid_from,
            date_to=valid_from + dt.timedelta(days=366),
            weekdays=weekdays,
            allowed_kinds=sorted({kind for spec in group for kind in spec.kinds}),
        )
        ProgramSession.objects.bulk_create(
            ProgramSession(
                program=program,
                start_time=spec.start,
                end_time=spec.end,
                online_capacity=spec.online,
                priority_capacity=spec.priority,
                walk_in_capacity=spec.walk_in,
            )
            for spec in group
        )
