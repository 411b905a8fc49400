import pytest

from appointments.models import Status
from tests.factories import ApplicationFactory, UserFactory
from tests.staff_world import world  # noqa: F401 - the offices and staff of the scoping tests


@pytest.fixture
def own(world):  # noqa: F811 - the fixture imported above
    """The world applicant's booked application at Kediri (a new passport: e-KTP, KK, birth certificate)."""
    return ApplicationFactory(account=world.applicant, slot=world.kediri_slot, status=Status.BOOKED, kind="new")


@pytest.fixture
def stranger(db):
    return UserFactory(email="orang.lain@example.com")
