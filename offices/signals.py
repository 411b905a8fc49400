"""Signals of the offices app. `incident_changed(incident_id)` is sent inside the transaction that
declared, corrected, ended or withdrew an incident: allocation, the highest app an incident
touches, recomputes in that same transaction what every incident gives (docs/incidents.md), so
an incident and its effects commit together or not at all."""

from django.dispatch import Signal

incident_changed = Signal()
