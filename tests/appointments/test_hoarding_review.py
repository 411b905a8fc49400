"""The review queue of hoarding flags: who sees which flags, who decides, what a decision does
and that it is audited; and the count of flags per office in the reports."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.hoarding import BLOCKED, Hit
from accounts.models import AccountFlag, User
from accounts.services import raise_hoarding_flags
from reports.selectors import flags_per_office
from tests.staff_world import world  # noqa: F401 - the offices and staff of the scoping tests

pytestmark = pytest.mark.django_db

LIST = reverse("admin:accounts_accountflag_changelist")


def change_url(flag):
    return reverse("admin:accounts_accountflag_change", args=[flag.pk])


def decide_url(flag):
    return reverse("admin:accounts_accountflag_decide", args=[flag.pk])


@pytest.fixture
def flagged(world):  # noqa: F811 - the fixture imported above
    """A restricting flag on the account that applied at Kediri (Jawa Timur), one on the account
    that applied at Denpasar (Bali)."""
    raised = raise_hoarding_flags(
        hits={
            "expired_holds": [
                Hit(account_id=world.kediri_app.account_id, count=3),
                Hit(account_id=world.denpasar_app.account_id, count=4),
            ]
        }
    )
    return {flag.account_id: flag for flag in raised}


def listed(client, user) -> set[int]:
    client.force_login(user)
    response = client.get(LIST)
    assert response.status_code == 200
    return {flag.pk for flag in response.context["cl"].result_list}


def test_national_staff_see_every_flag_and_regional_staff_those_of_their_region(client, world, flagged):  # noqa: F811
    kediri = flagged[world.kediri_app.account_id]
    denpasar = flagged[world.denpasar_app.account_id]
    assert listed(client, world.national) == {kediri.pk, denpasar.pk}
    assert listed(client, world.superuser) == {kediri.pk, denpasar.pk}
    assert listed(client, world.jatim_regional) == {kediri.pk}
    assert listed(client, world.bali_regional) == {denpasar.pk}
    client.force_login(world.jatim_regional)
    assert client.get(change_url(denpasar)).status_code == 404  # another region's flag does not exist


@pytest.mark.parametrize("role", ["kediri_officer", "kediri_head", "applicant"])
def test_office_staff_and_applicants_have_no_review_queue(client, world, flagged, role):  # noqa: F811
    client.force_login(getattr(world, role))
    assert client.get(LIST).status_code in (302, 403)
    assert client.get(change_url(flagged[world.kediri_app.account_id])).status_code in (302, 403, 404)
    assert AccountFlag.objects.filter(state="open").count() == 2


def test_the_flag_page_shows_the_accounts_applications_in_the_region_with_masked_niks(client, world, flagged):  # noqa: F811
    flag = flagged[world.kediri_app.account_id]
    client.force_login(world.jatim_regional)
    page = client.get(change_url(flag)).content.decode()
    assert world.kediri_app.booking_code in page
    assert world.kediri_app.nik not in page and world.kediri_app.masked_nik in page
    assert "_lift" in page and "_block" in page


def test_a_regional_reviewer_lifts_a_flag_and_its_restriction_audited(client, world, flagged):  # noqa: F811
    flag = flagged[world.kediri_app.account_id]
    assert User.objects.get(pk=flag.account_id).restricted_until is not None
    client.force_login(world.jatim_regional)
    response = client.post(decide_url(flag), {"note": "satu keluarga, sudah dicek", "_lift": "1"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.state, flag.decided_by, flag.note) == ("lifted", world.jatim_regional, "satu keluarga, sudah dicek")
    account = User.objects.get(pk=flag.account_id)
    assert (account.restricted_until, account.restricted_by) == (None, "")
    latest = flag.history.first()
    assert (latest.state, latest.history_user) == ("lifted", world.jatim_regional)
    # Decided: no second decision, and the note is no longer editable.
    client.post(decide_url(flag), {"note": "lagi", "_block": "1"})
    flag.refresh_from_db()
    assert flag.state == "lifted" and User.objects.get(pk=flag.account_id).restricted_by == ""


def test_a_national_reviewer_blocks_the_account(client, world, flagged):  # noqa: F811
    flag = flagged[world.denpasar_app.account_id]
    client.force_login(world.national)
    client.post(decide_url(flag), {"note": "calo, 40 akun", "_block": "1"})
    flag.refresh_from_db()
    assert (flag.state, flag.decided_by) == ("blocked", world.national)
    assert User.objects.get(pk=flag.account_id).restricted_by == BLOCKED


def test_a_regional_reviewer_cannot_decide_another_regions_flag(client, world, flagged):  # noqa: F811
    flag = flagged[world.denpasar_app.account_id]
    client.force_login(world.jatim_regional)
    assert client.post(decide_url(flag), {"_block": "1"}).status_code == 404
    flag.refresh_from_db()
    assert flag.state == "open"


def test_reports_count_a_flag_at_each_office_its_account_applied_at_within_the_window(world, flagged):  # noqa: F811
    today = timezone.localdate()
    offices = [world.kediri, world.malang, world.denpasar]
    assert flags_per_office(offices=offices, date_from=today, date_to=today) == {
        world.kediri.pk: 1,
        world.denpasar.pk: 1,
    }
    yesterday = today - dt.timedelta(days=1)
    assert flags_per_office(offices=offices, date_from=yesterday, date_to=yesterday) == {}


def test_the_history_is_evidence_within_the_reviewers_scope(client, world, flagged):  # noqa: F811
    kediri = flagged[world.kediri_app.account_id]
    denpasar = flagged[world.denpasar_app.account_id]
    client.force_login(world.jatim_regional)
    assert client.get(reverse("admin:accounts_accountflag_history", args=[kediri.pk])).status_code == 200
    assert client.get(reverse("admin:accounts_accountflag_history", args=[denpasar.pk])).status_code == 404
    # The flag's form saves nothing: decisions go through the decide view and its services.
    assert client.post(change_url(kediri), {"note": "diubah", "state": "lifted"}).status_code == 403
    kediri.refresh_from_db()
    assert (kediri.state, kediri.note) == ("open", "")
