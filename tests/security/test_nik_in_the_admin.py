"""Issue 14, item 1: a masked NIK cannot be recovered through the admin's filters or search.

A regional reader sees 3571**********31; before, `?nik__startswith=...` on the applications
admin answered "a row" or "no row" (34 requests recovered a whole NIK), and `nik__regex` and
`?nik=` worked too. Only staff who serve the person's office may look a NIK up, by its exact
value, in the search box; nobody filters by NIK in the address bar."""

import pytest
from django.urls import reverse

from appointments.models import Applicant
from offices.models import StaffMembership
from tests.factories import StaffMembershipFactory

APPLICATIONS = reverse("admin:appointments_application_changelist")
APPLICANTS = reverse("admin:appointments_applicant_changelist")
EXPORT = reverse("admin:appointments_application_export")


def listed(response) -> set:
    assert response.status_code == 200, response.status_code
    return set(response.context["cl"].result_list)


@pytest.fixture
def person(world):
    """The person behind the Kediri application, listed on the applicant's account."""
    app = world.kediri_app
    person = Applicant.objects.create(
        account=world.applicant, nik=app.nik, full_name=app.full_name, birth_date=app.birth_date, sex=app.sex
    )
    app.applicant = person
    app.save()
    return person


def probes(nik: str) -> list[dict]:
    return [
        {"nik__startswith": nik[:12]},
        {"nik__regex": f"^{nik[:6]}"},
        {"nik__contains": nik[4:10]},
        {"nik": nik},
        {"nik__exact": nik},
        {"nik__gt": nik[:8]},
        {"applicant__nik__startswith": nik[:12]},
        {"applications__nik__startswith": nik[:12]},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["jatim_regional", "national", "kediri_officer", "kediri_head", "superuser"])
def test_no_one_filters_by_nik_in_the_address_bar(client, world, person, who):
    client.force_login(getattr(world, who))
    nik = world.kediri_app.nik
    for url in (APPLICATIONS, APPLICANTS, EXPORT):
        for query in probes(nik):
            assert client.get(url, query).status_code == 400, (url, query)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["jatim_regional", "national"])
def test_readers_who_see_masked_niks_find_nothing_by_nik(client, world, person, who):
    client.force_login(getattr(world, who))
    assert world.kediri_app in listed(client.get(APPLICATIONS))  # they do see the row, masked
    assert listed(client.get(APPLICATIONS, {"q": world.kediri_app.nik})) == set()
    assert listed(client.get(APPLICANTS, {"q": world.kediri_app.nik})) == set()
    assert listed(client.get(APPLICATIONS, {"q": world.kediri_app.nik[:12]})) == set()


@pytest.mark.django_db
def test_staff_who_serve_the_office_find_the_exact_nik_only(client, world, person):
    client.force_login(world.kediri_officer)
    nik = world.kediri_app.nik
    assert listed(client.get(APPLICATIONS, {"q": nik})) == {world.kediri_app}
    assert listed(client.get(APPLICANTS, {"q": nik})) == {person}
    assert listed(client.get(APPLICATIONS, {"q": nik[:15]})) == set()  # no prefix search


@pytest.mark.django_db
def test_a_head_who_also_reads_the_region_finds_only_niks_of_offices_they_serve(client, world, person):
    user = world.kediri_head
    StaffMembershipFactory(user=user, role=StaffMembership.Role.REGIONAL, office=None, region=world.kediri.region)
    client.force_login(user)
    assert world.malang_app in listed(client.get(APPLICATIONS))  # Malang is read, masked
    assert listed(client.get(APPLICATIONS, {"q": world.malang_app.nik})) == set()
    assert listed(client.get(APPLICATIONS, {"q": world.kediri_app.nik})) == {world.kediri_app}


@pytest.mark.django_db
def test_the_list_filters_still_work(client, world):
    client.force_login(world.jatim_regional)
    day = world.kediri_slot.date.isoformat()
    for query in (
        {"status__exact": "pending_payment"},
        {"slot__date__gte": day, "slot__date__lt": "2999-01-01"},
        {"slot__office__id__exact": world.kediri.pk},
        {"walk_in__exact": "0"},
        {"slot__pool__exact": "online"},
        {"session": world.kediri_slot.pk},
        {"kind__exact": "new", "priority_group__isnull": "True"},
    ):
        assert client.get(APPLICATIONS, query).status_code == 200, query
    assert client.get(EXPORT, {"status__exact": "pending_payment"}).status_code == 200
