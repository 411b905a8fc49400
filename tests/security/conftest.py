import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Pages render without a collectstatic manifest in tests (DEBUG is off here)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
