"""POST applications/{booking_code}/earlier/ and earlier/stop/: a booked household asks to be moved
into the first free place from a date on, or stops asking."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application, Status
from quotas.models import Slot
from tests.api.conftest import assert_error
from tests.appointments.test_reschedule_cancel import session
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

APPLICATIONS = "/api/v1/applications/"


def day(office, days) -> str:
    return (timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days)).isoformat()


def ask(client, application, date_from, **extra):
    return client.post(
        f"{APPLICATIONS}{application.booking_code}/earlier/", {"date_from": date_from}, format="json", **extra
    )


def stop(client, application):
    return client.post(f"{APPLICATIONS}{application.booking_code}/earlier/stop/")


class TestAsk:
    def test_the_household_waits_when_nothing_is_free(self, api, user, office):
        late = session(office, 6)
        session(office, 2, capacity=1, taken=1)
        mine, child = ApplicationFactory(account=user, slot=late), ApplicationFactory(account=user, slot=late)
        ApplicationFactory(account=user, slot=session(office, 7))  # another session: not of this household

        response = ask(api, mine, day(office, 1))

        assert response.status_code == 200, response.content
        applications = response.json()["applications"]
        assert [a["booking_code"] for a in applications] == [mine.booking_code, child.booking_code]
        assert {(a["slot"]["id"], a["earlier_from"], a["status"]) for a in applications} == {
            (late.pk, day(office, 1), "booked")
        }
        assert api.get(f"{APPLICATIONS}{child.booking_code}/").json()["earlier_from"] == day(office, 1)

    def test_a_free_place_moves_the_household_at_once(self, api, user, office):
        late, free = session(office, 6), session(office, 3)
        mine = ApplicationFactory(account=user, slot=late)

        response = ask(api, mine, day(office, 2))

        assert response.status_code == 200, response.content
        (moved,) = response.json()["applications"]
        assert (moved["slot"]["id"], moved["earlier_from"], moved["reschedule_count"]) == (free.pk, None, 0)
        assert (Slot.objects.get(pk=late.pk).taken, Slot.objects.get(pk=free.pk).taken) == (0, 1)

    def test_asking_again_changes_the_date(self, api, user, office):
        mine = ApplicationFactory(account=user, slot=session(office, 6))
        session(office, 2, capacity=1, taken=1)
        ask(api, mine, day(office, 1))
        assert ask(api, mine, day(office, 3)).json()["applications"][0]["earlier_from"] == day(office, 3)

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"date_from": None},
            {"date_from": "soon"},
            {"date_from": 20261201},
            {"date_from": "today"},
            {"date_from": "visit"},
            {"date_from": "after"},
        ],
    )
    def test_a_bad_date_is_invalid_on_date_from_and_changes_nothing(self, api, user, office, body):
        mine = ApplicationFactory(account=user, slot=session(office, 6))
        session(office, 2)  # a free place a wrongly accepted date would take
        named = {"today": day(office, 0), "visit": day(office, 6), "after": day(office, 9)}
        if body.get("date_from") in named:
            body = {"date_from": named[body["date_from"]]}

        response = api.post(f"{APPLICATIONS}{mine.booking_code}/earlier/", body, format="json")

        assert list(assert_error(response, 400, "invalid")["errors"]) == ["date_from"]
        mine.refresh_from_db()
        assert mine.earlier_from is None and mine.slot.date.isoformat() == day(office, 6)

    @pytest.mark.parametrize("setup", ["pending_payment", "cancelled", "visit_tomorrow"])
    def test_an_application_that_may_not_ask_is_a_conflict(self, api, user, office, setup):
        status = {"pending_payment": Status.PENDING_PAYMENT, "cancelled": Status.CANCELLED}.get(setup, Status.BOOKED)
        mine = ApplicationFactory(
            account=user, slot=session(office, 1 if setup == "visit_tomorrow" else 6), status=status
        )
        body = assert_error(ask(api, mine, day(office, 1)), 409, "earlier_not_allowed")
        assert body["detail"]
        assert Application.objects.get(pk=mine.pk).earlier_from is None

    def test_the_refusal_speaks_the_requests_language(self, api, user, office):
        mine = ApplicationFactory(account=user, slot=session(office, 6), status=Status.PENDING_PAYMENT)
        indonesian = ask(api, mine, day(office, 1)).json()["detail"]
        english = ask(api, mine, day(office, 1), HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
        assert indonesian == "Hanya jadwal yang sudah dibayar yang dapat dimajukan ke tanggal lebih awal."
        assert english == "Only a paid appointment can be moved to an earlier date."

    def test_someone_elses_or_an_unknown_application_is_404(self, api, office):
        other = ApplicationFactory(slot=session(office, 6))
        session(office, 2)
        assert_error(ask(api, other, day(office, 1)), 404, "not_found")
        assert_error(
            api.post(f"{APPLICATIONS}NOSUCHCODE/earlier/", {"date_from": day(office, 1)}, format="json"),
            404,
            "not_found",
        )
        other.refresh_from_db()
        assert other.earlier_from is None and other.slot.date.isoformat() == day(office, 6)

    def test_needs_a_token(self, anon, user, office):
        mine = ApplicationFactory(account=user, slot=session(office, 6))
        assert_error(ask(anon, mine, day(office, 1)), 401, "not_authenticated")


class TestStop:
    def test_the_household_stops_asking(self, api, user, office):
        late = session(office, 6)
        session(office, 2, capacity=1, taken=1)
        mine, child = ApplicationFactory(account=user, slot=late), ApplicationFactory(account=user, slot=late)
        ask(api, mine, day(office, 1))

        response = stop(api, child)

        assert response.status_code == 200 and response.json() == {"stopped": 2}
        assert not Application.objects.filter(earlier_from__isnull=False).exists()
        assert stop(api, child).json() == {"stopped": 0}

    def test_someone_elses_is_404_and_anonymous_401(self, api, anon, office):
        other = ApplicationFactory(slot=session(office, 6))
        session(office, 2, capacity=1, taken=1)
        Application.objects.filter(pk=other.pk).update(earlier_from=day(office, 1), earlier_asked_at=timezone.now())
        assert_error(stop(api, other), 404, "not_found")
        assert_error(stop(anon, other), 401, "not_authenticated")
        assert Application.objects.get(pk=other.pk).earlier_from is not None


def test_the_schema_documents_both_operations(anon, db):
    document = anon.get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ask_operation = document["paths"]["/api/v1/applications/{booking_code}/earlier/"]["post"]
    stop_operation = document["paths"]["/api/v1/applications/{booking_code}/earlier/stop/"]["post"]
    assert (ask_operation["operationId"], stop_operation["operationId"]) == (
        "applications_earlier",
        "applications_earlier_stop",
    )
    assert {"200", "400", "401", "404", "409"} <= set(ask_operation["responses"])
    assert "earlier_not_allowed" in ask_operation["responses"]["409"]["description"]
    assert "date_from" in ask_operation["responses"]["400"]["description"]
    assert {"200", "401", "404"} <= set(stop_operation["responses"])
    schemas = document["components"]["schemas"]
    assert schemas["ApplicationEarlierInputRequest"]["required"] == ["date_from"]
    assert schemas["Application"]["properties"]["earlier_from"]["nullable"] is True
