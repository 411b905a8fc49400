"""Bad input through the web forms: a field error (or 400), escaped output, nothing stored."""

import pytest
from django.urls import reverse

from accounts.models import User
from appointments.models import Application
from tests.appointments.test_views import form_data

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def user_client(client, applicant_user):
    client.force_login(applicant_user)
    return client


BAD_BOOKING = {
    "script in name": ({"full_name": SCRIPT}, "full_name"),
    "html in name": ({"full_name": 'Budi <img src=x onerror="alert(1)">'}, "full_name"),
    "oversized name": ({"full_name": "A" * 10_000}, "full_name"),
    "script as NIK": ({"nik": SCRIPT}, "nik"),
    "oversized NIK": ({"nik": "3" * 5000}, "nik"),
    "malformed date": ({"birth_date": "1990-13-45"}, "birth_date"),
    "date as words": ({"birth_date": "kemarin"}, "birth_date"),
    "validity as text": ({"validity_years": "sepuluh"}, "validity_years"),
    "unknown passport type": ({"passport_type": "x" * 5000}, "passport_type"),
    "unknown sex": ({"sex": "X"}, "sex"),
    "oversized phone": ({"phone": "0" * 500}, "phone"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_BOOKING, ids=list(BAD_BOOKING))
def test_bad_booking_form_input_is_a_field_error_and_stores_nothing(user_client, slot, case):
    change, field = BAD_BOOKING[case]
    response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data(**change))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert SCRIPT not in response.content.decode()  # echoed back escaped, never as markup
    slot.refresh_from_db()
    assert slot.taken == 0 and not Application.objects.exists()


@pytest.mark.django_db
def test_a_nul_in_a_field_is_refused_with_400_and_stores_nothing(user_client, slot):
    """No person types a NUL; the request is refused before the form (mpaspor.middleware)."""
    response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data(full_name="Budi\x00Santoso"))
    assert response.status_code == 400
    slot.refresh_from_db()
    assert slot.taken == 0 and not Application.objects.exists()


@pytest.mark.django_db
def test_oversized_request_body_is_refused_with_400(user_client, slot):
    response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data(full_name="A" * 3_000_000))
    assert response.status_code == 400  # DATA_UPLOAD_MAX_MEMORY_SIZE
    slot.refresh_from_db()
    assert slot.taken == 0 and not Application.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field",
    [
        ({"full_name": SCRIPT}, "full_name"),
        ({"email": "x" * 300 + "@example.com"}, "email"),
        ({"email": "<b>@example.com"}, "email"),
        ({"phone": SCRIPT}, "phone"),
    ],
)
def test_bad_signup_input_is_a_field_error_and_creates_no_account(client, settings, change, field):
    settings.RATE_LIMITS_ENABLED = False
    data = {
        "email": "baru@example.com",
        "full_name": "Budi Santoso",
        "phone": "081234567890",
        "password1": "Rahasia-Kuat-123",
        "password2": "Rahasia-Kuat-123",
        **change,
    }
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert SCRIPT not in response.content.decode()
    assert not User.objects.filter(email__startswith="baru").exists()
    assert not User.objects.filter(full_name=SCRIPT).exists()
