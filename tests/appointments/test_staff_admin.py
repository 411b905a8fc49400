"""The admin, role by role: list, detail, change, actions, export, forged ids."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from appointments.models import Application, ApplicationEvent, Status, mask_nik
from quotas.models import Slot
from tests.factories import ApplicationFactory
from tests.staff_world import today_slot

LIST = reverse("admin:appointments_application_changelist")
EXPORT = reverse("admin:appointments_application_export")


def change_url(application):
    return reverse("admin:appointments_application_change", args=[application.pk])


def history_url(application):
    return reverse("admin:appointments_application_history", args=[application.pk])


def listed_codes(response):
    return {a.booking_code for a in response.context["cl"].result_list}


def export_rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))[1:]


@pytest.mark.django_db
class TestListAndDetail:
    @pytest.mark.parametrize(
        "user, expected",
        [
            ("kediri_officer", {"kediri_app"}),
            ("kediri_head", {"kediri_app"}),
            ("malang_head", {"malang_app", "ulp_app"}),
            ("jatim_regional", {"kediri_app", "malang_app", "ulp_app"}),
            ("bali_regional", {"denpasar_app"}),
            ("national", {"kediri_app", "malang_app", "ulp_app", "denpasar_app"}),
            ("superuser", {"kediri_app", "malang_app", "ulp_app", "denpasar_app"}),
        ],
    )
    def test_list_and_export_show_only_the_users_offices(self, client, world, user, expected):
        client.force_login(getattr(world, user))
        response = client.get(LIST)
        assert response.status_code == 200
        wanted = {getattr(world, name).booking_code for name in expected}
        assert listed_codes(response) == wanted
        rows = export_rows(client.get(EXPORT))
        assert {row[0] for row in rows} == wanted

    def test_list_shows_masked_nik_only(self, client, world):
        client.force_login(world.kediri_officer)
        body = client.get(LIST).content.decode()
        assert mask_nik(world.kediri_app.nik) in body
        assert world.kediri_app.nik not in body

    def test_detail_shows_full_nik_to_the_offices_staff_only(self, client, world):
        client.force_login(world.kediri_officer)
        response = client.get(change_url(world.kediri_app))
        assert response.status_code == 200
        assert world.kediri_app.nik in response.content.decode()

        client.force_login(world.jatim_regional)
        body = client.get(change_url(world.kediri_app)).content.decode()
        assert world.kediri_app.nik not in body and mask_nik(world.kediri_app.nik) in body

    @pytest.mark.parametrize("user", ["kediri_officer", "kediri_head", "bali_regional"])
    def test_forged_ids_answer_404(self, client, world, user):
        client.force_login(getattr(world, user))
        for url in (
            change_url(world.malang_app),
            history_url(world.malang_app),
            reverse("admin:appointments_application_delete", args=[world.malang_app.pk]),
            reverse("admin:quotas_slot_change", args=[world.malang_slot.pk]),
            reverse("admin:quotas_slot_history", args=[world.malang_slot.pk]),
            reverse("admin:offices_office_change", args=[world.malang.pk]),
        ):
            response = client.get(url)
            # Django checks the right to delete before it looks the object up: 403 there.
            assert response.status_code in ((403, 404) if "delete" in url else (404,)), url
            assert world.malang_app.nik not in response.content.decode()

    def test_forged_post_to_another_offices_application_changes_nothing(self, client, world):
        client.force_login(world.kediri_officer)
        response = client.post(change_url(world.malang_app), {"full_name": "Diubah", "phone": "0800"})
        assert response.status_code == 404
        world.malang_app.refresh_from_db()
        assert world.malang_app.full_name != "Diubah"

    def test_applicant_not_staff_is_kept_out(self, client, world):
        client.force_login(world.applicant)
        response = client.get(LIST)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_search_by_code_nik_and_name(self, client, world):
        client.force_login(world.malang_head)
        assert listed_codes(client.get(LIST, {"q": world.malang_app.booking_code.lower()})) == {
            world.malang_app.booking_code
        }
        assert listed_codes(client.get(LIST, {"q": world.ulp_app.nik})) == {world.ulp_app.booking_code}
        # Another office's NIK finds nothing, even typed in full.
        assert listed_codes(client.get(LIST, {"q": world.kediri_app.nik})) == set()
        assert listed_codes(client.get(LIST, {"q": "Pemohon ulp"})) == {world.ulp_app.booking_code}

    def test_filters_and_export_follow_them(self, client, world):
        other = ApplicationFactory(slot=world.malang_slot, status=Status.CANCELLED)
        client.force_login(world.malang_head)
        response = client.get(LIST, {"status__exact": "cancelled"})
        assert listed_codes(response) == {other.booking_code}
        rows = export_rows(client.get(EXPORT, {"status__exact": "cancelled"}))
        assert [row[0] for row in rows] == [other.booking_code]
        # The office's staff get the full NIK in their export.
        assert rows[0][7] == other.nik
        # A forged session id from another office filters to nothing.
        assert listed_codes(client.get(LIST, {"session": str(world.kediri_slot.pk)})) == set()
        assert listed_codes(client.get(LIST, {"session": str(world.malang_slot.pk)})) == {
            world.malang_app.booking_code,
            other.booking_code,
        }

    def test_regional_export_masks_nik(self, client, world):
        client.force_login(world.jatim_regional)
        rows = export_rows(client.get(EXPORT))
        assert all("*" in row[7] for row in rows)


@pytest.mark.django_db
class TestChange:
    def test_status_is_read_only_and_contact_fields_editable(self, client, world):
        client.force_login(world.kediri_officer)
        response = client.post(
            change_url(world.kediri_app),
            {
                "full_name": "Siti Aminah Baru",
                "phone": "08111",
                "status": "collected",
                "events-TOTAL_FORMS": "0",
                "events-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content[:2000]
        world.kediri_app.refresh_from_db()
        assert world.kediri_app.full_name == "Siti Aminah Baru"
        assert world.kediri_app.status == Status.BOOKED
        # ... and the audit history says who changed it.
        record = world.kediri_app.history.latest()
        assert record.history_user == world.kediri_officer and record.full_name == "Siti Aminah Baru"
        assert client.get(history_url(world.kediri_app)).status_code == 200

    def test_the_request_to_come_earlier_is_shown_read_only(self, client, world):
        wanted = world.kediri_app.slot.date - dt.timedelta(days=1)
        Application.objects.filter(pk=world.kediri_app.pk).update(earlier_from=wanted, earlier_asked_at=timezone.now())
        client.force_login(world.kediri_officer)
        page = client.get(change_url(world.kediri_app)).content.decode()
        with translation.override("id"):
            assert "Ingin datang lebih awal mulai" in page and formats.localize(wanted) in page
        assert 'name="earlier_from"' not in page
        client.post(
            change_url(world.kediri_app),
            {
                "full_name": world.kediri_app.full_name,
                "phone": world.kediri_app.phone,
                "earlier_from": "",
                "events-TOTAL_FORMS": "0",
                "events-INITIAL_FORMS": "0",
            },
        )
        assert Application.objects.get(pk=world.kediri_app.pk).earlier_from == wanted

    @pytest.mark.parametrize("user", ["jatim_regional", "national"])
    def test_supervisors_read_but_do_not_change(self, client, world, user):
        client.force_login(getattr(world, user))
        assert client.get(change_url(world.kediri_app)).status_code == 200
        response = client.post(change_url(world.kediri_app), {"full_name": "X", "phone": "1"})
        assert response.status_code == 403
        world.kediri_app.refresh_from_db()
        assert world.kediri_app.full_name != "X"


def act(client, action, applications, **extra):
    return client.post(
        LIST, {"action": action, "_selected_action": [a.pk for a in applications], **extra}, follow=False
    )


@pytest.mark.django_db
class TestActions:
    def test_the_whole_life_cycle_through_actions_leaves_events(self, client, world):
        app = ApplicationFactory(slot=today_slot(world.kediri))
        client.force_login(world.kediri_officer)
        for action, status in [
            ("check_in", Status.CHECKED_IN),
            ("start_processing", Status.IN_PROCESS),
            ("approve", Status.APPROVED),
            ("mark_issued", Status.ISSUED),
            ("mark_collected", Status.COLLECTED),
        ]:
            assert act(client, action, [app]).status_code == 302
            app.refresh_from_db()
            assert app.status == status, action
        assert app.queue_number == "A-001" and app.checked_in_at
        events = list(ApplicationEvent.objects.filter(application=app).values_list("to_status", "actor"))
        assert events == [
            (s, world.kediri_officer.pk) for s in ["checked_in", "in_process", "approved", "issued", "collected"]
        ]

    def test_reject_asks_for_a_reason_first(self, client, world):
        app = ApplicationFactory(slot=today_slot(world.kediri), status=Status.CHECKED_IN)
        client.force_login(world.kediri_head)
        response = act(client, "reject", [app])
        assert response.status_code == 200 and b'name="reason"' in response.content
        app.refresh_from_db()
        assert app.status == Status.CHECKED_IN
        # An empty reason is refused; nothing changes.
        response = act(client, "reject", [app], apply="1", reason="  ")
        assert response.status_code == 200
        app.refresh_from_db()
        assert app.status == Status.CHECKED_IN
        response = act(client, "reject", [app], apply="1", reason="Dokumen KK tidak sesuai")
        assert response.status_code == 302
        app.refresh_from_db()
        assert app.status == Status.REJECTED
        event = app.events.last()
        assert (event.to_status, event.reason, event.actor) == (
            "rejected",
            "Dokumen KK tidak sesuai",
            world.kediri_head,
        )

    def test_cancel_with_reason_gives_the_place_back(self, client, world):
        client.force_login(world.kediri_officer)
        act(client, "cancel", [world.kediri_app], apply="1", reason="Permintaan pemohon")
        world.kediri_app.refresh_from_db()
        assert world.kediri_app.status == Status.CANCELLED
        assert Slot.objects.get(pk=world.kediri_slot.pk).taken == 0
        assert world.kediri_app.events.last().reason == "Permintaan pemohon"

    def test_no_show_only_after_the_session_started(self, client, world):
        client.force_login(world.kediri_officer)
        act(client, "mark_no_show", [world.kediri_app])  # its session is in 3 days
        world.kediri_app.refresh_from_db()
        assert world.kediri_app.status == Status.BOOKED
        started = ApplicationFactory(slot=today_slot(world.kediri))
        act(client, "mark_no_show", [started])
        started.refresh_from_db()
        assert started.status == Status.NO_SHOW
        assert started.events.last().to_status == "no_show"

    def test_a_refused_transition_changes_nothing_and_says_why(self, client, world):
        client.force_login(world.kediri_officer)
        response = act(
            client,
            "approve",
            [world.kediri_app],
        )
        assert response.status_code == 302
        world.kediri_app.refresh_from_db()
        assert world.kediri_app.status == Status.BOOKED
        assert not world.kediri_app.events.exists()

    def test_forged_selection_of_another_offices_application_does_nothing(self, client, world):
        client.force_login(world.kediri_officer)
        act(client, "cancel", [world.malang_app], apply="1", reason="iseng")
        act(client, "check_in", [world.malang_app])
        world.malang_app.refresh_from_db()
        assert world.malang_app.status == Status.BOOKED
        assert not world.malang_app.events.exists()

    @pytest.mark.parametrize("user", ["jatim_regional", "national"])
    def test_supervisors_have_no_actions(self, client, world, user):
        client.force_login(getattr(world, user))
        response = client.get(LIST)
        assert response.context["action_form"] is None  # no action offered at all
        act(client, "cancel", [world.kediri_app], apply="1", reason="x")
        world.kediri_app.refresh_from_db()
        assert world.kediri_app.status == Status.BOOKED


@pytest.mark.django_db
def test_applicants_admin_is_scoped_and_masks_nik(client, world):
    from appointments.models import Applicant

    kediri_person = Applicant.objects.create(
        account=world.kediri_app.account,
        nik=world.kediri_app.nik,
        full_name="Orang Kediri",
        birth_date=world.kediri_app.birth_date,
        sex="M",
    )
    world.kediri_app.applicant = kediri_person
    world.kediri_app.save()
    malang_person = Applicant.objects.create(
        account=world.malang_app.account,
        nik=world.malang_app.nik,
        full_name="Orang Malang",
        birth_date=world.malang_app.birth_date,
        sex="M",
    )
    world.malang_app.applicant = malang_person
    world.malang_app.save()
    client.force_login(world.kediri_officer)
    listing = client.get(reverse("admin:appointments_applicant_changelist"))
    assert [a.full_name for a in listing.context["cl"].result_list] == ["Orang Kediri"]
    assert kediri_person.nik not in listing.content.decode()
    assert client.get(reverse("admin:appointments_applicant_change", args=[malang_person.pk])).status_code == 404
    detail = client.get(reverse("admin:appointments_applicant_change", args=[kediri_person.pk]))
    assert kediri_person.nik in detail.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["kediri_officer", "kediri_head", "jatim_regional", "national", "superuser"])
def test_every_staff_screen_opens_and_kediri_never_sees_malang(client, world, user):
    from quotas.models import DateOverride, QuotaRule, ReleaseSchedule, ServiceProgram

    QuotaRule.objects.create(
        office=world.malang, weekday=0, start_time="08:00", end_time="10:00", valid_from="2026-01-01", online_capacity=5
    )
    ServiceProgram.objects.create(
        office=world.malang, name="Program Malang", date_from="2026-01-01", date_to="2026-01-31"
    )
    DateOverride.objects.create(office=world.malang, date="2026-12-25", closed=True, reason="Banjir Malang")
    ReleaseSchedule.objects.create(office=world.malang)
    client.force_login(getattr(world, user))
    assert client.get(reverse("admin:index")).status_code == 200
    for name in [
        "offices_office",
        "offices_region",
        "quotas_quotarule",
        "quotas_serviceprogram",
        "quotas_dateoverride",
        "quotas_releaseschedule",
        "quotas_slot",
        "appointments_application",
        "appointments_applicant",
        "appointments_fee",
    ]:
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
        if user.startswith("kediri"):
            assert "Malang" not in response.content.decode(), name


@pytest.mark.django_db
def test_application_list_queries_do_not_grow_with_rows(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.malang_head)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    Slot.objects.filter(pk=world.ulp_slot.pk).update(capacity=20)
    for _ in range(10):
        ApplicationFactory(slot=world.ulp_slot)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.context["cl"].result_list) == 12
    assert len(many.captured_queries) == len(few.captured_queries)
