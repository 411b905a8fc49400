import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from appointments.exceptions import CancelNotAllowed, RescheduleNotAllowed
from appointments.models import RELEASED_STATUSES, Application, ApplicationEvent, Notification, Status
from appointments.selectors import reschedule_options
from appointments.services.lifecycle import cancel_application, release_expired_holds, reschedule_application
from quotas.exceptions import SlotFull
from quotas.models import Slot
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, book_one


def assert_places_match_applications():
    """Invariant 3: every slot's `taken` equals its place-holding applications."""
    counts = Slot.objects.annotate(
        holders=Count("applications", filter=~Q(applications__status__in=[s.value for s in RELEASED_STATUSES]))
    )
    drift = [(s.pk, s.taken, s.holders) for s in counts if s.taken != s.holders]
    assert drift == []


def session(office, days_ahead, hour=8, **kwargs):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days_ahead),
        dt.time(hour),
        tzinfo=office.tzinfo,
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), **kwargs)


def book(account, slot):
    return book_one(account=account, slot_id=slot.pk)


@pytest.mark.django_db
class TestReschedule:
    def test_moves_once_gives_back_old_place_and_claims_new(self, office, applicant_user):
        old, new, third = session(office, 3), session(office, 5), session(office, 6)
        application = book(applicant_user, old)

        reschedule_application(application_id=application.pk, slot_id=new.pk, actor=applicant_user)

        application.refresh_from_db()
        assert application.slot_id == new.pk and application.reschedule_count == 1
        assert (Slot.objects.get(pk=old.pk).taken, Slot.objects.get(pk=new.pk).taken) == (0, 1)
        event = application.events.latest("id")
        assert event.actor == applicant_user and event.reason.startswith("rescheduled from")
        assert Notification.objects.filter(application=application, template="rescheduled").exists()
        with pytest.raises(RescheduleNotAllowed):
            reschedule_application(application_id=application.pk, slot_id=third.pk)
        assert_places_match_applications()

    def test_refused_on_the_visit_day_and_to_another_office(self, office):
        today = session(office, 0, hour=23)
        tomorrow = session(office, 1)
        application = ApplicationFactory(slot=today)
        with pytest.raises(RescheduleNotAllowed):
            reschedule_application(application_id=application.pk, slot_id=tomorrow.pk)
        elsewhere = session(OfficeFactory(), 4)
        other = ApplicationFactory(slot=session(office, 3))
        with pytest.raises(RescheduleNotAllowed):
            reschedule_application(application_id=other.pk, slot_id=elsewhere.pk)
        assert_places_match_applications()

    def test_h_minus_1_is_still_allowed(self, office):
        application = ApplicationFactory(slot=session(office, 1))
        reschedule_application(application_id=application.pk, slot_id=session(office, 2).pk)
        assert_places_match_applications()

    def test_options_are_the_open_sessions_that_take_the_kind(self, office):
        application = ApplicationFactory(slot=session(office, 3), kind="replacement_full")
        any_kind = session(office, 4)
        session(office, 5, allowed_kinds=["new", "replacement_expired"])  # a Saturday programme's
        its_kind = session(office, 6, allowed_kinds=["replacement_full"])
        session(office, 7, capacity=1, taken=1)  # full
        session(office, 8, opens_at=timezone.now() + dt.timedelta(days=1))  # not open yet

        options = reschedule_options(application=application, now=timezone.now())

        assert [slot.pk for slot in options] == [any_kind.pk, its_kind.pk]
        assert [slot.pk for slot in reschedule_options(application=application, now=timezone.now(), limit=1)] == [
            any_kind.pk
        ]

    def test_to_a_full_slot_changes_nothing(self, office):
        application = ApplicationFactory(slot=session(office, 3))
        full = session(office, 4, capacity=1)
        ApplicationFactory(slot=full)
        with pytest.raises(SlotFull):
            reschedule_application(application_id=application.pk, slot_id=full.pk)
        application.refresh_from_db()
        assert application.reschedule_count == 0
        assert not application.events.exists()
        assert_places_match_applications()


@pytest.mark.django_db
class TestCancel:
    @pytest.mark.parametrize("status", [Status.PENDING_PAYMENT, Status.BOOKED])
    def test_cancel_before_visit_gives_place_back(self, office, status):
        application = ApplicationFactory(slot=session(office, 2), status=status)
        cancel_application(application_id=application.pk, actor=application.account, reason="by applicant")
        application.refresh_from_db()
        assert application.status == Status.CANCELLED
        assert Slot.objects.get(pk=application.slot_id).taken == 0
        assert_places_match_applications()

    @pytest.mark.parametrize("status", [Status.CHECKED_IN, Status.CANCELLED, Status.EXPIRED, Status.ISSUED])
    def test_cancel_refused_after_check_in_or_when_final(self, office, status):
        application = ApplicationFactory(slot=session(office, 2), status=status)
        with pytest.raises(CancelNotAllowed):
            cancel_application(application_id=application.pk)
        assert Application.objects.get(pk=application.pk).status == status
        assert_places_match_applications()

    def test_cancel_refused_once_the_session_started(self, office):
        started = timezone.now() - dt.timedelta(minutes=10)
        slot = SlotFactory(office=office, starts_at=started, ends_at=started + dt.timedelta(hours=2))
        application = ApplicationFactory(slot=slot)
        with pytest.raises(CancelNotAllowed):
            cancel_application(application_id=application.pk)

    def test_cancel_expire_and_reschedule_keep_places_equal_to_applications(self, office):
        a, b = session(office, 3, capacity=5), session(office, 4, capacity=5)
        users = [UserFactory() for _ in range(4)]
        apps = [book(u, a) for u in users]
        cancel_application(application_id=apps[0].pk)
        Application.objects.filter(pk=apps[1].pk).update(payment_due_at=timezone.now() - dt.timedelta(seconds=1))
        assert release_expired_holds() == 1
        reschedule_application(application_id=apps[2].pk, slot_id=b.pk)
        assert (Slot.objects.get(pk=a.pk).taken, Slot.objects.get(pk=b.pk).taken) == (1, 1)
        assert_places_match_applications()


@pytest.mark.django_db(transaction=True)
def test_two_reschedules_racing_for_the_last_place_exactly_one_wins():
    office = OfficeFactory()
    last = session(office, 5, capacity=1)
    movers = [ApplicationFactory(slot=session(office, 3 + i)) for i in range(2)]
    start = threading.Barrier(2)
    outcomes = []

    def move(application):
        try:
            start.wait()
            reschedule_application(application_id=application.pk, slot_id=last.pk)
            outcomes.append("moved")
        except SlotFull:
            outcomes.append("full")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(m,)) for m in movers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["full", "moved"]
    assert Slot.objects.get(pk=last.pk).taken == 1
    assert Application.objects.filter(slot=last).count() == 1
    loser = Application.objects.exclude(slot=last).get(pk__in=[m.pk for m in movers])
    assert loser.reschedule_count == 0 and not ApplicationEvent.objects.filter(application=loser).exists()
    assert_places_match_applications()


@pytest.mark.django_db(transaction=True)
def test_two_crossing_reschedules_do_not_deadlock():
    """A moves to B's slot while B moves to A's: slot rows are touched in id order."""
    office = OfficeFactory()
    a_slot, b_slot = session(office, 3, capacity=2), session(office, 4, capacity=2)
    a, b = ApplicationFactory(slot=a_slot), ApplicationFactory(slot=b_slot)
    start = threading.Barrier(2)
    outcomes = []

    def move(application, target):
        try:
            start.wait()
            reschedule_application(application_id=application.pk, slot_id=target.pk)
            outcomes.append("moved")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(a, b_slot)), threading.Thread(target=move, args=(b, a_slot))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["moved", "moved"]
    assert_places_match_applications()
