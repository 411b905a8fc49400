import datetime as dt

import pytest
from django.utils import timezone

from tests.api.conftest import assert_error
from tests.factories import ApplicationFactory, OfficeFactory, RegionFactory, SlotFactory


@pytest.mark.django_db
class TestOfficeList:
    def test_lists_active_offices_with_region_and_zone(self, anon, django_assert_num_queries):
        jatim = RegionFactory()
        bali = RegionFactory(code="BALI", name="Bali", province_code="51")
        OfficeFactory(code="kanim-malang", name="Kantor Imigrasi Malang", city="Malang", region=jatim)
        OfficeFactory(
            code="kanim-denpasar",
            name="Kantor Imigrasi Denpasar",
            city="Denpasar",
            region=bali,
            timezone="Asia/Makassar",
        )
        OfficeFactory(code="closed", region=jatim, is_active=False)
        with django_assert_num_queries(1):
            response = anon.get("/api/v1/offices/")
        assert response.status_code == 200
        assert response.json() == [
            {
                "code": "kanim-denpasar",
                "name": "Kantor Imigrasi Denpasar",
                "kind": "kanim",
                "city": "Denpasar",
                "region": {"code": "BALI", "name": "Bali"},
                "timezone": "Asia/Makassar",
                "timezone_label": "WITA",
                "passport_types": ["regular", "electronic"],
            },
            {
                "code": "kanim-malang",
                "name": "Kantor Imigrasi Malang",
                "kind": "kanim",
                "city": "Malang",
                "region": {"code": "JATIM", "name": "Jawa Timur"},
                "timezone": "Asia/Jakarta",
                "timezone_label": "WIB",
                "passport_types": ["regular", "electronic"],
            },
        ]

    def test_filters_by_region(self, anon):
        OfficeFactory(code="kanim-malang", region=RegionFactory())
        OfficeFactory(code="kanim-denpasar", region=RegionFactory(code="BALI", name="Bali", province_code="51"))
        assert [o["code"] for o in anon.get("/api/v1/offices/?region=BALI").json()] == ["kanim-denpasar"]
        assert anon.get("/api/v1/offices/?region=NOPE").json() == []

    def test_overlong_region_is_invalid(self, anon):
        body = assert_error(anon.get("/api/v1/offices/?region=" + "X" * 11), 400, "invalid")
        assert list(body["errors"]) == ["region"]

    @pytest.mark.parametrize(
        "region",
        [
            "JA%00TIM",  # NUL: PostgreSQL cannot compare it
            "JATIM%01",  # a control character
            "JATIM%20",  # trailing space, which DRF used to trim away
            "X" * 10 + "%1D",  # 11 characters as sent; 10 after trimming the separator
            "JATIM%0A",  # Python's `$` matches before a trailing newline, the schema's does not
        ],
    )
    def test_region_outside_the_documented_pattern_is_invalid(self, anon, region):
        RegionFactory()
        body = assert_error(anon.get(f"/api/v1/offices/?region={region}"), 400, "invalid")
        assert list(body["errors"]) == ["region"]

    def test_documented_region_pattern(self, anon):
        schema = anon.get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        passport_type, region = schema["paths"]["/api/v1/offices/"]["get"]["parameters"]
        assert passport_type["name"] == "passport_type"
        assert {"pattern": "^[A-Za-z0-9_-]+$", "maxLength": 10, "type": "string"} in region["schema"]["oneOf"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/api/v1/offices/kanim%00kediri/availability/", 400, "invalid"),  # a NUL: refused before any view
        ("/api/v1/offices/kanim%0A/availability/", 404, "not_found"),
        ("/api/v1/applications/AB%00CD/", 400, "invalid"),
        ("/api/v1/applications/AB%0ACD/cancel/", 404, "not_found"),
    ],
)
def test_path_codes_with_control_characters_are_refused_in_the_error_shape(anon, path, status, code):
    """Not a 500 from PostgreSQL (NUL) nor Django's HTML page (a newline the catch-all missed)."""
    OfficeFactory(code="kanim-kediri")
    response = anon.get(path) if "cancel" not in path else anon.post(path)
    assert response["Content-Type"] == "application/json"
    assert_error(response, status, code)


@pytest.mark.django_db
class TestAvailability:
    def url(self, office, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"/api/v1/offices/{office.code}/availability/" + (f"?{query}" if query else "")

    def test_days_with_sessions_in_the_office_zone(self, anon, django_assert_num_queries):
        office = OfficeFactory(code="kanim-denpasar", timezone="Asia/Makassar")
        slot = SlotFactory(office=office, capacity=4)
        ApplicationFactory(slot=slot)
        later = SlotFactory(
            office=office,
            starts_at=slot.starts_at + dt.timedelta(days=1),
            capacity=2,
            opens_at=timezone.now() + dt.timedelta(days=1),
        )
        with django_assert_num_queries(3):  # the office, the slots, the closed days
            response = anon.get(self.url(office, **{"from": slot.date, "to": later.date}))
        assert response.status_code == 200
        body = response.json()
        assert body["office"] == {
            "code": "kanim-denpasar",
            "name": office.name,
            "timezone": "Asia/Makassar",
            "timezone_label": "WITA",
            "passport_types": [
                {"passport_type": t, "available": True, "closed_from": None, "reason": "", "message": ""}
                for t in ("regular", "electronic")
            ],
        }
        first, second = body["days"]
        assert first["date"] == slot.date.isoformat() and first["state"] == "free"
        assert first["slots"] == [
            {
                "id": slot.pk,
                "start": slot.starts_at.astimezone(office.tzinfo).isoformat(),
                "end": slot.ends_at.astimezone(office.tzinfo).isoformat(),
                "available": 3,
                "capacity": 4,
                "opens_at": slot.opens_at.astimezone(office.tzinfo).isoformat(),
                "mode": "first_come",
            }
        ]
        assert first["slots"][0]["start"].endswith("+08:00")
        assert second["state"] == "not_open" and second["slots"][0]["available"] == 2
        assert {"is_weekend", "is_holiday"} <= set(first)

    def test_default_range_is_two_weeks_from_today(self, anon, office):
        days = anon.get(self.url(office)).json()["days"]
        today = timezone.now().astimezone(office.tzinfo).date()
        assert [d["date"] for d in days] == [(today + dt.timedelta(days=i)).isoformat() for i in range(14)]

    @pytest.mark.parametrize(
        "params, field",
        [
            ({"from": "2026-13-01"}, "from"),
            ({"from": "kemarin"}, "from"),
            ({"to": "2026-02-30"}, "to"),
            ({"from": "+3", "to": "+1"}, "to"),  # end before start
            ({"from": "+0", "to": "+62"}, "to"),  # 63 days: over the cap
            ({"from": "+500"}, "from"),  # far from today
        ],
    )
    def test_bad_dates_are_invalid(self, anon, office, params, field):
        today = timezone.now().astimezone(office.tzinfo).date()
        params = {
            k: (today + dt.timedelta(days=int(v))).isoformat() if v.startswith("+") else v for k, v in params.items()
        }
        body = assert_error(anon.get(self.url(office, **params)), 400, "invalid")
        assert list(body["errors"]) == [field]

    def test_62_days_is_allowed(self, anon, office):
        today = timezone.now().astimezone(office.tzinfo).date()
        response = anon.get(self.url(office, **{"from": today, "to": today + dt.timedelta(days=61)}))
        assert response.status_code == 200 and len(response.json()["days"]) == 62

    def test_unknown_or_inactive_office_is_404(self, anon):
        assert_error(anon.get("/api/v1/offices/nope/availability/"), 404, "not_found")
        closed = OfficeFactory(is_active=False)
        assert_error(anon.get(self.url(closed)), 404, "not_found")


def test_unknown_api_path_is_json_404(anon, db):
    assert_error(anon.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(anon.post("/api/v1/applications/ABC/nope/", {}, format="json"), 404, "not_found")
