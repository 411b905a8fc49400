"""The release rush: a hold made in the first RELEASE_RUSH_MINUTES after a session's places opened
is paid within RUSH_PAYMENT_MINUTES, so a broker's fresh accounts cannot keep the rush's places for
the whole payment window (bench/HOARDING.md). Before and after the rush, the usual window; a draw's
winners and an offer's places keep theirs."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.services.booking import payment_window
from appointments.services.lifecycle import release_expired_holds
from quotas.models import Slot
from tests.factories import SlotFactory, UserFactory, book_one

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(office, settings):
    settings.PAYMENT_WINDOW_MINUTES, settings.RELEASE_RUSH_MINUTES, settings.RUSH_PAYMENT_MINUTES = 120, 60, 30
    opens_at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    return SlotFactory(office=office, capacity=10, opens_at=opens_at)


@pytest.mark.parametrize(
    "after_opening, pay_within",
    [
        (dt.timedelta(0), dt.timedelta(minutes=30)),  # the release's first second
        (dt.timedelta(minutes=59, seconds=59), dt.timedelta(minutes=30)),
        (dt.timedelta(minutes=60), dt.timedelta(minutes=120)),  # the rush is over
        (dt.timedelta(hours=2), dt.timedelta(minutes=120)),
    ],
)
def test_a_hold_made_in_the_rush_is_paid_sooner(opened, after_opening, pay_within):
    now = opened.opens_at + after_opening
    application = book_one(account=UserFactory(), slot_id=opened.pk, now=now)
    assert application.payment_due_at == now + pay_within


def test_the_rushs_unpaid_holds_come_back_after_30_minutes(opened):
    now = opened.opens_at + dt.timedelta(minutes=5)
    book_one(account=UserFactory(), slot_id=opened.pk, now=now)
    assert release_expired_holds(slot_id=opened.pk, now=now + dt.timedelta(minutes=29)) == 0
    assert release_expired_holds(slot_id=opened.pk, now=now + dt.timedelta(minutes=31)) == 1
    assert Slot.objects.get(pk=opened.pk).taken == 0


def test_a_draws_winners_and_an_offers_places_keep_their_windows(opened, settings):
    now = opened.opens_at + dt.timedelta(minutes=1)
    assert payment_window(slot=opened, now=now, drawn=True) == dt.timedelta(hours=settings.DRAW_PAYMENT_HOURS)
    assert payment_window(slot=opened, now=now, held=True) == dt.timedelta(minutes=120)


def test_a_rush_window_longer_than_the_usual_one_changes_nothing(opened, settings):
    settings.RUSH_PAYMENT_MINUTES = 180
    assert payment_window(slot=opened, now=opened.opens_at) == dt.timedelta(minutes=120)


def test_the_booking_page_says_how_long_in_the_rush(client, office, settings):
    settings.RELEASE_RUSH_MINUTES, settings.RUSH_PAYMENT_MINUTES = 60, 30
    client.force_login(UserFactory())
    rush = SlotFactory(office=office, opens_at=timezone.now() - dt.timedelta(minutes=5))
    calm = SlotFactory(
        office=office, opens_at=timezone.now() - dt.timedelta(days=1), starts_at=rush.starts_at + dt.timedelta(hours=2)
    )
    assert "waktu 30 menit untuk membayar" in client.get(f"/book/{rush.pk}/").content.decode()
    page = client.get(f"/book/{calm.pk}/").content.decode()
    assert "waktu 2 jam untuk membayar" in page and "30 menit" not in page


def test_off_by_default_every_hold_has_two_hours_and_the_pages_say_nothing_of_a_rush(office, client):
    # M-Paspor's applicants have two hours: the rush is the division's to turn on (decision 29).
    from django.conf import settings as configured

    assert configured.RELEASE_RUSH_MINUTES == 0
    slot = SlotFactory(office=office, capacity=10, opens_at=timezone.now() - dt.timedelta(minutes=1))
    assert payment_window(slot=slot, now=timezone.now()) == dt.timedelta(hours=2)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert home.context["rush_payment_minutes"] is None
    assert "Right after new dates open" not in home.content.decode()
