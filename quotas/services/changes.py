"""Quota changes decided outside the admin's forms (an accepted proposal of an evaluation
round): more places per session on some weekdays, or weekend sessions as a service programme.

`write_quota_change` writes the rules only, in its caller's transaction: the caller previews
it with `quotas.preview.preview_change`, or applies it and regenerates the slots with
`generate_horizon_slots` in the same transaction, so a change that would leave a slot fewer
places than it has taken rolls back whole."""

import datetime as dt
from dataclasses import dataclass

from mpaspor.db import in_callers_transaction
from offices.models import Office

from ..models import ProgramSession, QuotaRule, ServiceProgram


@dataclass(frozen=True)
class PlacesPerSession:
    """Every regular session on these weekdays gets `online` places, from `valid_from` on."""

    weekdays: tuple[int, ...]
    online: int
    valid_from: dt.date


@dataclass(frozen=True)
class WeekendSessions:
    """One session on these weekend days, `date_from` to `date_to`, as a service programme."""

    name: str
    weekdays: tuple[int, ...]
    start: dt.time
    end: dt.time
    online: int
    date_from: dt.date
    date_to: dt.date


@in_callers_transaction
def write_quota_change(*, office: Office, change: PlacesPerSession | WeekendSessions) -> None:
    if isinstance(change, PlacesPerSession):
        _change_places(office=office, change=change)
    else:
        _add_weekend_programme(office=office, change=change)


def _change_places(*, office: Office, change: PlacesPerSession) -> None:
    """The rules in force on `valid_from` end the day before; copies with the new places start
    on it, so the history keeps what was offered when."""
    rules = QuotaRule.objects.select_for_update().filter(office=office, weekday__in=change.weekdays)
    for rule in rules.exclude(valid_to__lt=change.valid_from).exclude(valid_from__gt=change.valid_from):
        if rule.online_capacity == change.online:
            continue
        if rule.valid_from == change.valid_from:
            rule.online_capacity = change.online
            rule.save(update_fields=["online_capacity"])
            continue
        successor_to = rule.valid_to
        rule.valid_to = change.valid_from - dt.timedelta(days=1)
        rule.save(update_fields=["valid_to"])
        QuotaRule.objects.create(
            office=office,
            weekday=rule.weekday,
            start_time=rule.start_time,
            end_time=rule.end_time,
            online_capacity=change.online,
            priority_capacity=rule.priority_capacity,
            valid_from=change.valid_from,
            valid_to=successor_to,
        )


def _add_weekend_programme(*, office: Office, change: WeekendSessions) -> None:
    program = ServiceProgram.objects.create(
        office=office,
        name=change.name,
        date_from=change.date_from,
        date_to=change.date_to,
        weekdays=sorted(change.weekdays),
    )
    ProgramSession.objects.create(
        program=program, start_time=change.start, end_time=change.end, online_capacity=change.online
    )
