"""The applicant's pages: each answers GET and POST, and bad input stores nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Application, Fee, Status
from appointments.nik import build_nik
from quotas.models import Slot
from tests.factories import ApplicationFactory, OfficeFactory, RegionFactory, SlotFactory, UserFactory

BIRTH = dt.date(1990, 5, 17)


def form_data(**overrides):
    data = {
        "nik": build_nik(birth_date=BIRTH, sex="M", serial=42),
        "full_name": "Budi  Santoso",
        "birth_date": BIRTH.isoformat(),
        "sex": "M",
        "phone": "0812-3456-7890",
        "passport_type": "electronic",
        "validity_years": "10",
        "application_kind": "new",
    }
    data.update(overrides)
    return data


@pytest.fixture
def user_client(client, applicant_user):
    client.force_login(applicant_user)
    return client


def assert_nothing_booked(slot):
    slot.refresh_from_db()
    assert slot.taken == 0
    assert not Application.objects.exists()


@pytest.mark.django_db
class TestBrowsing:
    def test_home_speaks_indonesian_and_links_to_booking(self, client):
        page = client.get(reverse("home")).content.decode()
        assert '<html lang="id">' in page
        assert "Mulai booking" in page and reverse("appointments:offices") in page

    def test_english_switch(self, client):
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        assert "Start booking" in client.get(reverse("home")).content.decode()

    def test_offices_grouped_by_region_with_kind_city_and_zone(self, client, django_assert_num_queries):
        jatim = RegionFactory()
        kediri = OfficeFactory(name="Kantor Imigrasi Kediri", city="Kediri", region=jatim)
        OfficeFactory(name="MPP Kota Kediri", kind="mpp", parent=kediri, office_class="", region=jatim)
        OfficeFactory(
            name="Kantor Imigrasi Denpasar",
            city="Denpasar",
            timezone="Asia/Makassar",
            region=RegionFactory(code="BALI", name="Bali", province_code="51"),
        )
        OfficeFactory(name="Tutup", is_active=False, region=jatim)
        # The offices; the banner's incidents, read once while the cache is cold (docs/incidents.md).
        with django_assert_num_queries(2):
            page = client.get(reverse("appointments:offices")).content.decode()
        assert page.index("Bali") < page.index("Kantor Imigrasi Denpasar") < page.index("Jawa Timur")
        assert page.index("Kantor Imigrasi Kediri") < page.index("MPP Kota Kediri")
        assert "Mal Pelayanan Publik" in page and "WITA" in page and "Unit dari Kantor Imigrasi Kediri" in page
        assert "Tutup" not in page

    def test_calendar_shows_free_full_not_open_and_closed_days(self, client, office, django_assert_max_num_queries):
        free = SlotFactory(office=office)
        full = SlotFactory(office=office, starts_at=free.starts_at + dt.timedelta(days=1), capacity=1, taken=1)
        later = SlotFactory(
            office=office,
            starts_at=free.starts_at + dt.timedelta(days=2),
            opens_at=timezone.now() + dt.timedelta(days=1),
        )
        closed_day = free.date + dt.timedelta(days=5)
        states, pages = {}, {}
        for month in {f"{d:%Y-%m}" for d in (free.date, full.date, later.date, closed_day)}:
            url = reverse("appointments:calendar", args=[office.code]) + f"?month={month}"
            # The office, its slots, its closed days; the search counter's office-zone map on a
            # cold cache only.
            with django_assert_max_num_queries(4):
                response = client.get(url)
            pages[month] = response.content.decode()
            for week in response.context["cal"].weeks:
                states.update({day.date: day.state for day in week if day})
        assert (states[free.date], states[full.date], states[later.date]) == ("free", "full", "not_open")
        assert states[closed_day] == "closed"
        assert "Kuota dibuka" in pages[f"{later.date:%Y-%m}"] and "WIB" in pages[f"{later.date:%Y-%m}"]

    def test_calendar_month_navigation_stays_within_the_horizon(self, client, office):
        url = reverse("appointments:calendar", args=[office.code])
        this_month = timezone.now().astimezone(office.tzinfo).date().replace(day=1)
        for month in ("1999-01", "garbage", "2026-13"):
            response = client.get(url, {"month": month})
            assert response.status_code == 200
            assert response.context["cal"].month == this_month
            assert response.context["cal"].previous_month is None
        assert client.get(url, {"month": "2999-01"}).context["cal"].next_month is None

    def test_calendar_opens_on_the_first_month_with_bookable_days(self, client, office):
        today = timezone.now().astimezone(office.tzinfo).date()
        next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        starts = dt.datetime.combine(next_month + dt.timedelta(days=9), dt.time(8), tzinfo=office.tzinfo)
        SlotFactory(office=office, starts_at=starts, date=starts.date())
        url = reverse("appointments:calendar", args=[office.code])
        assert client.get(url).context["cal"].month == next_month
        assert client.get(url, {"month": f"{today:%Y-%m}"}).context["cal"].month == today.replace(day=1)

    def test_unknown_office_and_bad_date_are_404(self, client, office):
        assert client.get(reverse("appointments:calendar", args=["nope"])).status_code == 404
        assert client.get(reverse("appointments:day", args=[office.code, "2026-02-31"])).status_code == 404

    def test_day_lists_sessions_with_places_left_in_the_office_zone(self, client):
        denpasar = OfficeFactory(code="kanim-denpasar", timezone="Asia/Makassar")
        slot = SlotFactory(office=denpasar, capacity=50, taken=8)
        SlotFactory(office=denpasar, capacity=5, taken=5, starts_at=slot.starts_at + dt.timedelta(hours=2))
        page = client.get(reverse("appointments:day", args=[denpasar.code, slot.date.isoformat()])).content.decode()
        assert "08:00–10:00 WITA" in page  # the office's own wall clock, not WIB
        assert "sisa 42 tempat" in page
        assert "10:00–12:00" not in page  # a full session is not offered
        assert reverse("appointments:book", args=[slot.pk]) in page

    def test_day_not_open_yet_says_when(self, client, office):
        slot = SlotFactory(office=office, opens_at=timezone.now() + dt.timedelta(days=1))
        page = client.get(reverse("appointments:day", args=[office.code, slot.date.isoformat()])).content.decode()
        assert "Kuota dibuka" in page and "WIB" in page
        assert reverse("appointments:book", args=[slot.pk]) not in page


@pytest.mark.django_db
class TestBooking:
    def test_get_shows_the_session_and_prefills_the_account(self, user_client, slot, applicant_user):
        response = user_client.get(reverse("appointments:book", args=[slot.pk]))
        assert response.status_code == 200
        assert response.context["form"].initial["full_name"] == applicant_user.full_name
        page = response.content.decode()
        assert "WIB" in page and "Penggantian: hilang" not in page  # counter-only kinds are not offered
        # Prices come from the fee table, not from the code.
        assert "Elektronik (e-paspor): Rp650.000 / Rp950.000" in page and "+Rp1.000.000" in page
        Fee.objects.create(item="express", amount=1_250_000, effective_from=dt.date(2025, 1, 1))
        assert "+Rp1.250.000" in user_client.get(reverse("appointments:book", args=[slot.pk])).content.decode()

    def test_post_books_and_redirects_to_the_confirmation(self, user_client, slot, applicant_user):
        response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data(express="on"))
        application = Application.objects.get()
        assert response["Location"] == reverse("appointments:confirmation", args=[application.booking_code])
        assert application.account == applicant_user
        assert (application.full_name, application.phone, application.express) == ("Budi Santoso", "081234567890", True)
        assert application.amount == 950_000 + 1_000_000
        slot.refresh_from_db()
        assert slot.taken == 1

    @pytest.mark.parametrize(
        "change, field, message",
        [
            ({"nik": "12345"}, "nik", "NIK terdiri dari tepat 16 digit."),
            ({"nik": build_nik(birth_date=BIRTH, sex="F", serial=1)}, "nik", "NIK tidak sesuai"),
            ({"nik": "99" + build_nik(birth_date=BIRTH, sex="M")[2:]}, "nik", "bukan kode provinsi"),
            (
                {"birth_date": "2015-03-08", "nik": build_nik(birth_date=dt.date(2015, 3, 8), sex="M")},
                "validity_years",
                "di bawah 17 tahun",
            ),
            ({"application_kind": "lost"}, "application_kind", None),
            ({"phone": "12"}, "phone", "nomor ponsel Indonesia"),
            ({"birth_date": "2999-01-01"}, "birth_date", "antara tahun 1900 dan hari ini"),
            ({"sex": ""}, "sex", None),
        ],
    )
    def test_invalid_input_is_a_field_error_and_stores_nothing(self, user_client, slot, change, field, message):
        response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data(**change))
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert field in errors, errors
        if message:
            assert message in " ".join(errors[field])
        assert_nothing_booked(slot)

    def test_a_married_minor_books_ten_years(self, user_client, slot):
        born = dt.date(slot.date.year - 16, 3, 8)
        minor = form_data(birth_date=born.isoformat(), nik=build_nik(birth_date=born, sex="F", serial=5), sex="F")
        page = user_client.get(reverse("appointments:book", args=[slot.pk])).content.decode()
        assert "kecuali sudah menikah" in page and 'name="married"' in page
        response = user_client.post(reverse("appointments:book", args=[slot.pk]), {**minor, "married": "on"})
        assert response.status_code == 302
        application = Application.objects.get()
        assert (application.validity_years, application.married) == (10, True)

    def test_full_slot_is_a_form_error_and_stores_nothing(self, user_client, office):
        slot = SlotFactory(office=office, capacity=1, taken=1)
        assert "Sesi ini sudah penuh" in user_client.get(reverse("appointments:book", args=[slot.pk])).content.decode()
        response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data())
        assert "Sesi ini sudah penuh" in " ".join(response.context["form"].non_field_errors())
        slot.refresh_from_db()
        assert slot.taken == 1 and not Application.objects.exists()

    def test_not_open_yet_is_a_form_error(self, user_client, office):
        slot = SlotFactory(office=office, opens_at=timezone.now() + dt.timedelta(hours=3))
        response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data())
        assert "belum dibuka" in " ".join(response.context["form"].non_field_errors())
        assert_nothing_booked(slot)

    def test_duplicate_nik_is_a_form_error(self, user_client, slot, office):
        ApplicationFactory(
            nik=form_data()["nik"], slot=SlotFactory(office=office, starts_at=slot.starts_at + dt.timedelta(days=1))
        )
        response = user_client.post(reverse("appointments:book", args=[slot.pk]), form_data())
        assert "sudah memiliki permohonan aktif" in " ".join(response.context["form"].non_field_errors())
        slot.refresh_from_db()
        assert slot.taken == 0 and Application.objects.count() == 1

    def test_unknown_slot_is_404(self, user_client):
        assert user_client.get(reverse("appointments:book", args=[999999])).status_code == 404


@pytest.mark.django_db
class TestConfirmationAndList:
    @pytest.fixture
    def application(self, applicant_user, slot):
        return ApplicationFactory(
            account=applicant_user,
            slot=slot,
            status=Status.PENDING_PAYMENT,
            amount=1_950_000,
            nik=build_nik(birth_date=BIRTH, sex="M", serial=77),
        )

    def test_confirmation_has_code_qr_amount_billing_code_and_deadline_in_office_zone(self, user_client, application):
        page = user_client.get(reverse("appointments:confirmation", args=[application.booking_code])).content.decode()
        assert application.booking_code in page
        assert 'src="data:image/svg+xml' in page
        assert "Rp1.950.000" in page
        code = application.billing_code
        assert f"{code[:5]} {code[5:10]} {code[10:]}" in page
        due = application.payment_due_at.astimezone(application.slot.office.tzinfo)
        assert f"{due:%H:%M} WIB" in page
        assert application.nik not in page and application.masked_nik in page

    def test_a_cancelled_booking_shows_no_qr_code(self, user_client, application):
        application.status = Status.CANCELLED
        application.save()
        page = user_client.get(reverse("appointments:confirmation", args=[application.booking_code])).content.decode()
        assert application.booking_code in page and "data:image/svg+xml" not in page

    def test_english_amount_uses_commas(self, user_client, application):
        user_client.post(reverse("set_language"), {"language": "en", "next": "/"})
        page = user_client.get(reverse("appointments:confirmation", args=[application.booking_code])).content.decode()
        assert "Rp1,950,000" in page and "Awaiting payment" in page

    def test_someone_elses_application_is_404(self, client, application):
        client.force_login(UserFactory())
        assert client.get(reverse("appointments:confirmation", args=[application.booking_code])).status_code == 404
        assert client.post(reverse("appointments:cancel", args=[application.booking_code])).status_code == 404
        application.refresh_from_db()
        assert application.status == Status.PENDING_PAYMENT

    def test_my_applications_lists_only_mine_with_masked_nik(
        self, user_client, application, django_assert_max_num_queries
    ):
        other = ApplicationFactory()
        with django_assert_max_num_queries(5):  # one of them the banner's incidents on a cold cache
            page = user_client.get(reverse("appointments:my_applications")).content.decode()
        assert application.booking_code in page and other.booking_code not in page
        assert application.nik not in page and application.masked_nik in page
        assert reverse("appointments:cancel", args=[application.booking_code]) in page


@pytest.mark.django_db
class TestCancel:
    def test_get_asks_post_cancels_and_gives_the_place_back(self, user_client, applicant_user, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot)
        url = reverse("appointments:cancel", args=[application.booking_code])
        assert "Ya, batalkan" in user_client.get(url).content.decode()
        application.refresh_from_db()
        assert application.status == Status.BOOKED  # a GET changes nothing

        response = user_client.post(url)
        assert response["Location"] == reverse("appointments:my_applications")
        application.refresh_from_db()
        assert application.status == Status.CANCELLED
        assert Slot.objects.get(pk=slot.pk).taken == 0
        assert application.events.filter(to_status=Status.CANCELLED, actor=applicant_user).exists()

    def test_a_cancelled_application_cannot_be_cancelled_again(self, user_client, applicant_user, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot, status=Status.CANCELLED)
        response = user_client.post(reverse("appointments:cancel", args=[application.booking_code]), follow=True)
        assert "tidak dapat dibatalkan lagi" in response.content.decode()
        assert application.events.count() == 0
        assert Slot.objects.get(pk=slot.pk).taken == 0
