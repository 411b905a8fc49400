"""The floors of `make bench`: the bare claim, the bare read of one slot and the bare entry in a
draw, with nothing around them.

Routed under /bench/ by bench/urls.py, which only bench/wsgi.py's Django handler with no
middleware resolves: the portal's URLs never import the bench. The claim does exactly what the booking
service's hot path must do and nothing else: the conditional UPDATE of the slot and the INSERT
of the application, in one transaction, through the ORM. No middleware, authentication,
validation, fee lookup, event row, outbox or log line: the booking endpoint is measured against
this.
"""

import json
import secrets

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from allocation.models import Entry, Seeker
from appointments.models import Application
from quotas.models import Slot


@csrf_exempt
@require_POST
def bare_claim(request):
    body = json.loads(request.body)
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = Slot.objects.filter(pk=body["slot"], taken__lt=F("capacity"), opens_at__lte=now).update(
                taken=F("taken") + 1
            )
            if not claimed:
                return _refused("slot_full")
            Application.objects.create(
                booking_code=secrets.token_hex(5).upper(),
                slot_id=body["slot"],
                nik=body["nik"],
                full_name="Bench",
                birth_date="1990-01-01",
                sex="M",
                passport_type="regular",
                validity_years=5,
                kind="new",
                amount=350_000,
            )
    except IntegrityError:
        return _refused("duplicate_application")
    return JsonResponse({"status": "pending_payment"}, status=201)


def _refused(code):
    response = JsonResponse({"code": code}, status=409)
    response._has_been_logged = True  # an expected refusal: no log line, as on the booking path
    return response


def bare_read(request):
    """One slot row read with a cursor, as JSON: the floor of an availability read."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, capacity, taken, opens_at FROM quotas_slot WHERE id = %s", [int(request.GET["slot"])]
        )
        slot_id, capacity, taken, opens_at = cursor.fetchone()
    return JsonResponse({"id": slot_id, "capacity": capacity, "taken": taken, "opens_at": opens_at.isoformat()})


@csrf_exempt
@require_POST
def bare_enter(request):
    """The rows an entry in a draw writes (the entry and one Seeker per person), in one
    transaction through the ORM: the floor of entering."""
    body = json.loads(request.body)
    try:
        with transaction.atomic():
            entry = Entry.objects.create(
                release_id=body["release"], account_id=body["account"], choices=body["choices"]
            )
            Seeker.objects.bulk_create(
                [
                    Seeker(
                        entry=entry,
                        nik=nik,
                        full_name="Bench",
                        birth_date="1990-01-01",
                        sex="M",
                        passport_type="regular",
                        validity_years=5,
                        kind="new",
                    )
                    for nik in body["niks"]
                ]
            )
    except IntegrityError:
        return _refused("duplicate_entry")
    return JsonResponse({"id": entry.pk, "status": "entered"}, status=201)
