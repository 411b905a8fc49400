"""Issue 23: the refusal a squatted owner sees tells them how to contest, and nothing about the
other application. Every path that refuses a NIK because someone's active application holds it
(booking, draw entry, waiting list, an offer's acceptance; web and API) answers with one text:
the booking's `duplicate_application`, which names the "Contest a NIK" page; the web pages add
the button to it. A refusal there costs the account as a refused booking does (probing)."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.models import RefusedNik
from allocation.models import Entry, Offer, Seeker, Waiting
from allocation.services.offers import offer_held_places
from allocation.services.waiting import join_waiting_list
from appointments.exceptions import DuplicateApplication
from appointments.models import Application, Status
from appointments.services.lifecycle import cancel_application
from tests.allocation.helpers import open_release
from tests.allocation.test_pages import household_post
from tests.allocation.test_waiting_list import full_slot, person
from tests.api.conftest import assert_error, client_for
from tests.api.test_applications import booking_body
from tests.api.test_waitlist import join_body, person_body
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMITS_ENABLED = False


@pytest.fixture
def squatted():
    """A broker's booked application on the owner's NIK, at an office with a telling name."""
    office = OfficeFactory(name="Kantor Imigrasi Kelas I TPI Kediri")
    return ApplicationFactory(slot=SlotFactory(office=office, capacity=5), status=Status.BOOKED)


def refusal_text() -> str:
    with translation.override("id"):
        return str(DuplicateApplication.default_message)


def owner_of(application: Application):
    """The NIK's owner as the forms take a person: their own name, the NIK's birth date and sex."""
    return applicant_data(
        nik=application.nik, full_name="Pemilik Asli", birth_date=application.birth_date, sex=application.sex
    )


def tells_nothing_of(application: Application, text: str) -> None:
    for detail in (application.booking_code, application.billing_code, application.slot.office.name, "Siti Aminah"):
        assert detail not in text


def assert_page_refuses_and_links(response, squatted) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert escape(refusal_text()) in page and "Sengketakan NIK" in refusal_text()
    assert 'id="contest-nik"' in page and reverse("appointments:nik_disputes") in page
    tells_nothing_of(squatted, page)


class TestOnTheWeb:
    def test_the_booking_form(self, client, squatted):
        client.force_login(UserFactory())
        slot = SlotFactory(capacity=5)
        owner = owner_of(squatted)
        post = {"nik": owner.nik, "full_name": owner.full_name, "birth_date": owner.birth_date.isoformat()}
        post |= {"sex": owner.sex, "phone": owner.phone, "passport_type": "regular", "validity_years": "5"}
        post |= {"application_kind": "new"}
        assert_page_refuses_and_links(client.post(reverse("appointments:book", args=[slot.pk]), post), squatted)
        assert Application.objects.filter(nik=squatted.nik).count() == 1

    def test_a_draw_entry(self, client, squatted):
        owner = UserFactory()
        client.force_login(owner)
        release, slots = open_release()
        response = client.post(
            reverse("allocation:enter", args=[release.pk]), household_post(slots, [owner_of(squatted)])
        )
        assert_page_refuses_and_links(response, squatted)
        assert not Entry.objects.exists() and not Seeker.objects.exists()
        assert RefusedNik.objects.filter(account=owner).count() == 1  # probing costs as in a booking

    def test_the_waiting_list(self, client, squatted):
        owner = UserFactory()
        client.force_login(owner)
        slot, _ = full_slot(OfficeFactory())
        post = household_post([], [owner_of(squatted)], choices=[])
        post |= {"date_from": slot.date.isoformat(), "date_to": slot.date.isoformat()}
        response = client.post(reverse("allocation:join", args=[slot.office.code]), post)
        assert_page_refuses_and_links(response, squatted)
        assert not Waiting.objects.exists() and not Seeker.objects.exists()
        assert RefusedNik.objects.filter(account=owner).count() == 1

    def test_a_nik_only_entered_elsewhere_gets_no_contest_button(self, client):
        """A NIK in someone's entry holds no application: there is nothing to contest."""
        release, slots = open_release()
        someone = person()
        client.force_login(UserFactory())
        client.post(reverse("allocation:enter", args=[release.pk]), household_post(slots, [someone.applicant]))
        client.force_login(UserFactory())
        page = client.post(
            reverse("allocation:enter", args=[release.pk]), household_post(slots, [someone.applicant])
        ).content.decode()
        assert 'id="contest-nik"' not in page and escape(refusal_text()) not in page


def api_owner(application: Application) -> dict:
    return person_body(
        nik=application.nik, birth_date=application.birth_date.isoformat(), sex=application.sex, full_name="Pemilik"
    )


class TestInTheApi:
    """Each path answers 409 `duplicate_application` in DESIGN's error shape, with the booking's
    text word for word, whether the NIK's holder or a stranger asks."""

    def refused(self, response, squatted) -> dict:
        body = assert_error(response, 409, "duplicate_application")
        assert body["detail"] == refusal_text() and "errors" not in body
        tells_nothing_of(squatted, response.content.decode())
        return body

    def paths(self, squatted):
        release, slots = open_release()
        waiting_slot, _ = full_slot(OfficeFactory())
        booking_slot = SlotFactory(capacity=5)
        owner = api_owner(squatted)
        owner_fields = {k: owner[k] for k in ("nik", "full_name", "birth_date", "sex", "phone")}
        return {
            "booking": lambda api: api.post(
                "/api/v1/applications/", booking_body(booking_slot, applicant=owner_fields), format="json"
            ),
            "draw entry": lambda api: api.post(
                f"/api/v1/releases/{release.pk}/entries/",
                {"people": [owner], "choices": [s.pk for s in slots]},
                format="json",
            ),
            "waiting list": lambda api: api.post(
                "/api/v1/waitlist/", join_body(waiting_slot, people=[owner]), format="json"
            ),
        }

    def test_every_path_answers_the_same_to_the_holder_and_to_a_stranger(self, squatted):
        stranger = UserFactory()
        for name, post in self.paths(squatted).items():
            own = self.refused(post(client_for(squatted.account)), squatted)
            other = self.refused(post(client_for(stranger)), squatted)
            assert own == other, name
        assert not Entry.objects.exists() and not Waiting.objects.exists() and not Seeker.objects.exists()
        assert Application.objects.filter(nik=squatted.nik).count() == 1
        # The stranger was refused one NIK, however many times and wherever; the holder nothing.
        assert RefusedNik.objects.filter(account=stranger).count() == 1
        assert not RefusedNik.objects.filter(account=squatted.account).exists()

    def test_an_account_paused_for_probing_can_neither_enter_nor_wait(self, squatted, settings):
        settings.REFUSED_NIKS_PER_DAY = 1
        prober = client_for(UserFactory())
        paths = self.paths(squatted)
        self.refused(paths["waiting list"](prober), squatted)
        release, slots = open_release()
        free = person_body()
        entry = prober.post(
            f"/api/v1/releases/{release.pk}/entries/", {"people": [free], "choices": [slots[0].pk]}, format="json"
        )
        assert_error(entry, 429, "throttled")
        assert_error(
            prober.post("/api/v1/waitlist/", join_body(full_slot(OfficeFactory())[0]), format="json"), 429, "throttled"
        )
        assert not Entry.objects.exists() and not Waiting.objects.exists()

    def test_accepting_an_offer_after_a_broker_booked_a_waiting_nik(self, squatted):
        """A household waits; meanwhile a broker books one of its NIKs elsewhere. The offer's
        acceptance is refused with the same text, and the household keeps its offer."""
        owner = UserFactory()
        slot, applications = full_slot(OfficeFactory())
        someone = person()
        join_waiting_list(
            account=owner, office_id=slot.office_id, date_from=slot.date, date_to=slot.date, people=[someone]
        )
        cancel_application(application_id=applications[0].pk)
        offer_held_places(slot_id=slot.pk)
        offer = Offer.objects.get(waiting__account=owner)
        broker_booked = ApplicationFactory(nik=someone.applicant.nik, status=Status.PENDING_PAYMENT)
        self.refused(client_for(owner).post(f"/api/v1/offers/{offer.pk}/accept/"), broker_booked)
        offer.refresh_from_db()
        assert offer.status == Offer.Status.OPEN and not Application.objects.filter(account=owner).exists()
