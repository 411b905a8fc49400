"""Signals of the offices app: what a higher app must react to.

`stock_changed(office_id, passport_type)` is sent after the commit of a change of an office's
books (a delivery, the type switched on or off): the app that counts the bookings ahead
(appointments) refreshes the outlook. Offices cannot count them itself."""

from django.dispatch import Signal

stock_changed = Signal()
