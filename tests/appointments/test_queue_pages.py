"""The queue's pages: a desk calls and acts on numbers in place (htmx), or by plain forms; the
waiting-room screen shows numbers and desks only, at an unguessable address, without a login."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import QueueDisplay
from appointments.services.counter import check_in_application
from appointments.services.queue import call_next, display_key_of, replace_display_key
from tests.factories import ApplicationFactory
from tests.staff_world import today_slot


def checked_in(slot, name="Dewi Lestari"):
    application = ApplicationFactory(slot=slot, full_name=name)
    return check_in_application(application_id=application.pk)


@pytest.fixture
def kediri(world):
    world.kediri.counter_count = 3
    world.kediri.save(update_fields=["counter_count"])
    return world.kediri


@pytest.mark.django_db
class TestQueuePage:
    def test_call_next_and_the_actions_answer_in_place(self, client, world, kediri):
        application = checked_in(today_slot(kediri))
        client.force_login(world.kediri_officer)
        response = client.post(reverse("staff:call_next"), {"desk": "2"}, HTTP_HX_REQUEST="true")
        text = response.content.decode()
        assert response.status_code == 200 and 'role="status"' in text
        assert "A-001 dipanggil ke loket 2" in text and 'id="queue-live" hx-swap-oob="true"' in text
        assert client.session["counter_desk"] == 2

        served = reverse("staff:queue_action", args=[application.pk, "served"])
        assert client.post(served, HTTP_HX_REQUEST="true").status_code == 200
        refused = client.post(served, HTTP_HX_REQUEST="true")
        assert refused.status_code == 409 and 'role="alert"' in refused.content.decode()
        nobody = client.post(reverse("staff:call_next"), {"desk": "2"}, HTTP_HX_REQUEST="true")
        assert "Tidak ada yang menunggu." in nobody.content.decode()
        bad_desk = client.post(reverse("staff:call_next"), {"desk": "9"}, HTTP_HX_REQUEST="true")
        assert bad_desk.status_code == 400 and 'role="alert"' in bad_desk.content.decode()
        assert client.post(reverse("staff:queue_action", args=[application.pk, "delete"])).status_code == 404

    def test_without_javascript_the_answer_is_a_message_after_a_redirect(self, client, world, kediri):
        checked_in(today_slot(kediri))
        client.force_login(world.kediri_officer)
        response = client.post(reverse("staff:call_next"), {"desk": "1"}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("staff:queue")
        assert "A-001" in " ".join(str(m) for m in response.context["messages"])
        assert [a.queue_number for a in response.context["at_desk"]] == ["A-001"]

    def test_the_page_shows_who_waits_and_who_is_called(self, client, world, kediri):
        slot = today_slot(kediri)
        checked_in(slot, "Dewi Lestari")
        checked_in(slot, "Rina Wati")
        call_next(office_id=kediri.pk, desk=3)
        client.force_login(world.kediri_officer)
        response = client.get(reverse("staff:queue"))
        queue = response.context["queue"]
        assert [a.full_name for a in queue.called] == ["Dewi Lestari"]
        assert [a.full_name for a in queue.waiting] == ["Rina Wati"]
        assert response.context["at_other_desks"] == queue.called  # this browser is at desk 1
        key = QueueDisplay.objects.get(office=kediri).key
        assert f"/staff/screen/{key}/" in response.content.decode()

    def test_queries_do_not_grow_with_the_queue(self, client, world, kediri):
        slot = today_slot(kediri, capacity=40)
        checked_in(slot)
        client.force_login(world.kediri_officer)
        client.get(reverse("staff:queue"))
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("staff:queue"))
        for n in range(10):
            checked_in(slot, f"Pemohon {n}")
        call_next(office_id=kediri.pk, desk=1)
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("staff:queue"))
        assert len(many.captured_queries) == len(few.captured_queries) <= 10

    @pytest.mark.parametrize("user", ["jatim_regional", "national", "applicant"])
    def test_only_office_staff_open_the_queue(self, client, world, user):
        client.force_login(getattr(world, user))
        assert client.get(reverse("staff:queue")).status_code == 404
        assert client.post(reverse("staff:call_next"), {"desk": "1"}).status_code == 404


@pytest.mark.django_db
class TestScreen:
    def test_numbers_and_desks_only_without_a_login(self, client, kediri):
        slot = today_slot(kediri)
        for name in ("Dewi Lestari", "Rina Wati", "Sri Rahayu"):
            checked_in(slot, name)
        call_next(office_id=kediri.pk, desk=2)
        call_next(office_id=kediri.pk, desk=3)
        key = display_key_of(office_id=kediri.pk)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("staff:screen", args=[key]))
        assert len(queries.captured_queries) == 3
        text = response.content.decode()
        assert response.status_code == 200 and response["X-Robots-Tag"] == "noindex"
        screen = response.context["screen"]
        assert screen.calls == [("A-002", 3), ("A-001", 2)] and screen.waiting == 1
        assert "every 4s" in text
        for name in ("Dewi", "Rina", "Sri"):
            assert name not in text

        live = client.get(reverse("staff:screen", args=[key]), HTTP_HX_REQUEST="true").content.decode()
        assert 'id="screen-live"' in live and "<html" not in live

    def test_an_unknown_or_replaced_address_shows_nothing(self, client, kediri):
        old = display_key_of(office_id=kediri.pk)
        assert display_key_of(office_id=kediri.pk) == old and len(old) >= 32
        new = replace_display_key(office_id=kediri.pk)
        assert client.get(reverse("staff:screen", args=[old])).status_code == 404
        assert client.get(reverse("staff:screen", args=[new])).status_code == 200
        assert client.get(reverse("staff:screen", args=["x"])).status_code == 404

    def test_staff_replace_the_address_from_the_queue_page(self, client, world, kediri):
        old = display_key_of(office_id=kediri.pk)
        client.force_login(world.kediri_officer)
        client.post(reverse("staff:replace_screen_address"))
        assert QueueDisplay.objects.get(office=kediri).key != old

    def test_only_this_offices_calls(self, client, world, kediri):
        checked_in(today_slot(world.malang))
        call_next(office_id=world.malang.pk, desk=1)
        key = display_key_of(office_id=kediri.pk)
        screen = client.get(reverse("staff:screen", args=[key])).context["screen"]
        assert (screen.calls, screen.waiting) == ([], 0)
