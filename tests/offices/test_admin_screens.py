"""The staff screens: accounts managed within a head's offices, staff choices, programme
checkboxes, release schedules per kind, and every column header translatable."""

import datetime as dt

import pytest
from django.db.models import Field
from django.urls import reverse
from django.utils.functional import Promise

from accounts.models import User
from appointments.models import (
    ONLINE_KINDS,
    Applicant,
    Application,
    ApplicationEvent,
    Notification,
    Payment,
    StepRecord,
)
from offices.models import OfficeResources, StaffMembership
from quotas.admin import ONLINE_KIND_CHOICES
from quotas.models import DateOverride, ProgramSession, QuotaRule, ReleaseSchedule, ServiceProgram, Slot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
USERS = reverse("admin:accounts_user_changelist")
ADD_USER = reverse("admin:accounts_user_add")


def listed(client) -> set[str]:
    return {user.email for user in client.get(USERS).context["cl"].result_list}


class TestStaffAccounts:
    def test_a_head_sees_and_creates_only_officers_of_their_office(self, client, world):
        client.force_login(world.kediri_head)
        assert listed(client) == {"petugas.kediri@example.com"}
        answer = client.post(
            ADD_USER,
            {
                "email": "petugas.baru@example.com",
                "full_name": "Petugas Baru",
                "phone": "",
                "office": world.kediri.pk,
                "usable_password": "false",
            },
        )
        assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
        new = User.objects.get(email="petugas.baru@example.com")
        assert new.is_staff and not new.is_superuser and not new.has_usable_password()
        assert list(new.memberships.values_list("role", "office")) == [(StaffMembership.Role.OFFICER, world.kediri.pk)]
        # Another office is not a choice.
        answer = client.post(
            ADD_USER,
            {"email": "x@example.com", "full_name": "X", "office": world.malang.pk, "usable_password": "false"},
        )
        assert answer.status_code == 200 and "office" in answer.context["adminform"].form.errors

    def test_a_head_disables_an_officer_but_never_reaches_applicants_heads_or_passwords(self, client, world):
        client.force_login(world.kediri_head)
        officer = world.kediri_officer
        change = reverse("admin:accounts_user_change", args=[officer.pk])
        form = client.get(change).context["adminform"].form
        assert "password" not in form.fields and "is_superuser" not in form.fields
        answer = client.post(change, {"full_name": officer.full_name, "phone": officer.phone, "_save": "1"})
        assert answer.status_code == 302
        officer.refresh_from_db()
        assert not officer.is_active  # the unticked box disables the account
        for other in (world.applicant, world.malang_officer, world.malang_head, world.superuser, world.kediri_head):
            assert client.get(reverse("admin:accounts_user_change", args=[other.pk])).status_code == 404
        assert client.get(f"/admin/accounts/user/{officer.pk}/password/").status_code == 403
        assert client.post(reverse("admin:accounts_user_delete", args=[officer.pk]), {"post": "yes"}).status_code in (
            403,
            404,
        )
        assert User.objects.filter(pk=officer.pk).exists()

    def test_national_staff_see_all_but_superusers_and_a_superuser_everyone(self, client, world):
        client.force_login(world.national)
        seen = listed(client)
        assert world.applicant.email in seen and world.superuser.email not in seen
        client.force_login(world.superuser)
        assert world.superuser.email in listed(client)

    def test_officers_and_the_division_have_no_accounts_screen(self, client, world):
        for user in (world.kediri_officer, world.jatim_regional):
            client.force_login(user)
            assert client.get(USERS).status_code == 403

    def test_a_membership_is_given_to_staff_accounts_only(self, client, world):
        applicant = UserFactory(email="pemohon.lain@example.com")
        client.force_login(world.superuser)
        form = client.get(reverse("admin:offices_staffmembership_add")).context["adminform"].form
        choices = set(form.fields["user"].queryset)
        assert world.kediri_officer in choices and applicant not in choices and world.applicant not in choices


class TestQuotaScreens:
    def test_a_programmes_weekdays_and_kinds_are_checkboxes(self, client, world):
        client.force_login(world.kediri_head)
        answer = client.post(
            reverse("admin:quotas_serviceprogram_add"),
            {
                "office": world.kediri.pk,
                "name": "Layanan Sabtu",
                "date_from": "2027-01-01",
                "date_to": "2027-06-30",
                "weekdays": ["5", "6"],
                "allowed_kinds": ["replacement_expired", "new"],
                "sessions-TOTAL_FORMS": "0",
                "sessions-INITIAL_FORMS": "0",
                "sessions-MIN_NUM_FORMS": "0",
                "sessions-MAX_NUM_FORMS": "1000",
            },
        )
        assert answer.status_code == 302, answer.context["adminform"].form.errors
        program = ServiceProgram.objects.get(name="Layanan Sabtu")
        assert program.weekdays == [5, 6] and program.allowed_kinds == ["new", "replacement_expired"]
        page = client.get(reverse("admin:quotas_serviceprogram_change", args=[program.pk])).content.decode()
        assert 'type="checkbox" name="weekdays" value="5"' in page and 'type="checkbox" name="allowed_kinds"' in page
        assert [value for value, _label in ONLINE_KIND_CHOICES] == list(ONLINE_KINDS)

    def test_a_release_schedule_groups_each_kinds_own_field(self, client, world):
        schedule = ReleaseSchedule.objects.create(office=world.kediri, kind=ReleaseSchedule.Kind.ROLLING)
        client.force_login(world.kediri_head)
        answer = client.get(reverse("admin:quotas_releaseschedule_change", args=[schedule.pk]))
        page = answer.content.decode()
        assert "release-kind-weekly" in page and "release_schedule_admin.js" in page
        common = answer.context["adminform"].fieldsets[0][1]["fields"]
        assert "weekday" not in common and "days_before" not in common and "day_of_month" not in common

    def test_sessions_and_overrides_are_named(self, world):
        program = ServiceProgram.objects.create(
            office=world.kediri, name="Paspor Simpatik", date_from="2027-01-01", date_to="2027-01-31"
        )
        session = ProgramSession.objects.create(program=program, start_time=dt.time(8), end_time=dt.time(12))
        assert str(session) == "Paspor Simpatik: 08:00–12:00"
        override = DateOverride.objects.create(office=world.kediri, date=dt.date(2027, 1, 5), closed=True)
        assert str(override).startswith("Kantor Imigrasi Kediri 2027-01-05")


@pytest.mark.parametrize(
    "model",
    [StaffMembership, OfficeResources, QuotaRule, ServiceProgram, ProgramSession, DateOverride, ReleaseSchedule, Slot]
    + [Applicant, Application, ApplicationEvent, Payment, Notification, StepRecord],
)
def test_every_column_staff_see_has_a_translatable_name(model):
    for field in model._meta.get_fields():
        if isinstance(field, Field) and field.concrete and not field.primary_key and field.name != "history":
            if model is Notification and field.name in ("last_error", "next_attempt_at", "claimed_at", "context"):
                continue  # internal to the outbox, not shown as columns
            if model is Notification and field.name == "dedupe_key":
                continue
            assert isinstance(field.verbose_name, Promise), f"{model.__name__}.{field.name}"


def test_a_head_keeps_the_staff_and_facilities_of_their_office_only(client, world):
    kediri = OfficeResources.objects.create(office=world.kediri, verifiers=2)
    denpasar = OfficeResources.objects.create(office=world.denpasar, verifiers=2)
    url = "/admin/offices/officeresources/{}/change/"
    client.force_login(world.kediri_head)
    assert client.get(url.format(denpasar.pk)).status_code == 404
    form = client.get(url.format(kediri.pk)).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "office"}
    data.update(verifiers=5, opens_at="08:00", closes_at="15:00")
    data = {k: v for k, v in data.items() if v is not False}
    assert client.post(url.format(kediri.pk), data).status_code == 302
    kediri.refresh_from_db()
    assert kediri.verifiers == 5
    assert kediri.history.first().history_user == world.kediri_head  # audited, with who
    client.force_login(world.jatim_regional)  # the division reads, does not change
    assert client.post(url.format(kediri.pk), {**data, "verifiers": 1}).status_code == 403
    kediri.refresh_from_db()
    assert kediri.verifiers == 5
