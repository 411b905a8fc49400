"""The menu's staff links appear only for those they serve: no link that answers 404 or 403."""

import pytest

from offices.models import StaffMembership
from tests.factories import OfficeFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def menu(client, user) -> str:
    client.force_login(user)
    return client.get("/").content.decode()


@pytest.mark.parametrize(
    ("role", "counter", "reports"),
    [
        (StaffMembership.Role.OFFICER, True, False),
        (StaffMembership.Role.HEAD, True, True),
        (StaffMembership.Role.REGIONAL, False, True),
    ],
)
def test_each_role_sees_the_links_that_work_for_it(client, role, counter, reports):
    office = OfficeFactory()
    scope = {"office": office} if role != StaffMembership.Role.REGIONAL else {"office": None, "region": office.region}
    user = StaffMembershipFactory(role=role, **scope).user
    page = menu(client, user)
    assert ('href="/staff/counter/"' in page) is counter
    assert ('href="/reports/"' in page) is reports
    assert ('href="/planning/"' in page) is reports  # heads submit evaluations, divisions decide
    assert 'href="/admin/"' in page
    for url, shown in (("/staff/counter/", counter), ("/reports/", reports), ("/planning/", reports)):
        status = client.get(url).status_code
        assert (status in (200, 302)) is shown, (url, status)


def test_an_applicant_and_a_staff_flag_without_membership_see_no_staff_links(client):
    for user in (UserFactory(), UserFactory(is_staff=True)):
        page = menu(client, user)
        assert 'href="/staff/counter/"' not in page and 'href="/reports/"' not in page and 'href="/admin/"' not in page
        assert 'href="/planning/"' not in page
