"""GET /api/v1/status/: the incidents going on or announced, in the request's language; and the
booking API's answer for a session an incident closed."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application
from offices.models import Incident, StaffMembership
from offices.services import change_incident, declare_incident, withdraw_incident
from quotas.models import Slot
from tests.api.conftest import assert_error
from tests.api.test_applications import booking_body
from tests.factories import OfficeFactory, RegionFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def national():
    user = UserFactory(is_staff=True)
    StaffMembership.objects.create(user=user, role=StaffMembership.Role.NATIONAL)
    return user


def declare(actor, **fields):
    values = {
        "kind": Incident.Kind.PORTAL_DOWN,
        "scope": Incident.Scope.ALL,
        "message_id": "Portal sedang gangguan.",
        "message_en": "The portal is down.",
        **fields,
    }
    return declare_incident(actor=actor, **values)


def test_current_and_announced_incidents_with_the_message_in_the_request_s_language(
    anon, national, django_assert_num_queries
):
    now = timezone.now()
    office = OfficeFactory(code="kanim-kediri")
    going_on = declare(national, starts_at=now - HOUR, ends_at=None)
    announced = declare(
        national,
        kind=Incident.Kind.OFFICE_CLOSED,
        scope=Incident.Scope.OFFICE,
        office=office,
        starts_at=now + 24 * HOUR,
        ends_at=now + 48 * HOUR,
        message_id="Kantor tutup karena banjir.",
        message_en="Closed by a flood.",
    )
    declare(national, starts_at=now - 3 * HOUR, ends_at=now - 2 * HOUR)  # over
    withdrawn = declare(
        national,
        kind=Incident.Kind.PAYMENT_DOWN,
        scope=Incident.Scope.REGION,
        region=office.region,
        starts_at=now - HOUR,
        ends_at=now + HOUR,
    )
    withdraw_incident(actor=national, incident_id=withdrawn.pk)

    with django_assert_num_queries(1):
        response = anon.get("/api/v1/status/")
    assert response.status_code == 200
    body = response.json()
    for incident in body["incidents"]:  # times with their offset; compared as instants
        for name in ("starts_at", "ends_at"):
            incident[name] = incident[name] and dt.datetime.fromisoformat(incident[name])
    assert body == {
        "incidents": [
            {
                "id": going_on.pk,
                "kind": "portal_down",
                "scope": {"kind": "all", "region": None, "office": None},
                "starts_at": going_on.starts_at,
                "ends_at": None,
                "message": "Portal sedang gangguan.",
            },
            {
                "id": announced.pk,
                "kind": "office_closed",
                "scope": {"kind": "office", "region": None, "office": "kanim-kediri"},
                "starts_at": announced.starts_at,
                "ends_at": announced.ends_at,
                "message": "Kantor tutup karena banjir.",
            },
        ]
    }
    english = anon.get("/api/v1/status/", HTTP_ACCEPT_LANGUAGE="en").json()["incidents"]
    assert [i["message"] for i in english] == ["The portal is down.", "Closed by a flood."]


def test_an_incident_ended_early_leaves_the_status(anon, national):
    incident = declare(national, starts_at=timezone.now() - HOUR, ends_at=timezone.now() + HOUR)
    assert [i["id"] for i in anon.get("/api/v1/status/").json()["incidents"]] == [incident.pk]
    change_incident(actor=national, incident_id=incident.pk, ends_at=timezone.now() - dt.timedelta(minutes=1))
    assert anon.get("/api/v1/status/").json() == {"incidents": []}


def test_a_region_s_incident_names_its_region(anon, national):
    region = RegionFactory(code="JATIM")
    declare(national, scope=Incident.Scope.REGION, region=region, starts_at=timezone.now(), ends_at=None)
    (incident,) = anon.get("/api/v1/status/").json()["incidents"]
    assert incident["scope"] == {"kind": "region", "region": "JATIM", "office": None}


def test_booking_a_session_an_incident_closed_answers_409_and_changes_nothing(api, national):
    slot = SlotFactory()
    start = slot.starts_at - HOUR
    declare(
        national,
        kind=Incident.Kind.OFFICE_CLOSED,
        scope=Incident.Scope.OFFICE,
        office=slot.office,
        starts_at=start,
        ends_at=start + 3 * HOUR,
    )
    response = api.post("/api/v1/applications/", booking_body(slot), format="json")
    assert_error(response, 409, "office_closed")
    assert Slot.objects.get(pk=slot.pk).taken == 0
    assert not Application.objects.exists()
    # The availability shows the day without the closed session.
    days = api.get(f"/api/v1/offices/{slot.office.code}/availability/?from={slot.date}&to={slot.date}").json()["days"]
    assert days[0]["slots"] == []
