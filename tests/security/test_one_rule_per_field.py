"""Issue 14, item 10: one validator for each field on every path in (sign-up on the web and the
API, the booking form and API, the people form, the counter's walk-ins), and every export cell
that a spreadsheet would run as a formula neutralised by one rule."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from appointments.models import Applicant, Application
from appointments.nik import build_nik
from mpaspor.spreadsheets import spreadsheet_safe
from tests.api.conftest import assert_error
from tests.factories import ApplicationFactory

SCRIPT = "<script>alert(1)</script>"
BIRTH = dt.date(1990, 5, 17)


def signup_body(**overrides):
    return {
        "email": "baru@example.com",
        "password": "Paspor-Baru-2025",
        "full_name": "Sari Dewi",
        "phone": "081234567890",
        **overrides,
    }


BAD_SIGNUP = {
    "script as name": ("full_name", SCRIPT),
    "digits in name": ("full_name", "Sari 2"),
    "not a mobile number": ("phone", "12345678"),
    "markup as phone": ("phone", "<b>x</b>"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_SIGNUP, ids=list(BAD_SIGNUP))
def test_api_sign_up_refuses_what_the_web_sign_up_refuses(client, settings, case):
    from rest_framework.test import APIClient

    settings.RATE_LIMITS_ENABLED = False
    field, value = BAD_SIGNUP[case]
    api = assert_error(
        APIClient().post("/api/v1/auth/register/", signup_body(**{field: value}), format="json"), 400, "invalid"
    )
    web = client.post(
        reverse("accounts:signup"),
        {**signup_body(**{field: value}), "password1": "Paspor-Baru-2025", "password2": "Paspor-Baru-2025"},
    )
    assert list(api["errors"]) == [field]
    assert web.context["form"].errors[field] == api["errors"][field]  # the same rule, the same words
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_sign_up_service_itself_refuses_a_bad_name_and_phone():
    from django.core.exceptions import ValidationError

    from accounts.services import register_user

    with pytest.raises(ValidationError) as error:
        register_user(
            email="baru@example.com",
            password="Paspor-Baru-2025",
            full_name=SCRIPT,
            phone="<b>x</b>",
            reset_url="http://testserver/accounts/password/reset/",
        )
    assert set(error.value.message_dict) == {"full_name", "phone"}
    assert not User.objects.exists()


def person(**overrides):
    return {
        "full_name": "Adik Santoso",
        "nik": build_nik(birth_date=BIRTH, sex="M", serial=7),
        "birth_date": BIRTH.isoformat(),
        "sex": "M",
        "phone": "",
        **overrides,
    }


BAD_PERSON = {
    "birth date in year 1": ({"birth_date": "0001-01-01"}, "birth_date"),
    "birth date in year 9999": ({"birth_date": "9999-01-01"}, "birth_date"),
    "markup as phone": ({"phone": "<b>x</b>"}, "phone"),
    "script as name": ({"full_name": SCRIPT}, "full_name"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_PERSON, ids=list(BAD_PERSON))
def test_people_form_refuses_what_booking_refuses(client, applicant_user, case):
    change, field = BAD_PERSON[case]
    client.force_login(applicant_user)
    response = client.post(reverse("appointments:people"), person(**change))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Applicant.objects.exists()


@pytest.mark.django_db
def test_people_form_takes_a_phone_as_typed_like_the_booking_form(client, applicant_user):
    client.force_login(applicant_user)
    client.post(reverse("appointments:people"), person(phone="0812-3456 7890"))
    assert Applicant.objects.get().phone == "081234567890"


@pytest.mark.django_db
def test_walk_in_form_refuses_markup_in_the_name_and_phone(client):
    from appointments.staff_forms import WalkInForm

    form = WalkInForm(
        {
            "kind": "lost",
            "full_name": SCRIPT,
            "nik": build_nik(birth_date=BIRTH, sex="M", serial=8),
            "birth_date": BIRTH.isoformat(),
            "sex": "M",
            "phone": "<b>x</b>",
            "passport_type": "regular",
            "validity_years": "5",
        }
    )
    assert not form.is_valid()
    assert {"full_name", "phone"} <= set(form.errors)


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Budi", "Budi"),
        (-5, -5),  # a number stays a number
        (None, None),
    ],
)
def test_one_rule_for_export_cells(value, expected):
    assert spreadsheet_safe(value) == expected


@pytest.mark.django_db
def test_application_export_neutralises_a_stored_formula(client, world):
    # Data stored before the name rule, or by staff: the export must not hand it on as a formula.
    ApplicationFactory(slot=world.kediri_slot, full_name="@SUM(1+1)*cmd")
    client.force_login(world.kediri_officer)
    response = client.get(reverse("admin:appointments_application_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {row[8] for row in rows[1:]}
    assert "'@SUM(1+1)*cmd" in names and "@SUM(1+1)*cmd" not in names


@pytest.mark.django_db
def test_report_exports_neutralise_every_text_cell(client, world):
    world.kediri.name = "-1+1 Kediri"
    world.kediri.save()
    client.force_login(world.jatim_regional)
    day = world.kediri_slot.date
    query = {"month": f"{day:%Y-%m}"}
    text = client.get(reverse("reports:dashboard"), {**query, "format": "csv"}).content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'-1+1 Kediri" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], cells
    workbook = load_workbook(io.BytesIO(client.get(reverse("reports:dashboard"), {**query, "format": "xlsx"}).content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    assert Application.objects.exists()
