"""Coming earlier: a booked household asks to be moved into the first free place of its office
from a date it chooses, before its own session. A place that comes back to the public pool (a
hold that expired, a cancellation, an offer nobody took) moves the households that asked, first
asked first moved, a household together or not at all. The place it leaves behind goes on to the
waiting list, the next household asking, or the pool. docs/earlier-visit.md.

Why: applicants who took a later date because the first ones were gone cannot wait for the
earlier ones (one active application or waiting row per NIK). Without this, a place given back
a few hours before its session finds nobody, and a broker's expired holds on the first days are
lost to everyone (bench/HOARDING.md).

The move is the applicant's standing request, not a change of date: it uses none of the one
change the rules allow, and the applicant is told at once."""

import datetime as dt

from django.db import transaction
from django.db.models import Exists, F, Max, Min, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from quotas.exceptions import ExpressFull, QuotaError
from quotas.models import Pool, Slot

from ..exceptions import ApplicationNotFound, EarlierNotAllowed, InvalidInput
from ..models import Application, Status
from .booking import session_takes
from .lifecycle import move_to_slot

# Nobody is moved into a session that starts sooner than this, nor into today's: the applicant
# must read the message and make the trip. Into tomorrow's only before the evening, while there is
# time to arrange the day and, if need be, to change the date (no later than the day before).
NOTICE = dt.timedelta(hours=12)
LAST_MOVE_INTO_TOMORROW = dt.time(18)
# Households looked at for one freed session; a session frees a few places at a time.
HOUSEHOLDS_PER_SESSION = 50
# Sessions an applicant's own request tries at once; the give-backs and the sweep do the rest.
SESSIONS_TRIED_AT_ONCE = 20


def check_earlier(*, application: Application, now: dt.datetime) -> None:
    """Booked (paid), on a session that no incident closed, with a date between tomorrow and the visit."""
    if application.status != Status.BOOKED:
        raise EarlierNotAllowed(_("Only a paid appointment can be moved to an earlier date."))
    if application.displaced_by_id:
        raise EarlierNotAllowed(
            _("The office is closed for your session: choose another day on the “Change the date” page.")
        )
    first, last = dates_to_ask(application=application, now=now)
    if first > last:
        raise EarlierNotAllowed(_("Your visit is today or tomorrow: there is no earlier date to move to."))


def dates_to_ask(*, application: Application, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The first and last dates an applicant may ask to come from: tomorrow at the office, and the
    day before the visit."""
    return _today(application.slot, now) + dt.timedelta(days=1), application.slot.date - dt.timedelta(days=1)


def ask_earlier(
    *, application_id: int, account, date_from: dt.date, now: dt.datetime | None = None
) -> list[Application]:
    """The account's booked applications on this application's session (its household) ask to come
    earlier from `date_from`. Asking again changes the date and keeps the household's place in
    line. Tries at once, then every place given back tries. Returns the household, moved or not."""
    now = now or timezone.now()
    application = _own(application_id=application_id, account=account)
    check_earlier(application=application, now=now)
    with transaction.atomic(durable=True):
        household = _locked_household(account_id=account.pk, slot=application.slot)
        if application.pk not in {a.pk for a in household}:
            raise EarlierNotAllowed(_("Your appointment has just changed: reload the page and try again."))
        first, last = dates_to_ask(application=application, now=now)
        if not _is_date(date_from) or not first <= date_from <= last:
            raise InvalidInput(
                _("Choose a date from %(first)s to %(last)s.")
                % {"first": date_format(first, "j F Y"), "last": date_format(last, "j F Y")},
                field="date_from",
            )
        asked_at = min([a.earlier_asked_at for a in household if a.earlier_asked_at] + [now])
        ids = [a.pk for a in household]
        Application.objects.filter(pk__in=ids).update(earlier_from=date_from, earlier_asked_at=asked_at)
    sessions = _free_sessions(now=now).filter(
        office_id=application.slot.office_id, date__gte=date_from, date__lt=application.slot.date
    )
    for slot_id in sessions.order_by("starts_at").values_list("pk", flat=True)[:SESSIONS_TRIED_AT_ONCE]:
        if move_earlier_into(slot_id=slot_id, now=now) and not _asking(ids):
            break
    return list(Application.objects.filter(pk__in=ids).select_related("slot__office").order_by("pk"))


def stop_earlier(*, application_id: int, account) -> int:
    """The household no longer asks to come earlier. Returns how many applications stopped."""
    application = _own(application_id=application_id, account=account)
    with transaction.atomic(durable=True):
        household = _locked_household(account_id=account.pk, slot=application.slot)
        asking = [a.pk for a in household if a.earlier_from]
        return Application.objects.filter(pk__in=asking).update(earlier_from=None, earlier_asked_at=None)


def move_earlier_into(*, slot_id: int, now: dt.datetime | None = None) -> int:
    """Move the households that asked to come earlier into the session's free public places, first
    asked first, each household together or not at all. Idempotent. Returns how many applications moved."""
    now = now or timezone.now()
    slot = _free_sessions(now=now).filter(pk=slot_id).select_related("office").first()
    if slot is None or not _may_move_into(slot, now):
        return 0
    moved, free = 0, slot.available
    for (account_id, booked_on), ids in _households_for(slot):
        if len(ids) > free:
            continue  # a household too big for what is free: the next one may fit
        try:
            count = _move_household(account_id=account_id, slot_id=booked_on, application_ids=ids, slot=slot, now=now)
        except ExpressFull:
            continue  # the day's same-day places are gone: the next household may need none
        except QuotaError:  # taken meanwhile
            break
        moved, free = moved + count, free - count
        if not free:
            break
    return moved


def sweep_earlier(*, now: dt.datetime | None = None) -> int:
    """Free places that no give-back moved anyone into: a place freed while the task queue was down,
    a session whose places staff raised, a release that opened. Earliest sessions first; only the
    offices and dates that requests name are read (none, most of the time)."""
    now = now or timezone.now()
    requests = _requests()
    bounds = requests.aggregate(since=Min("earlier_from"), until=Max("slot__date"))
    if bounds["since"] is None:
        return 0
    asking = requests.filter(
        slot__office_id=OuterRef("office_id"), earlier_from__lte=OuterRef("date"), slot__date__gt=OuterRef("date")
    )
    sessions = (
        _free_sessions(now=now)
        .filter(date__gte=bounds["since"], date__lt=bounds["until"], office_id__in=requests.values("slot__office_id"))
        .filter(Exists(asking))
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    return sum(move_earlier_into(slot_id=slot_id, now=now) for slot_id in list(sessions[:500]))


def _today(slot: Slot, now: dt.datetime) -> dt.date:
    return now.astimezone(slot.office.tzinfo).date()


def _may_move_into(slot: Slot, now: dt.datetime) -> bool:
    """Not today's session; tomorrow's only before the evening (LAST_MOVE_INTO_TOMORROW)."""
    local = now.astimezone(slot.office.tzinfo)
    tomorrow = local.date() + dt.timedelta(days=1)
    return slot.date > tomorrow or (slot.date == tomorrow and local.time() < LAST_MOVE_INTO_TOMORROW)


def _is_date(value) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _own(*, application_id: int, account) -> Application:
    """The account's application with its slot and office, not locked (_locked_household locks)."""
    application = Application.objects.select_related("slot__office").filter(pk=application_id, account=account).first()
    if application is None:
        raise ApplicationNotFound()
    return application


def _locked_household(*, account_id: int, slot: Slot) -> list[Application]:
    """The account's booked applications on the session, which come together. Every application of
    the account on the session is locked, in id order, as each change here locks them: asking,
    stopping and moving one household never wait crosswise. The rows are locked alone, their slot
    set after (lifecycle.lock_application says why)."""
    rows = Application.objects.select_for_update().filter(account_id=account_id, slot_id=slot.pk).order_by("pk")
    household = [a for a in rows if a.status == Status.BOOKED and not a.displaced_by_id]
    for member in household:
        member.slot = slot
    return household


def _asking(ids: list[int]) -> bool:
    return Application.objects.filter(pk__in=ids, earlier_from__isnull=False).exists()


def _requests():
    return Application.objects.filter(earlier_from__isnull=False, status=Status.BOOKED, displaced_by=None)


def _free_sessions(*, now: dt.datetime):
    """Online sessions with a free public place, open to booking, far enough ahead to be told."""
    return Slot.objects.filter(
        pool=Pool.ONLINE,
        office__is_active=True,
        opens_at__lte=now,
        starts_at__gte=now + NOTICE,
        closed_by__isnull=True,
        walk_in_by__isnull=True,
        taken__lt=F("capacity") - F("held"),
    )


def _households_for(slot: Slot) -> list[tuple[tuple[int, int], list[int]]]:
    """The households asking for a date on or before the session's, booked on a later date at its
    office, in the order they asked, that the session takes whole (their kinds, the age rule)."""
    people = (
        _requests()
        .filter(slot__office_id=slot.office_id, slot__date__gt=slot.date, earlier_from__lte=slot.date)
        .order_by("earlier_asked_at", "account_id", "slot_id", "pk")
        .values("pk", "account_id", "slot_id", "kind", "birth_date", "validity_years", "married")
    )
    households: dict[tuple[int, int], list[dict]] = {}
    for person in people[: HOUSEHOLDS_PER_SESSION * 5]:
        households.setdefault((person["account_id"], person["slot_id"]), []).append(person)
    return [
        (key, [person["pk"] for person in household])
        for key, household in households.items()
        if all(
            session_takes(
                slot,
                kind=person["kind"],
                validity_years=person["validity_years"],
                birth_date=person["birth_date"],
                married=person["married"],
            )
            for person in household
        )
    ][:HOUSEHOLDS_PER_SESSION]


def _move_household(*, account_id: int, slot_id: int, application_ids: list[int], slot: Slot, now: dt.datetime) -> int:
    """Move the household (the account's booked applications on session `slot_id`) into `slot` in
    one transaction, or nobody: when it is no longer the one `application_ids` read (a member paid
    since, checked in, cancelled, or was left out of the line's read), or stopped asking."""
    with transaction.atomic(durable=True):
        old_slot = Slot.objects.select_related("office").get(pk=slot_id)
        household = _locked_household(account_id=account_id, slot=old_slot)
        asking = all(a.earlier_from and a.earlier_from <= slot.date for a in household)
        if sorted(a.pk for a in household) != sorted(application_ids) or not asking:
            return 0
        for application in household:
            move_to_slot(application=application, slot=slot, now=now, why="moved_earlier")
    return len(household)
