import pytest


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_under_the_csp(settings, page, screenshot):
    """/api/v1/docs/ loads Swagger UI from our own static files, with no CSP violation."""
    # No collectstatic in tests: resolve static URLs without the manifest (live_server serves
    # them from the finders).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    response = page.goto("/api/v1/docs/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("text=/api/v1/applications/", timeout=15_000)
    page.wait_for_selector(".opblock-tag", timeout=15_000)
    screenshot("docs")
    assert violations == []
