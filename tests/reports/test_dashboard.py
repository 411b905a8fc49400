import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext
from openpyxl import load_workbook

from offices.models import StaffMembership
from reports.exports import sheet_names
from reports.models import OfficeDay
from tests.factories import OfficeFactory, UserFactory

from .conftest import session, staff

pytestmark = pytest.mark.django_db
URL = reverse("reports:dashboard")
MARCH = {"month": "2026-03"}


def rows_of(html: str, section: str) -> list[list[str]]:
    """The cells of one table on the page (tbody and tfoot), as text."""
    table = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S).group(1)
    body = table.split("</thead>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def number(text: str):
    """A cell as the page shows it (Indonesian: decimal comma) back to a number, or None."""
    if text == "–":
        return None
    plain = text.rstrip(" %").replace(".", "").replace(",", ".")  # 1.234,5 -> 1234.5
    return round(float(plain) / 100, 3) if text.endswith("%") else float(plain)


def office_names(response) -> list[str]:
    return [row["office"] for row in response.context["report"].summary]


def test_regional_user_sees_the_month_of_their_region_with_hand_counted_figures(client, regional_jatim):
    client.force_login(regional_jatim)
    response = client.get(URL, MARCH)
    assert response.status_code == 200
    assert office_names(response) == ["Kanim Malang", "Kanim Surabaya"]
    surabaya = rows_of(response.content.decode(), "table-0")[1]
    # office, online offered/taken, utilisation, priority offered/taken, booked, paid, expired,
    # cancelled, checked in, no-show, no-show rate, walk-ins (beyond the pool), walk-in session places
    # offered and taken, same-day places offered and taken, weekend share, days sold out,
    # average sell-out minutes, average lead days, days with nothing free (Saturday 7 March),
    # searches, unmet, unmet share, documents deleted by the retention job, hoarding flags
    # (tests/reports/test_hoarding_flags.py).
    assert surabaya == [
        "Kanim Surabaya",
        "9",
        "7",
        "77,8 %",
        "2",
        "1",
        "9",
        "8",
        "1",
        "1",
        "6",
        "2",
        "25,0 %",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "25,0 %",
        "1",
        "40,0",
        "5,0",
        "1",
        "3",
        "2",
        "66,7 %",
        "0",
        "0",
    ]
    capacity = rows_of(response.content.decode(), "table-1")[1]
    # No staff and facilities entered and no step timed: the capacity is unknown, not a guess;
    # (9 + 2) / 2 offered a day; March 2026 has 4 Saturdays (one with sessions) and 5 Sundays.
    assert capacity[0] == "Kanim Surabaya" and capacity[1:3] == ["–", "–"]
    assert capacity[3] == "5,5" and capacity[-4:] == ["3", "5", "–", "–"]


def test_one_office_can_be_chosen_and_charts_get_their_data(client, regional_jatim):
    client.force_login(regional_jatim)
    response = client.get(URL, {**MARCH, "office": "kanim-surabaya"})
    assert office_names(response) == ["Kanim Surabaya"]
    html = response.content.decode()
    assert 'id="report-chart-data"' in html and "<canvas" in html
    data = response.context["chart_data"]
    assert len(data["labels"]) == 31 and data["labels"][0] == "2026-03-01"
    shown = {
        day: (offered, taken)
        for day, offered, taken in zip(data["labels"], data["offered"], data["taken"], strict=True)
        if offered
    }
    assert shown == {"2026-03-02": (5, 5), "2026-03-07": (4, 2)}
    assert (data["weekparts"]["offered"], data["weekparts"]["taken"]) == ([5, 4], [5, 2])
    assert "<script>" not in html  # CSP: data only in json_script, code only in static files


def test_an_office_outside_the_scope_is_refused_and_nothing_shown(client, regional_jatim):
    client.force_login(regional_jatim)
    response = client.get(URL, {**MARCH, "office": "kanim-denpasar"})
    assert response.status_code == 400
    assert response.context["report"] is None
    response = client.get(URL, {"month": "Maret"})
    assert response.status_code == 400
    assert "Pilih bulan" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("national", ["Kanim Denpasar", "Kanim Malang", "Kanim Surabaya"]),
        ("superuser", ["Kanim Denpasar", "Kanim Malang", "Kanim Surabaya"]),
        ("regional_bali", ["Kanim Denpasar"]),
        ("head", ["Kanim Surabaya"]),
        ("head_with_outlet", ["Kanim Surabaya", "MPP Sidoarjo"]),
    ],
)
def test_scope_per_role(client, world, role, expected):
    if role == "head_with_outlet":  # a Kanim head answers for its outlets too (offices.permissions)
        OfficeFactory(
            code="mpp-sidoarjo", name="MPP Sidoarjo", kind="mpp", parent=world["surabaya"], region=world["jatim"]
        )
    user = {
        "national": lambda: staff(StaffMembership.Role.NATIONAL),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
        "regional_bali": lambda: staff(StaffMembership.Role.REGIONAL, region=world["bali"]),
        "head": lambda: staff(StaffMembership.Role.HEAD, office=world["surabaya"]),
        "head_with_outlet": lambda: staff(StaffMembership.Role.HEAD, office=world["surabaya"]),
    }[role]()
    client.force_login(user)
    response = client.get(URL, MARCH)
    assert response.status_code == 200
    assert sorted(office_names(response)) == expected


@pytest.mark.parametrize("who", ["officer", "applicant"])
def test_others_are_refused(client, world, who):
    user = staff(StaffMembership.Role.OFFICER, office=world["surabaya"]) if who == "officer" else UserFactory()
    client.force_login(user)
    assert client.get(URL, MARCH).status_code == 403
    assert client.get(URL, {**MARCH, "format": "xlsx"}).status_code == 403
    assert client.post(reverse("reports:refresh_today")).status_code == 403


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_xlsx_has_the_numbers_of_the_page(client, regional_jatim):
    client.force_login(regional_jatim)
    html = client.get(URL, MARCH).content.decode()
    response = client.get(URL, {**MARCH, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 4
    for index, sheet in enumerate(workbook.worksheets):
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        header_at = 3 if index == 0 else 0  # the first sheet starts with the title lines
        body = values[header_at + 1 :]
        page = rows_of(html, f"table-{index}")
        assert len(body) == len(page), sheet.title
        for sheet_row, page_row in zip(body, page, strict=True):
            assert str(sheet_row[0]) == page_row[0]
            page_numbers = [number(cell) for cell in page_row[1:]] if index != 3 else [number(c) for c in page_row[2:]]
            sheet_numbers = sheet_row[1:] if index != 3 else sheet_row[2:]
            assert [None if v is None else round(float(v), 3) for v in sheet_numbers] == page_numbers, sheet.title
    summary = workbook.worksheets[0]
    assert summary.cell(row=6, column=1).value == "Kanim Surabaya"
    assert summary.cell(row=6, column=4).value == pytest.approx(0.778)


def test_csv_has_the_tables_of_the_page(client, regional_jatim):
    client.force_login(regional_jatim)
    response = client.get(URL, {**MARCH, "office": "kanim-surabaya", "format": "csv"})
    assert 'filename="mpaspor-report-2026-03-kanim-surabaya.csv"' in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [
        "Kanim Surabaya",
        "9",
        "7",
        "77.8",
        "2",
        "1",
        "9",
        "8",
        "1",
        "1",
        "6",
        "2",
        "25.0",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "25.0",
        "1",
        "40.0",
        "5.0",
        "1",
        "3",
        "2",
        "66.7",
        "0",
        "0",
    ] in lines


def test_refresh_today_recomputes_only_the_users_offices(client, regional_jatim, world):
    client.force_login(regional_jatim)
    OfficeDay.objects.all().delete()
    response = client.post(reverse("reports:refresh_today"), {"month": "2026-03"}, follow=True)
    # Today has no sessions in the fixture: nothing for today, and Bali untouched either way.
    assert not OfficeDay.objects.filter(office=world["denpasar"]).exists()
    text = response.content.decode()
    with translation.override("id"):
        message = gettext("Nothing to recompute today: these offices have no sessions, bookings or searches today.")
        assert escape(message) in text


def test_refresh_today_shows_the_month_it_recomputed_and_says_the_same(client, regional_jatim, world):
    """The message and the page speak of the same figures: today's month, which now has them."""
    today = timezone.localdate()
    session(world["surabaya"], today, 8, 5, timezone.now() - dt.timedelta(days=3))
    client.force_login(regional_jatim)
    march = client.get(URL, MARCH).content.decode()
    assert f'action="{reverse("reports:refresh_today")}"' not in march  # only on the month that holds today
    response = client.post(reverse("reports:refresh_today"), {"month": "2026-03"}, follow=True)
    assert response.redirect_chain[-1][0].endswith(f"?month={today:%Y-%m}")
    text = response.content.decode()
    with translation.override("id"):
        recomputed = ngettext(
            "Today's figures were recomputed for %(count)d office.",
            "Today's figures were recomputed for %(count)d offices.",
            1,
        )
        assert escape(recomputed % {"count": 1}) in text
        assert gettext("No figures have been computed for this month yet").split(":")[0] not in text
    assert response.context["computed_at"] is not None


def test_xlsx_sheet_names_are_whole_words_that_fit(client, regional_jatim):
    client.force_login(regional_jatim)
    for language in ("id", "en"):
        with translation.override(language):
            names = sheet_names()
        assert all(len(name) <= 31 for name in names), names
        client.cookies["django_language"] = language
        workbook = load_workbook(io.BytesIO(client.get(URL, {**MARCH, "format": "xlsx"}).content))
        assert workbook.sheetnames == names


@pytest.mark.parametrize("offices", [3, 30])
def test_query_count_does_not_grow_with_data(client, regional_jatim, world, offices, django_assert_max_num_queries):
    """30 offices with a day row for every day of a year read as few queries as 3."""
    extra = [OfficeFactory(region=world["jatim"]) for _ in range(offices)]
    start = dt.date(2026, 1, 1)
    OfficeDay.objects.bulk_create(
        OfficeDay(
            office=office,
            date=start + dt.timedelta(days=n),
            online_offered=100,
            online_taken=n % 100,
            computed_at=dt.datetime(2026, 3, 20, tzinfo=dt.UTC),
        )
        for office in extra
        for n in range(365)
    )
    client.force_login(regional_jatim)
    # session, user, memberships, offices, per-office sums, hoarding flags, per-day sums, the
    # month's draws, the capacity model's resources, timed steps and waits, the blank books' stock
    # (its uses are read only when an office keeps stock), and the banner's incidents on a cold
    # cache (docs/incidents.md).
    with django_assert_max_num_queries(13):
        response = client.get(URL, MARCH)
    assert len(response.context["report"].summary) == offices + 2
    with django_assert_max_num_queries(10):
        assert client.get(URL, {**MARCH, "format": "xlsx"}).status_code == 200


def test_exports_do_not_turn_office_names_into_formulas(client, regional_jatim, world):
    world["malang"].name = '=HYPERLINK("http://example.com","x")'
    world["malang"].save()
    client.force_login(regional_jatim)
    workbook = load_workbook(io.BytesIO(client.get(URL, {**MARCH, "format": "xlsx"}).content))
    names = [row[0].value for row in workbook.worksheets[0].iter_rows(min_row=5, max_row=6)]
    assert names[0].startswith("'=HYPERLINK") and workbook.worksheets[0]["A5"].data_type == "s"
    text = client.get(URL, {**MARCH, "format": "csv"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
