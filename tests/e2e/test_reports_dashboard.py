"""A Jawa Timur regional user reads the month's report, sees the charts and downloads the XLSX."""

import datetime as dt

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from offices.models import PassportStock
from tests.e2e.conftest import ARTIFACTS, log_in


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_regional_user_reads_the_month_and_downloads_the_xlsx(
    page, screenshot, regional_jatim, world, tmp_path, request
):
    # Today's blank books: Surabaya's e-paspor closes from a day; Malang does not issue it.
    closes = timezone.localdate() + dt.timedelta(days=6)
    PassportStock.objects.create(office=world["surabaya"], passport_type="electronic", on_hand=40, closed_from=closes)
    PassportStock.objects.create(office=world["surabaya"], passport_type="regular", on_hand=2400, booked_ahead=310)
    PassportStock.objects.create(office=world["malang"], passport_type="electronic", issued=False)
    problems = []
    # Script errors and CSP violations show as console errors; failed loads are checked by
    # status below (the browser's own favicon.ico request is the only 404 allowed).
    page.on(
        "console",
        lambda m: m.type == "error" and not m.text.startswith("Failed to load resource") and problems.append(m.text),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and problems.append(f"{r.status} {r.url}"),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, email=regional_jatim.email)  # the site login: e-mail in the field "username"
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto("/reports/")
    assert page.locator("h1").inner_text() == "Laporan"
    page.fill("input[name=month]", "2026-03")
    page.click("form.report-filter button[type=submit]")
    page.wait_for_url("**/reports/?month=2026-03*")
    page.wait_for_function(
        "() => ['chart-quota', 'chart-weekparts'].every(id => "
        "window.Chart && Chart.getChart(document.getElementById(id)))"
    )
    # The charts drew on their canvases: their pixels are not all blank.
    for chart_id in ("chart-quota", "chart-weekparts"):
        painted = page.evaluate(
            """id => { const c = document.getElementById(id);
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; }""",
            chart_id,
        )
        assert painted > 500, chart_id
    summary = page.locator("#table-0 tbody tr").filter(has_text="Kanim Surabaya")
    assert "77,8 %" in summary.inner_text()
    screenshot("dashboard")
    books = page.locator("#book-stock tbody tr")
    expect(books).to_have_count(3)
    expect(books.filter(has_text="Kanim Malang")).to_contain_text("tidak diterbitkan")
    expect(page.locator("#book-stock tr.stock-low")).to_contain_text("Kanim Surabaya")
    page.locator("#book-stock").screenshot(path=str(ARTIFACTS / f"{request.node.name}-book-stock.png"))
    page.locator(".report-charts").screenshot(path=str(ARTIFACTS / f"{request.node.name}-charts.png"))

    with page.expect_download() as download_info:
        page.click("#download-xlsx")
    download = download_info.value
    assert download.suggested_filename == "mpaspor-report-2026-03.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    workbook = load_workbook(path)
    assert workbook.worksheets[0].cell(row=6, column=1).value == "Kanim Surabaya"
    assert workbook.worksheets[0].cell(row=6, column=4).value == pytest.approx(0.778)
    assert problems == []  # no CSP violation, no script error
