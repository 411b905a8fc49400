from django.db.models import F
from django.utils import timezone

from .exceptions import NotOpenYet, SlotFull
from .models import Slot


def claim_place(*, slot_id: int, now=None) -> None:
    """Take one place on an open slot, or raise SlotFull / NotOpenYet.

    One conditional UPDATE that PostgreSQL serialises on the slot's row: no read decides.
    Call it inside the caller's transaction so a failed insert afterwards gives it back.
    """
    now = now or timezone.now()
    claimed = Slot.objects.filter(pk=slot_id, taken__lt=F("capacity"), opens_at__lte=now).update(
        taken=F("taken") + 1
    )
    if not claimed:
        raise NotOpenYet() if Slot.objects.filter(pk=slot_id, opens_at__gt=now).exists() else SlotFull()


def return_place(*, slot_id: int) -> None:
    """Give one place back; the caller changes the application's status in the same transaction."""
    Slot.objects.filter(pk=slot_id, taken__gt=0).update(taken=F("taken") - 1)
