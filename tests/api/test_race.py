import threading
from collections import Counter

import pytest
from django.db import connection

from appointments.models import Application
from quotas.models import Slot
from tests.api.conftest import client_for
from tests.api.test_applications import booking_body
from tests.factories import SlotFactory, UserFactory

REQUESTS = 16
PLACES = 5


@pytest.mark.django_db(transaction=True)
def test_booking_race_through_the_api(settings):
    """N accounts book K places at once on PostgreSQL: K get 201, the rest 409 slot_full, no 5xx."""
    settings.RATE_LIMITS_ENABLED = True  # the throttles run in the race too, within their rates
    slot = SlotFactory(capacity=PLACES)
    clients = [client_for(UserFactory()) for _ in range(REQUESTS)]
    bodies = [booking_body(slot) for _ in range(REQUESTS)]
    start = threading.Barrier(REQUESTS)
    answers = []

    def book(client, body):
        try:
            start.wait()
            response = client.post("/api/v1/applications/", body, format="json")
            answers.append((response.status_code, response.json().get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=pair) for pair in zip(clients, bodies, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: PLACES, 409: REQUESTS - PLACES}, answers
    assert {code for status, code in answers if status == 409} == {"slot_full"}
    slot = Slot.objects.get(pk=slot.pk)
    assert slot.taken == PLACES == Application.objects.filter(slot=slot).count()
