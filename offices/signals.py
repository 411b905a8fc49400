"""Signals of the offices app: what a higher app must react to (offices cannot import it).

- `incident_changed(incident_id)` is sent inside the transaction that declared, corrected, ended
  or withdrew an incident: allocation, the highest app an incident touches, recomputes in that
  same transaction what every incident gives (docs/incidents.md), so an incident and its effects
  commit together or not at all. Quotas sends it too when a day an incident touches is switched
  to walk-in or back.
- `stock_changed(office_id, passport_type)` is sent after the commit of a change of an office's
  books (a delivery, the type switched on or off): the app that counts the bookings ahead
  (appointments) refreshes the outlook.
"""

from django.dispatch import Signal

incident_changed = Signal()
stock_changed = Signal()
