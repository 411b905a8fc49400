"""The counter's steps page: start and finish a step by booking code, with who and when."""

import pytest
from django.urls import reverse

from appointments.models import Status, StepRecord

pytestmark = pytest.mark.django_db

URL = reverse("staff:steps")


def test_a_desk_starts_and_finishes_a_step(client, world, django_assert_max_num_queries):
    world.kediri_app.status = Status.IN_PROCESS
    world.kediri_app.save()
    client.force_login(world.kediri_officer)
    response = client.post(
        URL, {"code": world.kediri_app.booking_code.lower(), "step": "biometrics", "action": "start"}
    )
    assert response.status_code == 302
    page = client.get(URL).content.decode()
    assert "Foto dan sidik jari" in page and world.kediri_app.full_name in page
    response = client.post(URL, {"code": world.kediri_app.booking_code, "step": "biometrics", "action": "finish"})
    assert response.status_code == 302
    record = StepRecord.objects.get()
    assert (record.started_by, record.finished_by) == (world.kediri_officer, world.kediri_officer)
    assert record.finished_at >= record.started_at
    with django_assert_max_num_queries(6):
        assert client.get(URL).status_code == 200


def test_refusals_say_why_and_change_nothing(client, world):
    client.force_login(world.kediri_officer)
    # Booked, not at the office yet.
    response = client.post(URL, {"code": world.kediri_app.booking_code, "step": "interview", "action": "start"})
    assert response.status_code == 400 and "tidak sedang di kantor" in response.content.decode()
    # Another office's application is unknown here.
    response = client.post(URL, {"code": world.malang_app.booking_code, "step": "interview", "action": "start"})
    assert response.status_code == 400
    response = client.post(URL, {"code": world.kediri_app.booking_code, "step": "coffee", "action": "start"})
    assert response.status_code == 400
    assert not StepRecord.objects.exists()


def test_only_counter_staff_open_it(client, world):
    client.force_login(world.jatim_regional)
    assert client.get(URL).status_code == 404
    client.force_login(world.applicant)
    assert client.get(URL).status_code == 404
