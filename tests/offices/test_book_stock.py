"""Blank passport book stock in offices: the projection's arithmetic, deliveries, the book used
at printing, the passport types an office issues, and who may see and change what
(docs/book-stock.md)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from offices.exceptions import StockInputError
from offices.models import PassportStock, StockReceipt, StockUse
from offices.services import record_receipt, set_type_issued, use_book
from offices.stock import closing_date, is_closed, projected_balance
from tests.factories import UserFactory

TODAY = dt.date(2026, 12, 1)


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


class TestProjection:
    def test_balance_is_stock_less_the_bookings_up_to_and_including_the_day(self):
        ahead = {day(0): 2, day(3): 5, day(7): 1}
        assert projected_balance(on_hand=10, ahead=ahead, on=day(0)) == 8
        assert projected_balance(on_hand=10, ahead=ahead, on=day(2)) == 8
        assert projected_balance(on_hand=10, ahead=ahead, on=day(3)) == 3
        assert projected_balance(on_hand=10, ahead=ahead, on=day(30)) == 2

    def test_open_while_every_booked_day_keeps_a_book_spare(self):
        assert closing_date(on_hand=10, ahead={day(1): 4, day(5): 5}, today=TODAY) is None

    def test_the_last_book_closes_the_day_that_takes_it(self):
        # 10 books, 10 booked by day 5: day 5 leaves none for another booking, day 4 still has 4.
        ahead = {day(1): 6, day(5): 4}
        assert closing_date(on_hand=10, ahead=ahead, today=TODAY) == day(5)
        assert projected_balance(on_hand=10, ahead=ahead, on=day(4)) == 4
        # One book more and day 5 stays open.
        assert closing_date(on_hand=11, ahead=ahead, today=TODAY) is None

    def test_overbooked_days_close_from_the_first_day_without_a_book(self):
        assert closing_date(on_hand=3, ahead={day(2): 5, day(4): 1}, today=TODAY) == day(2)

    def test_no_books_closes_from_today(self):
        assert closing_date(on_hand=0, ahead={}, today=TODAY) == TODAY
        assert closing_date(on_hand=-2, ahead={day(3): 1}, today=TODAY) == TODAY

    def test_days_before_today_are_not_ahead(self):
        assert closing_date(on_hand=2, ahead={day(-1): 5, day(2): 1}, today=TODAY) is None

    def test_the_rule_closes_the_day_itself_and_every_later_one(self):
        assert not is_closed(issued=True, closed_from=day(5), on=day(4))
        assert is_closed(issued=True, closed_from=day(5), on=day(5))
        assert is_closed(issued=True, closed_from=day(5), on=day(6))
        assert not is_closed(issued=True, closed_from=None, on=day(60))
        assert is_closed(issued=False, closed_from=None, on=day(0))


@pytest.mark.django_db
class TestDeliveries:
    def test_a_delivery_adds_its_books_with_its_note_and_recorder(self, office):
        officer = UserFactory(is_staff=True)
        today = timezone.now().astimezone(office.tzinfo).date()
        receipt = record_receipt(
            office=office,
            passport_type="electronic",
            books=250,
            reference=" SJ-2026/117 ",
            received_on=today,
            actor=officer,
        )
        stock = PassportStock.objects.get(office=office, passport_type="electronic")
        assert (stock.on_hand, stock.issued) == (250, True)
        assert (receipt.reference, receipt.books, receipt.recorded_by, receipt.received_on) == (
            "SJ-2026/117",
            250,
            officer,
            today,
        )
        more = {"books": 50, "reference": "SJ-2026/118", "received_on": today, "actor": officer}
        record_receipt(office=office, passport_type="electronic", **more)
        stock.refresh_from_db()
        assert stock.on_hand == 300

    @pytest.mark.parametrize(
        "field, values",
        [
            ("books", {"books": 0}),
            ("books", {"books": -5}),
            ("books", {"books": 100_001}),
            ("books", {"books": True}),
            ("reference", {"reference": "   "}),
            ("reference", {"reference": "x" * 61}),
            ("received_on", {"received_on": "tomorrow"}),
            ("received_on", {"received_on": "long ago"}),
            ("passport_type", {"passport_type": "diplomatic"}),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, office, field, values):
        officer = UserFactory(is_staff=True)
        today = timezone.now().astimezone(office.tzinfo).date()
        dates = {"tomorrow": today + dt.timedelta(days=1), "long ago": today - dt.timedelta(days=61)}
        arguments = {
            "office": office,
            "passport_type": "regular",
            "books": 10,
            "reference": "SJ-1",
            "received_on": today,
            "actor": officer,
        }
        arguments.update({k: dates.get(v, v) if isinstance(v, str) else v for k, v in values.items()})
        with pytest.raises(StockInputError) as refused:
            record_receipt(**arguments)
        assert refused.value.field == field and refused.value.message
        assert not PassportStock.objects.exists() and not StockReceipt.objects.exists()

    def test_the_same_delivery_note_twice_is_refused_and_adds_nothing(self, office):
        officer = UserFactory(is_staff=True)
        today = timezone.now().astimezone(office.tzinfo).date()
        delivery = {"books": 40, "reference": "SJ-9", "received_on": today, "actor": officer}
        record_receipt(office=office, passport_type="regular", **delivery)
        with pytest.raises(StockInputError) as refused:
            record_receipt(
                office=office, passport_type="regular", books=40, reference="SJ-9", received_on=today, actor=officer
            )
        assert refused.value.field == "reference"
        assert PassportStock.objects.get().on_hand == 40 and StockReceipt.objects.count() == 1
        # The same note at another office, or for the other type, is another delivery.
        record_receipt(
            office=office, passport_type="electronic", books=5, reference="SJ-9", received_on=today, actor=officer
        )


@pytest.mark.django_db(transaction=True)
class TestUse:
    def test_a_book_is_used_once_per_application(self, office):
        from django.db import transaction

        PassportStock.objects.create(office=office, passport_type="regular", on_hand=3)
        now = timezone.now()
        with transaction.atomic():
            assert use_book(office_id=office.pk, passport_type="regular", application_id=77, now=now) is True
        with transaction.atomic():
            assert use_book(office_id=office.pk, passport_type="regular", application_id=77, now=now) is False
        stock = PassportStock.objects.get()
        assert stock.on_hand == 2
        use = StockUse.objects.get()
        assert (use.application_id, use.used_on) == (77, now.astimezone(office.tzinfo).date())

    def test_an_office_keeping_no_stock_of_the_type_records_nothing(self, office):
        from django.db import transaction

        with transaction.atomic():
            used = use_book(office_id=office.pk, passport_type="electronic", application_id=5, now=timezone.now())
        assert used is False
        assert not PassportStock.objects.exists() and not StockUse.objects.exists()


@pytest.mark.django_db
def test_an_office_stops_and_starts_issuing_a_type(office):
    stock = set_type_issued(office=office, passport_type="electronic", issued=False)
    assert not stock.issued and stock.on_hand == 0
    set_type_issued(office=office, passport_type="electronic", issued=True)
    assert PassportStock.objects.get().issued
    with pytest.raises(StockInputError):
        set_type_issued(office=office, passport_type="gold", issued=False)
    assert PassportStock.objects.count() == 1


@pytest.mark.django_db
class TestWhoSeesWhat:
    """The counter's page is the office's; the admin's stock list is scoped per office."""

    URL = reverse("staff:stock")

    def test_the_counter_page_records_a_delivery_at_the_officers_office_only(self, client, world):
        client.force_login(world.kediri_officer)
        today = timezone.now().astimezone(world.kediri.tzinfo).date()
        response = client.post(
            self.URL,
            {"passport_type": "electronic", "books": "120", "reference": "SJ-KDR-1", "received_on": today.isoformat()},
        )
        assert response.status_code == 302
        stock = PassportStock.objects.get()
        assert (stock.office, stock.on_hand) == (world.kediri, 120)
        page = client.get(self.URL).content.decode()
        assert "SJ-KDR-1" in page and "120" in page
        assert StockReceipt.objects.get().recorded_by == world.kediri_officer

    def test_bad_input_on_the_page_is_a_translated_error_and_changes_nothing(self, client, world):
        client.force_login(world.kediri_officer)
        today = timezone.now().astimezone(world.kediri.tzinfo).date()
        future = (today + dt.timedelta(days=2)).isoformat()
        response = client.post(
            self.URL, {"passport_type": "electronic", "books": "10", "reference": "SJ-2", "received_on": future}
        )
        assert response.status_code == 400
        assert "Tanggal pengiriman" in response.content.decode()
        response = client.post(
            self.URL, {"passport_type": "electronic", "books": "0", "reference": "SJ-2", "received_on": today}
        )
        assert response.status_code == 400
        assert not PassportStock.objects.exists() and not StockReceipt.objects.exists()

    def test_staff_without_a_counter_and_applicants_do_not_open_it(self, client, world):
        for user in (world.jatim_regional, world.applicant):
            client.force_login(user)
            assert client.get(self.URL).status_code == 404
            response = client.post(self.URL, {"passport_type": "regular", "books": "5", "reference": "X"})
            assert response.status_code == 404
        assert not StockReceipt.objects.exists()

    def test_the_admin_list_shows_each_role_its_offices(self, client, world):
        kediri = PassportStock.objects.create(office=world.kediri, passport_type="regular", on_hand=10)
        malang = PassportStock.objects.create(office=world.malang, passport_type="regular", on_hand=20)
        changelist = reverse("admin:offices_passportstock_changelist")
        seen = {}
        for name in ("kediri_head", "kediri_officer", "jatim_regional", "bali_regional", "national"):
            client.force_login(getattr(world, name))
            response = client.get(changelist)
            assert response.status_code == 200, name
            seen[name] = set(response.context["cl"].result_list)
        assert seen["kediri_head"] == {kediri} and seen["kediri_officer"] == {kediri}
        assert seen["jatim_regional"] == {kediri, malang} and seen["national"] == {kediri, malang}
        assert seen["bali_regional"] == set()
        # Another office's row does not exist for a head; a head switches a type off at home only.
        client.force_login(world.kediri_head)
        assert client.get(reverse("admin:offices_passportstock_change", args=[malang.pk])).status_code == 404
        response = client.post(reverse("admin:offices_passportstock_change", args=[kediri.pk]), {"issued": ""})
        assert response.status_code == 302
        kediri.refresh_from_db()
        assert not kediri.issued and kediri.on_hand == 10
        client.force_login(world.kediri_officer)
        response = client.post(reverse("admin:offices_passportstock_change", args=[kediri.pk]), {"issued": "on"})
        assert response.status_code == 403
        kediri.refresh_from_db()
        assert not kediri.issued
