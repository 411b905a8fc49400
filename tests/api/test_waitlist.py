"""The waiting list's API rows: join, list, withdraw, offers accepted or declined, nearby offices."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.models import Offer, Waiting
from appointments.models import Application, Status
from appointments.services.lifecycle import cancel_application
from tests.allocation.test_waiting_list import full_slot
from tests.api.conftest import assert_error, client_for
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db


def person_body(sex="M", **overrides) -> dict:
    data = applicant_data(sex=sex)
    body = {
        "nik": data.nik,
        "full_name": data.full_name,
        "birth_date": data.birth_date.isoformat(),
        "sex": data.sex,
        "phone": data.phone,
        "passport_type": "regular",
        "validity_years": 5,
        "application_kind": "new",
        "express": False,
    }
    body.update(overrides)
    return body


def join_body(slot, people=None, **overrides) -> dict:
    body = {
        "office": slot.office.code,
        "date_from": slot.date.isoformat(),
        "date_to": slot.date.isoformat(),
        "people": people or [person_body()],
    }
    body.update(overrides)
    return body


def test_join_list_and_withdraw(api, user, office):
    slot, _applications = full_slot(office)
    answer = api.post("/api/v1/waitlist/", join_body(slot, people=[person_body(), person_body(sex="F")]), format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "waiting"
    listed = api.get("/api/v1/waitlist/").json()
    assert [(row["id"], row["people"], row["position"], row["ahead"]) for row in listed] == [
        (answer.json()["id"], 2, 1, 0)
    ]
    withdrawn = api.post(f"/api/v1/waitlist/{answer.json()['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert api.get("/api/v1/waitlist/").json() == []
    assert_error(api.post(f"/api/v1/waitlist/{answer.json()['id']}/withdraw/"), 404, "not_found")


def test_joining_is_idempotent_with_a_key(api, office):
    slot, _applications = full_slot(office)
    body = join_body(slot)
    first = api.post("/api/v1/waitlist/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/waitlist/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Waiting.objects.count() == 1


def test_bad_joins_are_refused_and_change_nothing(api, office):
    slot, _applications = full_slot(office)
    yesterday = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    body = assert_error(
        api.post("/api/v1/waitlist/", join_body(slot, date_from=yesterday), format="json"), 400, "invalid"
    )
    assert "date_from" in body["errors"]
    closed = OfficeFactory(is_active=False)
    assert_error(api.post("/api/v1/waitlist/", join_body(slot, office=closed.code), format="json"), 404, "not_found")
    booked = ApplicationFactory(slot=SlotFactory(office=office, starts_at=slot.starts_at + dt.timedelta(hours=3)))
    assert_error(
        api.post("/api/v1/waitlist/", join_body(slot, people=[person_body(nik=booked.nik)]), format="json"),
        409,
        "duplicate_application",
    )
    assert not Waiting.objects.exists()


def test_an_offer_is_listed_accepted_once_and_books_the_household(api, user, office):
    slot, applications = full_slot(office)
    joined = api.post("/api/v1/waitlist/", join_body(slot), format="json").json()
    cancel_application(application_id=applications[0].pk)
    from allocation.services.offers import offer_held_places

    offer_held_places(slot_id=slot.pk)
    offers = api.get("/api/v1/offers/").json()
    assert [(o["slot"]["id"], o["people"]) for o in offers] == [(slot.pk, 1)]
    assert offers[0]["expires_at"].endswith("+07:00")
    assert api.get("/api/v1/waitlist/").json()[0]["offer"] == offers[0]["id"]
    accepted = api.post(f"/api/v1/offers/{offers[0]['id']}/accept/")
    assert accepted.status_code == 201, accepted.content
    (application,) = accepted.json()["applications"]
    assert application["status"] == "pending_payment" and application["slot"]["id"] == slot.pk
    assert Waiting.objects.get(pk=joined["id"]).status == Waiting.Status.BOOKED
    assert_error(api.post(f"/api/v1/offers/{offers[0]['id']}/accept/"), 409, "offer_expired")
    assert_error(api.post(f"/api/v1/offers/{offers[0]['id']}/decline/"), 409, "offer_expired")
    assert Application.objects.filter(account=user, status=Status.PENDING_PAYMENT).count() == 1


def test_someone_elses_or_a_declined_offer(api, user, office):
    slot, applications = full_slot(office)
    api.post("/api/v1/waitlist/", join_body(slot), format="json")
    cancel_application(application_id=applications[0].pk)
    from allocation.services.offers import offer_held_places

    offer_held_places(slot_id=slot.pk)
    offer = Offer.objects.get()
    stranger = client_for(UserFactory())
    assert_error(stranger.post(f"/api/v1/offers/{offer.pk}/accept/"), 404, "not_found")
    assert_error(stranger.post(f"/api/v1/offers/{offer.pk}/decline/"), 404, "not_found")
    assert api.post(f"/api/v1/offers/{offer.pk}/decline/").status_code == 200
    assert_error(api.post(f"/api/v1/offers/{offer.pk}/accept/"), 409, "offer_expired")
    assert not Application.objects.filter(account=user).exists()


def test_nearby_offices_with_free_places_nearest_first(anon, office):
    office.latitude, office.longitude = -7.8166, 112.0114  # Kediri
    office.save()
    slot, _applications = full_slot(office)
    blitar = OfficeFactory(code="kanim-blitar", name="Blitar", latitude=-8.0983, longitude=112.1681)
    malang = OfficeFactory(code="kanim-malang", name="Malang", latitude=-7.9666, longitude=112.6326)
    far = OfficeFactory(code="kanim-far", name="Far away", latitude=3.5952, longitude=98.6722)
    full = OfficeFactory(code="kanim-full", name="Full", latitude=-7.82, longitude=112.02)
    for other in (blitar, malang, far):
        SlotFactory(office=other, capacity=5, starts_at=slot.starts_at, date=slot.date)
    SlotFactory(office=full, capacity=1, taken=1, starts_at=slot.starts_at, date=slot.date)
    answer = anon.get(f"/api/v1/offices/{office.code}/nearby/?from={slot.date}&to={slot.date}")
    assert answer.status_code == 200, answer.content
    rows = answer.json()
    assert [row["code"] for row in rows] == ["kanim-blitar", "kanim-malang", "kanim-far"]
    assert rows[0]["available"] == 5 and rows[0]["mode"] == "first_come"
    assert 30 < rows[0]["distance_km"] < 40 and rows[1]["distance_km"] < rows[2]["distance_km"]
