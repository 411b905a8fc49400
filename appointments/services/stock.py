"""The outlook of each office's blank passport books (docs/book-stock.md): the bookings ahead
counted here, where the applications are, and stored on offices' PassportStock row, which the
booking path reads. Also the low-stock alert.

Offices cannot count applications (it sits below appointments), so it sends `stock_changed`
after a delivery or a book used, and this module refreshes the outlook in answer."""

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from offices.models import PassportStock, StaffMembership
from offices.outbox import queue_stock_alerts
from offices.services import set_outlook
from offices.stock import closing_date

from ..stock_outlook import bookings_ahead, run_out_date, use_per_working_day, working_days_before

logger = logging.getLogger(__name__)


def refresh_stock_outlook(
    *, office_id: int, passport_type: str, now: dt.datetime | None = None
) -> PassportStock | None:
    """Count the bookings ahead and store the day the type closes from (or None). No lock: the
    last refresh to write wins, and each counted what was committed when it ran."""
    now = now or timezone.now()
    stock = (
        PassportStock.objects.select_related("office").filter(office_id=office_id, passport_type=passport_type).first()
    )
    if stock is None:
        return None
    today = now.astimezone(stock.office.tzinfo).date()
    ahead = bookings_ahead(office_id=office_id, passport_type=passport_type, today=today)
    # on_hand is read again after the count: a delivery committed meanwhile is not missed.
    on_hand = PassportStock.objects.values_list("on_hand", flat=True).get(pk=stock.pk)
    stock.on_hand = on_hand
    stock.closed_from = closing_date(on_hand=on_hand, ahead=ahead, today=today)
    stock.booked_ahead = sum(ahead.values())
    stock.outlook_at = now
    set_outlook(stock_id=stock.pk, closed_from=stock.closed_from, booked_ahead=stock.booked_ahead, now=now)
    return stock


def refresh_stock_outlooks(*, now: dt.datetime | None = None) -> int:
    """Every office and type that keeps stock (the periodic safety net: cancellations, expiries
    and moves change the bookings ahead without a refresh of their own). Returns the rows."""
    now = now or timezone.now()
    stocks = list(PassportStock.objects.filter(issued=True).values_list("office_id", "passport_type"))
    for office_id, passport_type in stocks:
        refresh_stock_outlook(office_id=office_id, passport_type=passport_type, now=now)
    return len(stocks)


def after_booking(*, office_id: int, passport_types, now: dt.datetime) -> None:
    """After a booking committed: refresh the outlook of its types, at most once per
    STOCK_REFRESH_SECONDS per office and type across every process (a cache key), so a release
    burst refreshes a few times a second, not once per booking. An office keeping no stock of a
    type costs one indexed read that finds nothing."""
    for passport_type in passport_types:
        key = f"stock:refresh:{office_id}:{passport_type}"
        try:
            first = cache.add(key, 1, settings.STOCK_REFRESH_SECONDS)
        except Exception:  # noqa: BLE001 - the cache fails open: refresh every time
            first = True
        if not first:
            continue
        try:
            refresh_stock_outlook(office_id=office_id, passport_type=passport_type, now=now)
        except DatabaseError:
            # The booking has committed: its answer must not fail for the outlook, which the next
            # booking or the periodic refresh counts again.
            logger.warning("stock outlook not refreshed after a booking", exc_info=True)


def refresh_on_stock_change(sender, *, office_id: int, passport_type: str, **kwargs) -> None:
    """offices.signals.stock_changed: a delivery, a book used, the type switched on or off."""
    refresh_stock_outlook(office_id=office_id, passport_type=passport_type)


def alert_low_stock(*, now: dt.datetime | None = None) -> int:
    """Tell the office's heads and its regional division, once a day, of each issued type whose
    stock covers fewer than STOCK_ALERT_WORKING_DAYS working days. Returns the alerts queued."""
    now = now or timezone.now()
    threshold = settings.STOCK_ALERT_WORKING_DAYS
    sent = 0
    for stock in PassportStock.objects.filter(issued=True).select_related("office"):
        today = now.astimezone(stock.office.tzinfo).date()
        if stock.alerted_on == today:
            continue
        runs_out = run_out_date(stock=stock, today=today, daily_use=use_per_working_day(stock_id=stock.pk, today=today))
        if runs_out is None:
            continue
        covered = working_days_before(today=today, end=runs_out)
        if covered >= threshold:
            continue
        with transaction.atomic(durable=True):
            locked = PassportStock.objects.select_for_update().filter(pk=stock.pk).exclude(alerted_on=today).first()
            if locked is None:  # another run alerted meanwhile
                continue
            recipients = list(
                StaffMembership.objects.filter(user__is_active=True)
                .filter(
                    Q(role=StaffMembership.Role.HEAD, office_id=stock.office_id)
                    | Q(role=StaffMembership.Role.REGIONAL, region_id=stock.office.region_id)
                )
                .values_list("user__email", "user__language")
                .distinct()
            )
            queue_stock_alerts(
                stock=stock,
                recipients=recipients,
                context={
                    "on_hand": stock.on_hand,
                    "booked_ahead": stock.booked_ahead,
                    "closed_from": stock.closed_from.isoformat() if stock.closed_from else "",
                    "working_days": covered,
                    "runs_out_on": runs_out.isoformat(),
                    "threshold": threshold,
                },
            )
            PassportStock.objects.filter(pk=stock.pk).update(alerted_on=today)
        sent += 1
    return sent
