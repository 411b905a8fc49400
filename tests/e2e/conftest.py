"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium), never a downloaded one.

Screenshots of every walked page land in test-artifacts/ for people to look at.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.reports.conftest import regional_jatim, world  # noqa: F401 - the reports dashboard's known world

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}  # a common phone, portrait


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's Chromium is missing: `make test` installs it (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page in Indonesian (the default language), with the live server's address."""
    context = browser.new_context(viewport=PHONE, locale="id-ID", base_url=live_server.url, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def capture(page, path: Path, *, full_page: bool = False) -> None:
    """Save a screenshot to look at. Chromium now and then refuses one capture ("Unable to capture
    screenshot") and takes the same picture when asked again: ask once more before failing."""
    try:
        page.screenshot(path=str(path), full_page=full_page)
    except PlaywrightError as error:
        if "Unable to capture screenshot" not in str(error):
            raise
        page.wait_for_timeout(500)
        page.screenshot(path=str(path), full_page=full_page)


@pytest.fixture
def screenshot(page, request):
    """screenshot("name") saves test-artifacts/<test>-<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str):
        capture(page, ARTIFACTS / f"{request.node.name}-{name}.png", full_page=True)

    return take


def log_in(page, *, email: str, password: str = "Rahasia-Kuat-123"):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    # "main": the header holds other forms (language switch, log out).
    page.click("main form button[type=submit]")
    # Wait for the answer: a page.goto() while the login is in flight would abort it.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def check_accessibility(page, *, context=None):
    """Run axe-core (shipped inside axe-playwright-python, nothing downloaded) on the current
    page and fail on any serious or critical violation, naming the rule and the elements."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": AXE_TAGS}}
    violations = Axe().run(page, context=context, options=options).response["violations"]
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {[node['target'] for node in v['nodes']][:5]}" for v in serious
    )
    assert not serious, f"{page.url}:\n{report}"


def press_until_focused(page, selector: str, *, key: str = "Tab", limit: int = 60):
    """Press Tab until the element matching `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("sel => document.activeElement && document.activeElement.matches(sel)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never got the focus by {key}")
