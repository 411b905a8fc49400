"""The capacity model (docs/capacity.md): what an office can serve in a day, step by step, from
its staff and facilities and the minutes each step takes there.

For each step, capacity = min(stations, staff on duty for it) x open minutes / median minutes
per application at that step. The office's capacity is its lowest step: the bottleneck.
Read-only: it reads offices' resources and the counter's step records."""

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field

from appointments.models import Application, Step, StepRecord
from offices.models import Office, OfficeResources

# Each step: the facility it needs (None: staff alone, at their own desks) and who serves it.
STEP_RESOURCES: dict[str, tuple[str | None, str]] = {
    Step.DOCUMENT_CHECK: ("counters", "verifiers"),
    Step.BIOMETRICS: ("biometric_stations", "biometric_operators"),
    Step.INTERVIEW: ("counters", "interviewers"),
    Step.APPROVAL: (None, "approvers"),
    Step.PRINTING: ("printers", "printing_staff"),
    Step.COLLECTION: ("counters", "printing_staff"),
}


def step_capacity(*, stations: int | None, staff: int, open_minutes: int, median_minutes: float | None) -> int | None:
    """Applications one step can serve in a day; None when its minutes were never measured.
    3 biometric stations, 4 operators, 420 open minutes, 7.5 minutes each: 168."""
    if not median_minutes:
        return None
    servers = staff if stations is None else min(stations, staff)
    return math.floor(servers * open_minutes / median_minutes + 1e-9)


@dataclass(frozen=True)
class StepFigures:
    step: str
    label: str
    stations: int | None
    staff: int
    median_minutes: float | None
    measured: int  # finished step records behind the median
    per_day: int | None


@dataclass
class OfficeCapacity:
    office: Office
    resources: OfficeResources | None
    steps: list[StepFigures] = field(default_factory=list)
    wait_minutes: float | None = None  # median, check-in to the first call

    @property
    def open_minutes(self) -> int:
        return self.resources.open_minutes if self.resources else 0

    @property
    def bottleneck(self) -> StepFigures | None:
        known = [s for s in self.steps if s.per_day is not None]
        return min(known, key=lambda s: s.per_day) if known else None

    @property
    def per_day(self) -> int | None:
        return self.bottleneck.per_day if self.bottleneck else None


def office_capacities(*, offices: list[Office], date_from: dt.date, date_to: dt.date) -> dict[int, OfficeCapacity]:
    """Each office's capacity from its resources and the steps timed on the dates' sessions;
    three queries whatever the number of offices."""
    ids = [o.pk for o in offices]
    resources = {r.office_id: r for r in OfficeResources.objects.filter(office_id__in=ids)}
    on_dates = {"application__slot__office_id__in": ids, "application__slot__date__range": (date_from, date_to)}
    minutes: dict[tuple[int, str], list[float]] = {}
    for office_id, step, started, finished in StepRecord.objects.filter(
        finished_at__isnull=False, **on_dates
    ).values_list("application__slot__office_id", "step", "started_at", "finished_at"):
        minutes.setdefault((office_id, step), []).append((finished - started).total_seconds() / 60)
    waits: dict[int, list[float]] = {}
    for office_id, checked_in, called in Application.objects.filter(
        slot__office_id__in=ids,
        slot__date__range=(date_from, date_to),
        checked_in_at__isnull=False,
        called_at__isnull=False,
    ).values_list("slot__office_id", "checked_in_at", "called_at"):
        waits.setdefault(office_id, []).append(max((called - checked_in).total_seconds(), 0) / 60)
    return {
        office.pk: _office_capacity(office, resources.get(office.pk), minutes, waits.get(office.pk))
        for office in offices
    }


def _office_capacity(office, resources, minutes, waits) -> OfficeCapacity:
    capacity = OfficeCapacity(office=office, resources=resources, wait_minutes=_median(waits))
    for step in Step:
        facility, role = STEP_RESOURCES[step]
        stations = None if facility is None else _facility(office, resources, facility)
        staff = getattr(resources, role) if resources else 0
        measured = minutes.get((office.pk, step.value), [])
        median = _median(measured)
        capacity.steps.append(
            StepFigures(
                step=step.value,
                label=str(step.label),
                stations=stations,
                staff=staff,
                median_minutes=median,
                measured=len(measured),
                per_day=step_capacity(
                    stations=stations, staff=staff, open_minutes=capacity.open_minutes, median_minutes=median
                )
                if resources
                else None,
            )
        )
    return capacity


def _facility(office: Office, resources: OfficeResources | None, name: str) -> int:
    if name == "counters":
        return office.counter_count
    return getattr(resources, name) if resources else 0


def _median(values) -> float | None:
    return statistics.median(values) if values else None
