"""Reads of the blank passport books' outlook (docs/book-stock.md): the bookings ahead that
will need a book, the pace of printing, the run-out date in working days. The outlook's refresh
and the alert are in services.stock; the reports read these too."""

import datetime as dt
import math

from django.db.models import Count, Exists, OuterRef

from offices.models import PassportStock, StockUse
from quotas.calendar import is_working_day

from .models import Application, Status, Step, StepRecord

# Applications that will still need a book: active and not printed yet.
NOT_PRINTED = (Status.PENDING_PAYMENT, Status.BOOKED, Status.CHECKED_IN, Status.IN_PROCESS, Status.APPROVED)
# The pace of printing is taken over this many days before today.
USE_WINDOW_DAYS = 28


def bookings_ahead(*, office_id: int, passport_type: str, today: dt.date) -> dict[dt.date, int]:
    """Per day from `today`: the office's applications of this type that will need a book
    (active, not printed, and no printing step recorded)."""
    rows = (
        Application.objects.filter(
            slot__office_id=office_id, passport_type=passport_type, slot__date__gte=today, status__in=NOT_PRINTED
        )
        # One condition on one step row (two lookups in exclude() would test any two rows).
        .exclude(
            Exists(StepRecord.objects.filter(application=OuterRef("pk"), step=Step.PRINTING, finished_at__isnull=False))
        )
        .values_list("slot__date")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def working_days_before(*, today: dt.date, end: dt.date) -> int:
    """Working days from today (included) to `end` (excluded)."""
    days, day = 0, today
    while day < end:
        days += is_working_day(day)
        day += dt.timedelta(days=1)
    return days


def nth_working_day(*, today: dt.date, n: int) -> dt.date:
    """The `n`-th working day counting from today (included; n >= 1)."""
    day = today
    while True:
        if is_working_day(day):
            n -= 1
            if n <= 0:
                return day
        day += dt.timedelta(days=1)


def use_per_working_day(*, stock_id: int, today: dt.date) -> float:
    """Books printed per working day over the USE_WINDOW_DAYS before today."""
    start = today - dt.timedelta(days=USE_WINDOW_DAYS)
    used = StockUse.objects.filter(stock_id=stock_id, used_on__gte=start, used_on__lt=today).count()
    return used / max(working_days_before(today=start, end=today), 1)


def run_out_date(*, stock: PassportStock, today: dt.date, daily_use: float) -> dt.date | None:
    """The day the books run out: the outlook's closing day when the bookings ahead reach it;
    otherwise the day the books on hand are used up at the current pace of printing (None when
    nothing was printed lately)."""
    if stock.closed_from is not None:
        return stock.closed_from
    if daily_use <= 0:
        return None
    # The books on hand cover this many working days; they run out on the working day after.
    covered = max(math.floor(stock.on_hand / daily_use), 0)
    return nth_working_day(today=today, n=covered + 1)
