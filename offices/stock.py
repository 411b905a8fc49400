"""The projection of an office's blank passport books (docs/book-stock.md): pure arithmetic,
no database. The bookings ahead are counted by the app that owns the applications."""

import datetime as dt
from collections.abc import Mapping


def projected_balance(*, on_hand: int, ahead: Mapping[dt.date, int], on: dt.date) -> int:
    """Books left on `on` once every booking ahead up to and including that day is printed."""
    return on_hand - sum(count for day, count in ahead.items() if day <= on)


def closing_date(*, on_hand: int, ahead: Mapping[dt.date, int], today: dt.date) -> dt.date | None:
    """The first day, from `today`, whose projected balance leaves no book for another booking
    (0 or below); None while every booked day keeps a book spare. `ahead` holds the bookings not
    yet printed per day, from today on (earlier days are ignored: they are not ahead)."""
    balance = on_hand
    if balance <= 0:
        return today
    for day in sorted(d for d in ahead if d >= today):
        balance -= ahead[day]
        if balance <= 0:
            return day
    return None


def is_closed(*, issued: bool, closed_from: dt.date | None, on: dt.date) -> bool:
    """The rule the booking path applies to one stored row: not issued, or booked out on `on`."""
    return not issued or (closed_from is not None and closed_from <= on)
