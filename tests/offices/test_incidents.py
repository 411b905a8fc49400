"""Incidents: who declares which scope, and what an incident gives (longer payment deadlines,
offers and entry windows, a postponed draw, closed sessions whose applicants move to another
day), recomputed when it is corrected, ended early or withdrawn (docs/incidents.md)."""

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from allocation.models import Offer, Release
from allocation.services.draws import due_releases
from allocation.services.incidents import apply_incidents
from allocation.services.offers import offer_held_places, sweep_offers
from allocation.services.waiting import join_waiting_list
from appointments.models import Application, ApplicationEvent, Notification, Status
from appointments.outbox import render_message
from appointments.selectors import reschedule_options
from appointments.services import lifecycle
from appointments.services.booking import PersonBooking
from offices.exceptions import IncidentInvalid, IncidentNotAllowed
from offices.models import Incident
from offices.services import change_incident, declare_incident, withdraw_incident
from quotas.exceptions import OfficeClosed
from quotas.models import Slot
from tests.allocation.helpers import open_release
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data, book_one

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
MESSAGES = {"message_id": "Sistem pembayaran sedang gangguan.", "message_en": "The payment system is down."}


def national():
    from offices.models import StaffMembership

    user = UserFactory(is_staff=True)
    StaffMembership.objects.create(user=user, role=StaffMembership.Role.NATIONAL)
    return user


def declare(actor=None, *, kind=Incident.Kind.PAYMENT_DOWN, scope=Incident.Scope.ALL, **fields):
    return declare_incident(actor=actor or national(), kind=kind, scope=scope, **{**MESSAGES, **fields})


def hold_made(*, at: dt.datetime, slot=None) -> Application:
    """An unpaid hold booked at `at`, due two hours later."""
    application = ApplicationFactory(
        status=Status.PENDING_PAYMENT, payment_due_at=at + 2 * HOUR, **({"slot": slot} if slot else {})
    )
    Application.objects.filter(pk=application.pk).update(created_at=at)
    return application


def due(application) -> dt.datetime:
    return Application.objects.get(pk=application.pk).payment_due_at


class TestPaymentDeadlines:
    def test_a_hold_the_outage_overlapped_gets_the_overlap_plus_two_hours_and_no_job_takes_it(self):
        now = timezone.now()
        booked_at = now - HOUR  # due in an hour
        hold = hold_made(at=booked_at)
        other_office = hold_made(at=booked_at)
        declare(
            scope=Incident.Scope.OFFICE,
            office=hold.slot.office,
            starts_at=booked_at + dt.timedelta(minutes=30),
            ends_at=booked_at + dt.timedelta(minutes=90),
        )
        # An hour of the window overlapped: 2 h + 1 h + 2 h from the booking.
        assert due(hold) == booked_at + 5 * HOUR
        assert Application.objects.get(pk=hold.pk).payment_due_base == booked_at + 2 * HOUR
        assert due(other_office) == booked_at + 2 * HOUR  # out of scope: untouched

        # Neither the expiry job nor a booking's inline release takes it before then.
        assert lifecycle.release_expired_holds(now=booked_at + 4 * HOUR) == 1  # only the other office's
        Slot.objects.filter(pk=hold.slot_id).update(capacity=F("taken"))
        with pytest.raises(Exception) as refused:
            book_one(account=UserFactory(), slot_id=hold.slot_id, now=booked_at + 4 * HOUR)
        assert refused.value.code == "slot_full"
        assert Application.objects.get(pk=hold.pk).status == Status.PENDING_PAYMENT
        assert lifecycle.release_expired_holds(now=booked_at + 5 * HOUR + dt.timedelta(minutes=1)) == 1
        assert Application.objects.get(pk=hold.pk).status == Status.EXPIRED

    def test_a_correction_and_an_early_end_recompute_and_a_withdrawal_takes_it_back(self):
        now = timezone.now()
        booked_at = now - HOUR
        hold = hold_made(at=booked_at)
        actor = national()
        incident = declare(actor, starts_at=booked_at + dt.timedelta(minutes=30), ends_at=None)
        # While its end is not known, the deadline stays ahead of now (INCIDENT_OPEN_HOURS).
        assert due(hold) > now + 6 * HOUR
        change_incident(actor=actor, incident_id=incident.pk, ends_at=booked_at + HOUR)  # ended: 30 min overlap
        assert due(hold) == booked_at + 2 * HOUR + dt.timedelta(minutes=30) + 2 * HOUR
        change_incident(actor=actor, incident_id=incident.pk, starts_at=booked_at + dt.timedelta(minutes=50))
        assert due(hold) == booked_at + 2 * HOUR + dt.timedelta(minutes=10) + 2 * HOUR
        withdraw_incident(actor=actor, incident_id=incident.pk)
        stored = Application.objects.get(pk=hold.pk)
        assert (stored.payment_due_at, stored.payment_due_base) == (booked_at + 2 * HOUR, None)
        assert Incident.history.filter(id=incident.pk).count() == 4  # declared, corrected twice, withdrawn

    def test_two_incidents_at_once_count_once_and_an_office_closure_moves_no_deadline(self):
        booked_at = timezone.now() - HOUR
        hold = hold_made(at=booked_at)
        start, end = booked_at + dt.timedelta(minutes=30), booked_at + dt.timedelta(minutes=90)
        declare(starts_at=start, ends_at=end)
        declare(
            kind=Incident.Kind.PORTAL_DOWN,
            scope=Incident.Scope.REGION,
            region=hold.slot.office.region,
            starts_at=start + dt.timedelta(minutes=10),
            ends_at=end,
        )
        assert due(hold) == booked_at + 5 * HOUR
        declare(kind=Incident.Kind.OFFICE_CLOSED, starts_at=end, ends_at=end + HOUR)
        assert due(hold) == booked_at + 5 * HOUR

    def test_a_hold_booked_during_the_outage_is_extended_by_the_minute_job(self):
        end = timezone.now() + HOUR
        declare(starts_at=timezone.now() - HOUR, ends_at=end)
        hold = book_one(account=UserFactory(), slot_id=SlotFactory().pk)
        booked = Application.objects.get(pk=hold.pk)
        assert booked.payment_due_base is None  # the booking path reads no incident
        apply_incidents()
        # Its window overlapped the outage from the booking to the end: that, plus 2 hours.
        assert due(hold) == booked.payment_due_at + (end - booked.created_at) + 2 * HOUR


class TestOffersAndEntryWindows:
    def test_an_open_offer_and_an_entry_window_are_extended_and_the_draw_postponed(self):
        office = OfficeFactory()
        start = timezone.now().astimezone(office.tzinfo).replace(minute=0, second=0, microsecond=0) + dt.timedelta(
            days=2
        )
        slot = SlotFactory(office=office, capacity=1, starts_at=start, ends_at=start + HOUR, date=start.date())
        taken = ApplicationFactory(slot=slot)
        join_waiting_list(
            account=UserFactory(),
            office_id=office.pk,
            date_from=slot.date,
            date_to=slot.date,
            people=[PersonBooking(applicant=applicant_data(), passport_type="regular", validity_years=5, kind="new")],
        )
        lifecycle.cancel_application(application_id=taken.pk)
        assert offer_held_places(slot_id=slot.pk) == 1
        offer = Offer.objects.get(slot=slot)
        release, _slots = open_release(office=office)
        close = release.entries_close_at
        now = timezone.now()
        incident = declare(
            kind=Incident.Kind.PORTAL_DOWN,
            scope=Incident.Scope.OFFICE,
            office=office,
            starts_at=now - dt.timedelta(minutes=10),
            ends_at=now + dt.timedelta(minutes=20),
        )
        stored = Offer.objects.get(pk=offer.pk)
        overlap = now + dt.timedelta(minutes=20) - max(offer.offered_at, now - dt.timedelta(minutes=10))
        assert stored.expires_at == offer.expires_at + overlap + 2 * HOUR
        assert stored.expires_base == offer.expires_at
        assert Release.objects.get(pk=release.pk).entries_close_at == close + dt.timedelta(minutes=30) + 2 * HOUR
        # The draw is postponed with the close; the offer survives the lapse sweep.
        assert release.pk not in due_releases(now=close + HOUR)
        assert sweep_offers(now=offer.expires_at + dt.timedelta(minutes=1))["lapsed"] == 0
        withdraw_incident(actor=national(), incident_id=incident.pk)
        assert Offer.objects.get(pk=offer.pk).expires_at == offer.expires_at
        assert Release.objects.get(pk=release.pk).entries_close_at == close
        assert release.pk in due_releases(now=close + HOUR)


class TestClosedOfficeDay:
    @pytest.fixture
    def flood(self, world):
        """Kediri closes tomorrow (in its zone) for a flood; a booked applicant has a session then,
        and the day after has an online and a priority session."""
        tz = world.kediri.tzinfo
        tomorrow = timezone.now().astimezone(tz).date() + dt.timedelta(days=1)

        def session(day, pool, hour=9, capacity=2):
            start = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
            return SlotFactory(
                office=world.kediri, pool=pool, capacity=capacity, starts_at=start, ends_at=start + HOUR, date=day
            )

        closed = session(tomorrow, "online")
        later_online = session(tomorrow + dt.timedelta(days=1), "online", capacity=1)
        later_priority = session(tomorrow + dt.timedelta(days=1), "priority")
        ApplicationFactory(slot=later_online)  # the day after is full online
        applicant = ApplicationFactory(slot=closed, account=world.applicant, reschedule_count=1)
        start = dt.datetime.combine(tomorrow, dt.time(0), tzinfo=tz)
        incident = declare(
            world.kediri_head,
            kind=Incident.Kind.OFFICE_CLOSED,
            scope=Incident.Scope.OFFICE,
            office=world.kediri,
            starts_at=start,
            ends_at=start + dt.timedelta(days=1),
            message_id="Kantor tutup karena banjir.",
            message_en="The office is closed by a flood.",
        )
        return world, incident, closed, later_online, later_priority, applicant

    def test_the_session_closes_and_its_applicant_is_told_and_not_a_no_show(self, flood):
        world, incident, closed, _online, _priority, applicant = flood
        assert Slot.objects.get(pk=closed.pk).closed_by_id == incident.pk
        stored = Application.objects.get(pk=applicant.pk)
        assert stored.displaced_by_id == incident.pk
        (message,) = Notification.objects.filter(application=applicant, template="office_closed")
        assert message.context["incident_message"] == "Kantor tutup karena banjir."
        subject, text = render_message(message)
        assert applicant.booking_code in subject and "Kantor tutup karena banjir." in text
        assert world.kediri.name in text and "WIB" in text
        assert (
            ApplicationEvent.objects.filter(application=applicant, reason__contains="closed by incident").count() == 1
        )
        apply_incidents()  # again: nothing new
        assert Notification.objects.filter(application=applicant, template="office_closed").count() == 1
        assert lifecycle.mark_no_shows(now=closed.ends_at + 2 * HOUR) == 0
        assert Application.objects.get(pk=applicant.pk).status == Status.BOOKED
        # Nobody books the closed session, and the refusal changes nothing.
        with pytest.raises(OfficeClosed):
            book_one(account=UserFactory(), slot_id=closed.pk)
        assert Slot.objects.get(pk=closed.pk).taken == 1
        assert Application.objects.filter(slot=closed).count() == 1

    def test_the_applicant_moves_ahead_of_the_public_without_using_the_change(self, flood):
        world, incident, closed, online, priority, applicant = flood
        stored = Application.objects.select_related("slot__office").get(pk=applicant.pk)
        offered = reschedule_options(application=stored, now=timezone.now())
        # The next day's online session is full; its priority places are offered first.
        assert offered[0].pk == priority.pk and online.pk not in [s.pk for s in offered]
        lifecycle.reschedule_application(application_id=applicant.pk, slot_id=priority.pk, actor=world.applicant)
        moved = Application.objects.get(pk=applicant.pk)
        assert (moved.slot_id, moved.reschedule_count, moved.displaced_by_id) == (priority.pk, 1, None)
        assert Slot.objects.get(pk=priority.pk).taken == 1 and Slot.objects.get(pk=closed.pk).taken == 0
        # Someone not displaced cannot take a priority place that way.
        with pytest.raises(Exception) as refused:
            lifecycle.reschedule_application(application_id=world.kediri_app.pk, slot_id=priority.pk)
        assert refused.value.code == "not_found"

    def test_a_place_given_back_in_a_closed_session_is_offered_to_nobody(self, world):
        """The households waiting for a session the office closed get no offer they could not
        accept: a place given back there goes to the public pool (open again when the day is)."""
        tz = world.kediri.tzinfo
        start = dt.datetime.combine(timezone.now().astimezone(tz).date() + dt.timedelta(days=2), dt.time(9), tzinfo=tz)
        slot = SlotFactory(office=world.kediri, capacity=1, starts_at=start, ends_at=start + HOUR, date=start.date())
        booked = ApplicationFactory(slot=slot)
        join_waiting_list(
            account=UserFactory(),
            office_id=slot.office_id,
            date_from=slot.date,
            date_to=slot.date,
            people=[PersonBooking(applicant=applicant_data(), passport_type="regular", validity_years=5, kind="new")],
        )
        declare(
            world.kediri_head,
            kind=Incident.Kind.OFFICE_CLOSED,
            scope=Incident.Scope.OFFICE,
            office=world.kediri,
            starts_at=start - HOUR,
            ends_at=start + 2 * HOUR,
        )
        lifecycle.cancel_application(application_id=booked.pk)
        offer_held_places(slot_id=slot.pk)
        assert not Offer.objects.filter(slot=slot).exists()
        stored = Slot.objects.get(pk=slot.pk)
        assert (stored.taken, stored.held) == (0, 0)

    def test_a_withdrawn_closure_opens_the_day_again(self, flood):
        world, incident, closed, _online, _priority, applicant = flood
        withdraw_incident(actor=world.jatim_regional, incident_id=incident.pk)
        assert Slot.objects.get(pk=closed.pk).closed_by_id is None
        assert Application.objects.get(pk=applicant.pk).displaced_by_id is None
        book_one(account=UserFactory(), slot_id=closed.pk)


class TestWhoDeclares:
    @pytest.mark.parametrize(
        "who, scope, target, allowed",
        [
            ("national", "all", None, True),
            ("national", "office", "denpasar", True),
            ("jatim_regional", "region", "jatim", True),
            ("jatim_regional", "office", "malang_ulp", True),
            ("jatim_regional", "region", "bali", False),
            ("jatim_regional", "office", "denpasar", False),
            ("jatim_regional", "all", None, False),
            ("kediri_head", "office", "kediri", True),
            ("malang_head", "office", "malang_ulp", True),
            ("kediri_head", "office", "malang", False),
            ("kediri_head", "region", "jatim", False),
            ("kediri_head", "all", None, False),
            ("kediri_officer", "office", "kediri", False),
            ("applicant", "office", "kediri", False),
        ],
    )
    def test_scope_by_role(self, world, who, scope, target, allowed):
        from offices.models import Region

        fields = {}
        if scope == "region":
            fields["region"] = Region.objects.get(code=target.upper())
        elif scope == "office":
            fields["office"] = getattr(world, target)
        actor = getattr(world, who)
        start = timezone.now() + HOUR
        if allowed:
            incident = declare(actor, scope=scope, starts_at=start, ends_at=start + HOUR, **fields)
            assert incident.declared_by == actor
        else:
            with pytest.raises(IncidentNotAllowed):
                declare(actor, scope=scope, starts_at=start, ends_at=start + HOUR, **fields)
            assert not Incident.objects.exists()

    def test_a_head_cannot_correct_another_office_s_incident(self, world):
        incident = declare(world.national, scope="office", office=world.malang, starts_at=timezone.now(), ends_at=None)
        with pytest.raises(IncidentNotAllowed):
            change_incident(actor=world.kediri_head, incident_id=incident.pk, ends_at=timezone.now() + HOUR)
        with pytest.raises(IncidentNotAllowed):
            withdraw_incident(actor=world.kediri_head, incident_id=incident.pk)
        stored = Incident.objects.get(pk=incident.pk)
        assert (stored.ends_at, stored.withdrawn_at) == (None, None)

    @pytest.mark.parametrize(
        "fields, field",
        [
            ({"ends_at": "before"}, "ends_at"),
            ({"message_en": "  "}, "message_id"),
            ({"scope": "office"}, "office"),
            ({"scope": "region"}, "region"),
            ({"starts_at": "far"}, "starts_at"),
            ({"ends_at": "far"}, "ends_at"),
        ],
    )
    def test_bad_input_is_refused_and_stores_nothing(self, world, fields, field):
        hold = hold_made(at=timezone.now() - HOUR)
        start = timezone.now() - dt.timedelta(minutes=30)
        values = {"scope": "all", "starts_at": start, "ends_at": start + HOUR, **MESSAGES, **fields}
        if values["ends_at"] == "before":
            values["ends_at"] = start - HOUR
        far = dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC)
        values = {name: far if value == "far" else value for name, value in values.items()}
        with pytest.raises(IncidentInvalid) as refused:
            declare_incident(actor=world.national, kind=Incident.Kind.PAYMENT_DOWN, **values)
        assert refused.value.field == field and refused.value.message
        assert not Incident.objects.exists()
        assert due(hold) == hold.payment_due_at


class TestStaffScreens:
    LIST = "/admin/offices/incident/"

    def incidents(self, world):
        now = timezone.now()
        made = {}
        for name, scope, target in [
            ("all", "all", {}),
            ("kediri", "office", {"office": world.kediri}),
            ("denpasar", "office", {"office": world.denpasar}),
            ("bali", "region", {"region": world.denpasar.region}),
        ]:
            made[name] = declare(world.national, scope=scope, starts_at=now + HOUR, ends_at=now + 2 * HOUR, **target)
        return made

    def test_each_sees_the_incidents_of_their_offices_and_changes_only_their_scope(self, client, world):
        made = self.incidents(world)
        client.force_login(world.kediri_head)
        page = client.get(self.LIST).content.decode()
        for name, seen in {"all": True, "kediri": True, "denpasar": False, "bali": False}.items():
            assert (f"/admin/offices/incident/{made[name].pk}/change/" in page) is seen, name
        assert client.get(f"{self.LIST}{made['denpasar'].pk}/change/").status_code == 404
        # The national incident is shown but not changeable: a POST changes nothing.
        url = f"{self.LIST}{made['all'].pk}/change/"
        client.post(url, {"kind": "portal_down", "scope": "all", "message_id": "x", "message_en": "x"})
        assert Incident.objects.get(pk=made["all"].pk).kind == Incident.Kind.PAYMENT_DOWN
        client.force_login(world.bali_regional)
        page = client.get(self.LIST).content.decode()
        assert f"/admin/offices/incident/{made['bali'].pk}/change/" in page
        assert f"/admin/offices/incident/{made['kediri'].pk}/change/" not in page

    def test_a_head_s_form_offers_only_their_office_and_refuses_another_scope(self, client, world):
        client.force_login(world.kediri_head)
        form = client.get(f"{self.LIST}add/").context["adminform"].form
        assert list(form.fields["office"].queryset) == [world.kediri]
        assert not form.fields["region"].queryset.exists()
        start = timezone.now() + HOUR
        answer = client.post(
            f"{self.LIST}add/",
            {
                "kind": "office_closed",
                "scope": "all",
                "starts_at_0": start.date().isoformat(),
                "starts_at_1": "08:00:00",
                "message_id": "Banjir.",
                "message_en": "Flood.",
            },
        )
        assert answer.status_code == 200 and answer.context["adminform"].form.errors
        assert not Incident.objects.exists()


class TestBanner:
    def test_every_page_shows_it_in_the_page_s_language_until_it_is_withdrawn(
        self, client, django_capture_on_commit_callbacks
    ):
        actor = national()
        start = timezone.now() + 24 * HOUR
        with django_capture_on_commit_callbacks(execute=True):
            incident = declare(actor, kind=Incident.Kind.PORTAL_DOWN, starts_at=start, ends_at=start + 2 * HOUR)
        page = client.get("/").content.decode()
        assert "incident-banner" in page and MESSAGES["message_id"] in page and "WIB" in page
        english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert MESSAGES["message_en"] in english
        with django_capture_on_commit_callbacks(execute=True):  # the cached list is dropped on commit
            withdraw_incident(actor=actor, incident_id=incident.pk)
        assert "incident-banner" not in client.get("/").content.decode()
