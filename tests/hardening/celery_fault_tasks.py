"""A task for the worker-kill test only (loaded into a test worker with `-I`): delivers an
outbox row the way the outbox does, with a slow gateway so the test can kill it mid-way."""

import os
import time

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from appointments.models import Notification


@shared_task(acks_late=True)
def deliver_slowly(notification_id: int, gateway_file: str, seconds: float) -> None:
    Notification.objects.filter(pk=notification_id).update(attempts=F("attempts") + 1)
    with open(gateway_file, "a") as gateway:
        gateway.write(f"started {notification_id} {os.getpid()}\n")
    time.sleep(seconds)  # the gateway call in flight: the test kills the worker here
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=notification_id)
        if row.state == Notification.State.SENT:  # delivered by an earlier run: never twice
            return
        with open(gateway_file, "a") as gateway:
            gateway.write(f"sent {notification_id}\n")
        row.state, row.sent_at = Notification.State.SENT, timezone.now()
        row.save(update_fields=["state", "sent_at"])
