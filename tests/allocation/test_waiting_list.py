"""The waiting list: joining, places held when they come back, offers made, accepted, declined,
lapsed and passed on, and what is refused."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from allocation.exceptions import DuplicateEntry, OfferExpired, OfferNotFound, OfficeClosedForWaiting, WaitingNotAllowed
from allocation.models import Entry, Offer, OfferMessage, Seeker, Waiting
from allocation.selectors_waiting import nearby_offices
from allocation.services.offers import (
    accept_offer,
    decline_offer,
    leave_waiting_list,
    offer_expiry,
    offer_held_places,
    sweep_offers,
)
from allocation.services.waiting import households_ahead, join_waiting_list
from appointments.exceptions import DuplicateApplication
from appointments.models import Application, Status
from appointments.services.booking import PersonBooking
from appointments.services.lifecycle import cancel_application
from appointments.services.reconciliation import reconcile_slot_counts
from quotas.exceptions import SlotFull
from quotas.models import Slot, SlotDrift
from tests.allocation.helpers import closed_release, lose
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data, book_one

pytestmark = pytest.mark.django_db


def person(**applicant) -> PersonBooking:
    return PersonBooking(applicant=applicant_data(**applicant), passport_type="regular", validity_years=5, kind="new")


def join(slot, *, size=1, account=None, people=None, **kwargs) -> Waiting:
    return join_waiting_list(
        account=account or UserFactory(),
        office_id=slot.office_id,
        date_from=slot.date,
        date_to=slot.date,
        people=people or [person() for _ in range(size)],
        **kwargs,
    )


def full_slot(office, capacity=2, **kwargs) -> tuple[Slot, list[Application]]:
    slot = SlotFactory(office=office, capacity=capacity, **kwargs)
    applications = [ApplicationFactory(slot=slot) for _ in range(capacity)]
    return slot, applications


def fresh(slot) -> Slot:
    return Slot.objects.get(pk=slot.pk)


def cancel(application, capture):
    with capture(execute=True):
        cancel_application(application_id=application.pk)


class TestJoining:
    def test_a_household_waits_with_its_position(self, slot):
        first = join(slot, size=2)
        second = join(slot)
        assert first.status == Waiting.Status.WAITING
        assert Seeker.objects.filter(waiting=first, is_open=True).count() == 2
        assert (households_ahead(first), households_ahead(second)) == (0, 1)
        assert fresh(slot).waiting == 2  # quotas knows two households wait for the session

    def test_leaving_frees_the_nik_and_the_session(self, slot):
        waiting = join(slot)
        leave_waiting_list(waiting_id=waiting.pk, account=waiting.account)
        assert Waiting.objects.get(pk=waiting.pk).status == Waiting.Status.WITHDRAWN
        assert not Seeker.objects.filter(is_open=True).exists()
        assert fresh(slot).waiting == 0

    def test_dates_in_the_past_are_refused(self, slot):
        yesterday = timezone.now().astimezone(ZoneInfo(slot.office.timezone)).date() - dt.timedelta(days=1)
        with pytest.raises(WaitingNotAllowed) as refused:
            join_waiting_list(
                account=UserFactory(),
                office_id=slot.office_id,
                date_from=yesterday,
                date_to=slot.date,
                people=[person()],
            )
        assert refused.value.field == "date_from"
        assert not Waiting.objects.exists() and not Seeker.objects.exists()

    def test_a_switched_off_office_is_refused(self, slot):
        slot.office.is_active = False
        slot.office.save()
        with pytest.raises(OfficeClosedForWaiting):
            join(slot)
        assert not Waiting.objects.exists()

    def test_a_booked_nik_is_refused(self, slot):
        application = ApplicationFactory(slot=slot)
        with pytest.raises(DuplicateApplication):
            join(slot, people=[person(nik=application.nik)])
        assert not Waiting.objects.exists() and fresh(slot).waiting == 0

    def test_a_nik_already_waiting_is_refused(self, slot):
        someone = person()
        join(slot, people=[someone])
        with pytest.raises(DuplicateEntry):
            join(slot, people=[person(), someone])
        assert Waiting.objects.count() == 1 and Seeker.objects.count() == 1


class TestPlacesGivenBack:
    def test_a_cancelled_place_is_held_and_offered_to_the_first_household(
        self, office, django_capture_on_commit_callbacks
    ):
        slot, applications = full_slot(office)
        first, second = join(slot), join(slot)
        cancel(applications[0], django_capture_on_commit_callbacks)
        slot = fresh(slot)
        assert (slot.taken, slot.held, slot.available) == (1, 1, 0)
        offer = Offer.objects.get()
        assert (offer.waiting_id, offer.places, offer.status) == (first.pk, 1, Offer.Status.OPEN)
        assert offer.given_back_at is not None and offer.offered_at >= offer.given_back_at
        channels = set(OfferMessage.objects.filter(offer=offer).values_list("channel", flat=True))
        assert channels == {"email", "sms"}
        assert not Offer.objects.filter(waiting=second).exists()

    def test_with_nobody_waiting_the_place_goes_back_to_the_pool_at_once(
        self, office, django_capture_on_commit_callbacks
    ):
        slot, applications = full_slot(office)
        cancel(applications[0], django_capture_on_commit_callbacks)
        slot = fresh(slot)
        assert (slot.taken, slot.held, slot.available) == (1, 0, 1)
        assert not Offer.objects.exists()

    def test_a_place_too_small_for_the_first_household_goes_to_the_first_it_fits(
        self, office, django_capture_on_commit_callbacks
    ):
        slot, applications = full_slot(office)
        big, small = join(slot, size=2), join(slot)
        cancel(applications[0], django_capture_on_commit_callbacks)
        assert Offer.objects.get().waiting_id == small.pk
        assert households_ahead(small) == 1  # the big household keeps its place in the list
        assert Waiting.objects.get(pk=big.pk).status == Waiting.Status.WAITING

    def test_a_place_that_fits_no_household_goes_to_the_pool(self, office, django_capture_on_commit_callbacks):
        slot, applications = full_slot(office)
        join(slot, size=2)
        cancel(applications[0], django_capture_on_commit_callbacks)
        slot = fresh(slot)
        assert (slot.held, slot.available) == (0, 1) and not Offer.objects.exists()

    def test_the_inline_release_of_an_expired_hold_gives_the_place_to_the_list_not_the_booker(
        self, office, django_capture_on_commit_callbacks
    ):
        slot = SlotFactory(office=office, capacity=1)
        ApplicationFactory(
            slot=slot, status=Status.PENDING_PAYMENT, payment_due_at=timezone.now() - dt.timedelta(minutes=1)
        )
        waiting = join(slot)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(SlotFull):
            book_one(account=UserFactory(), slot_id=slot.pk)
        slot = fresh(slot)
        assert (slot.taken, slot.held) == (0, 1)
        assert Offer.objects.get().waiting_id == waiting.pk
        assert not Application.objects.filter(status=Status.PENDING_PAYMENT).exists()


class TestAnsweringAnOffer:
    @pytest.fixture
    def offered(self, office):
        """Two places given back before the offer is worked out: both go to a household of two."""
        slot, applications = full_slot(office, capacity=3)
        household = join(slot, size=2)
        later = join(slot)
        for application in applications[:2]:
            cancel_application(application_id=application.pk)
        assert offer_held_places(slot_id=slot.pk) == 1
        return Offer.objects.get(waiting=household), later

    def test_accepting_books_every_person_from_the_held_places(self, offered):
        offer, _later = offered
        applications = accept_offer(offer_id=offer.pk, account=offer.waiting.account)
        assert [a.status for a in applications] == [Status.PENDING_PAYMENT] * 2
        assert {a.nik for a in applications} == set(
            Seeker.objects.filter(waiting=offer.waiting).values_list("nik", flat=True)
        )
        slot = fresh(offer.slot)
        assert (slot.taken, slot.held) == (3, 0)
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED
        assert Waiting.objects.get(pk=offer.waiting_id).status == Waiting.Status.BOOKED
        assert not Seeker.objects.filter(waiting=offer.waiting, is_open=True).exists()
        assert fresh(offer.slot).waiting == 1  # the one household still waiting
        with pytest.raises(OfferExpired):
            accept_offer(offer_id=offer.pk, account=offer.waiting.account)
        assert Application.objects.filter(slot=offer.slot).exclude(status=Status.CANCELLED).count() == 3

    def test_someone_elses_offer_is_not_found(self, offered):
        offer, later = offered
        with pytest.raises(OfferNotFound):
            accept_offer(offer_id=offer.pk, account=later.account)
        with pytest.raises(OfferNotFound):
            decline_offer(offer_id=offer.pk, account=later.account)
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.OPEN

    def test_an_expired_offer_cannot_be_accepted(self, offered):
        offer, _later = offered
        with pytest.raises(OfferExpired):
            accept_offer(offer_id=offer.pk, account=offer.waiting.account, now=offer.expires_at)
        assert not Application.objects.filter(account=offer.waiting.account).exists()
        assert fresh(offer.slot).held == 2

    def test_declining_passes_the_places_on_and_keeps_the_household_waiting(self, offered):
        offer, later = offered
        decline_offer(offer_id=offer.pk, account=offer.waiting.account)
        with pytest.raises(OfferExpired):
            accept_offer(offer_id=offer.pk, account=offer.waiting.account)
        passed = Offer.objects.get(waiting=later)
        assert passed.places == 1 and passed.status == Offer.Status.OPEN
        slot = fresh(offer.slot)
        assert (slot.held, slot.available) == (1, 1)  # one for the next household, one public
        assert Waiting.objects.get(pk=offer.waiting_id).status == Waiting.Status.WAITING

    def test_a_lapsed_offer_passes_on_in_the_sweep(self, offered):
        offer, later = offered
        done = sweep_offers(now=offer.expires_at)
        assert done["lapsed"] == 1 and done["offered"] == 1
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.LAPSED
        assert Offer.objects.filter(waiting=later, status=Offer.Status.OPEN).exists()

    def test_leaving_with_an_open_offer_passes_it_on(self, offered):
        offer, later = offered
        leave_waiting_list(waiting_id=offer.waiting_id, account=offer.waiting.account)
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.DECLINED
        assert Offer.objects.filter(waiting=later, status=Offer.Status.OPEN).exists()

    def test_a_switched_off_office_cancels_open_offers(self, offered):
        offer, _later = offered
        offer.slot.office.is_active = False
        offer.slot.office.save()
        assert sweep_offers()["cancelled"] == 1
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.CANCELLED
        assert fresh(offer.slot).held == 0
        assert not Offer.objects.filter(status=Offer.Status.OPEN).exists()

    def test_reconciliation_with_open_offers_finds_no_drift(self, offered):
        assert reconcile_slot_counts() == 0
        assert not SlotDrift.objects.exists()


class TestTheSweepCoversALostTask:
    def test_a_held_place_without_an_offer_is_offered_by_the_sweep(self, office):
        slot, applications = full_slot(office)
        waiting = join(slot)
        cancel_application(application_id=applications[0].pk)  # its on-commit task never runs here
        assert fresh(slot).held == 1 and not Offer.objects.exists()
        assert sweep_offers()["offered"] == 1
        assert Offer.objects.get().waiting_id == waiting.pk
        assert offer_held_places(slot_id=slot.pk) == 0  # idempotent


class TestOfferExpiry:
    tz = ZoneInfo("Asia/Jakarta")

    def at(self, day, hour, minute=0):
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def test_thirty_minutes_by_day(self, settings):
        settings.OFFER_MINUTES = 30
        day = dt.date(2026, 12, 1)
        now = self.at(day, 10)
        assert offer_expiry(starts_at=self.at(day + dt.timedelta(days=3), 8), tz=self.tz, now=now) == self.at(
            day, 10, 30
        )

    def test_at_night_from_eight_the_next_morning(self, settings):
        settings.OFFER_MINUTES = 30
        day = dt.date(2026, 12, 1)
        later = self.at(day + dt.timedelta(days=3), 8)
        assert offer_expiry(starts_at=later, tz=self.tz, now=self.at(day, 22)) == self.at(
            day + dt.timedelta(days=1), 8, 30
        )
        assert offer_expiry(starts_at=later, tz=self.tz, now=self.at(day, 3)) == self.at(day, 8, 30)

    def test_never_too_close_to_the_session(self, settings):
        settings.OFFER_MINUTES, settings.PAYMENT_WINDOW_MINUTES = 30, 120
        day = dt.date(2026, 12, 1)
        # The booking's payment window and half an hour must fit before the session.
        assert offer_expiry(starts_at=self.at(day, 13), tz=self.tz, now=self.at(day, 10)) == self.at(day, 10, 30)
        assert offer_expiry(starts_at=self.at(day, 12, 50), tz=self.tz, now=self.at(day, 10)) == self.at(day, 10, 20)
        assert offer_expiry(starts_at=self.at(day, 12, 40), tz=self.tz, now=self.at(day, 10)) is None


class TestDrawLosers:
    def test_losers_wait_for_their_chosen_sessions_behind_earlier_joiners_in_draw_order(self, office):
        chosen = SlotFactory(office=office, capacity=1)
        other = SlotFactory(office=office, capacity=1, starts_at=chosen.starts_at + dt.timedelta(hours=3))
        early = join(chosen)  # joined before the draw, for the whole day
        release = closed_release(office)
        drawn_at = timezone.now()
        losers = {}
        for position in (1, 0):  # added out of order: the draw's position decides
            entry = Entry.objects.create(release=release, account=UserFactory())
            Seeker.objects.create(
                entry=entry, **applicant_data().as_fields(), passport_type="regular", validity_years=5, kind="new"
            )
            losers[position] = lose(entry, [chosen], position=position, drawn_at=drawn_at)
        order = list(Waiting.objects.filter(office=office).values_list("pk", flat=True))
        assert order == [early.pk, losers[0].pk, losers[1].pk]
        assert [households_ahead(losers[0]), households_ahead(losers[1])] == [1, 2]
        assert not Seeker.objects.filter(entry__isnull=False, is_open=True).exists()
        assert Seeker.objects.filter(waiting__in=losers.values(), is_open=True).count() == 2
        # Only the session they chose counts them.
        assert (fresh(chosen).waiting, fresh(other).waiting) == (3, 1)

    def test_a_lost_entrys_household_is_offered_only_its_chosen_sessions(
        self, office, django_capture_on_commit_callbacks
    ):
        chosen, chosen_applications = full_slot(office, capacity=1)
        other, other_applications = full_slot(office, capacity=1, starts_at=chosen.starts_at + dt.timedelta(hours=3))
        release = closed_release(office)
        entry = Entry.objects.create(release=release, account=UserFactory())
        Seeker.objects.create(
            entry=entry, **applicant_data().as_fields(), passport_type="regular", validity_years=5, kind="new"
        )
        waiting = lose(entry, [chosen])
        cancel(other_applications[0], django_capture_on_commit_callbacks)
        assert not Offer.objects.exists() and fresh(other).available == 1
        cancel(chosen_applications[0], django_capture_on_commit_callbacks)
        assert Offer.objects.get().waiting_id == waiting.pk


class TestQueries:
    def test_nearby_offices_is_four_queries_whatever_the_number_of_offices(self, office, django_assert_num_queries):
        office.latitude, office.longitude = -7.8166, 112.0114
        office.save()
        slot = SlotFactory(office=office)
        for n in range(6):
            other = OfficeFactory(latitude=-7.8 - n / 10, longitude=112.0 + n / 10)
            SlotFactory(office=other, starts_at=slot.starts_at, date=slot.date)
        with django_assert_num_queries(4):
            found = nearby_offices(office=office, date_from=slot.date, date_to=slot.date)
        assert len(found) == 3 and [f.distance_km for f in found] == sorted(f.distance_km for f in found)

    def test_my_waiting_list_page(self, client, slot, django_assert_num_queries):
        account = UserFactory()
        for _ in range(2):
            join(slot, account=account)
        client.force_login(account)
        # The session and its user, the rows with their people and offers, one count of the
        # households ahead per row (an account has at most 5 people waiting); the banner's
        # incidents, read once while the cache is cold (docs/incidents.md).
        with django_assert_num_queries(9):
            page = client.get("/waiting/")
        assert page.status_code == 200 and page.content.decode().count("waiting-card") == 2


def test_the_join_page_ignores_dates_it_cannot_take(client, slot):
    client.force_login(UserFactory(email_verified=True))
    for query in ("from=9999-12-31", "to=9999-12-31", "from=0001-01-01&to=0001-01-01", "from=x"):
        assert client.get(f"/waiting/{slot.office.code}/join/?{query}").status_code == 200
