"""Signals quotas sends to the apps above it, which may not be imported from here."""

from django.dispatch import Signal

# A place went back to a slot: sent once the transaction that gave it back has committed, with
# `slot_id`, `count` and `reason` (one of GIVE_BACK_REASONS). Every give-back sends it: a
# cancel, an unpaid hold that expired, a reschedule away, a no-show, priority places moved to
# the online pool. The waiting list listens, to turn the place into an offer.
place_given_back = Signal()

GIVE_BACK_REASONS = ("cancelled", "expired", "rescheduled", "no_show", "priority_release")
