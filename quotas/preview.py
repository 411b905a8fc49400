"""What an edit to an office's quota data would do to its slots, before it is saved.

The edit is written inside a transaction, the slot generator runs in preview mode over the
office's booking horizon, and the transaction is rolled back: the preview is the generator's
own answer, with the same conflicts the real run would refuse, and nothing stays written.
"""

from collections.abc import Callable

from django.db import transaction

from offices.models import Office

from .services.generation import SlotPlan, generate_horizon_slots


def preview_change(*, office: Office, apply_change: Callable[[], object]) -> SlotPlan:
    """The SlotPlan the generator would carry out after `apply_change()`; nothing is kept."""
    with transaction.atomic():
        apply_change()
        plan = generate_horizon_slots(office_id=office.pk, preview=True)
        transaction.set_rollback(True)
    return plan
