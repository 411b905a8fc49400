"""What the applicant's pages say and keep: the person being booked for, past and holiday dates,
sessions not open yet, the billing code, the ticket (documents, calendar file), the fee on
cancelling, the people list, and the favicon."""

import datetime as dt
import re

import pytest
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from appointments.applicant_forms import PersonForm
from appointments.forms import ApplicationForm
from appointments.models import Applicant, RequiredDocument, Status
from quotas.calendar import holidays_between
from quotas.models import DateOverride
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, applicant_data, book_one


def indonesian(text: str) -> str:
    with translation.override("id"):
        return gettext(text)


@pytest.fixture
def logged_in(client, applicant_user):
    client.force_login(applicant_user)
    return client


def session_on(office, day: dt.date, **fields):
    start = dt.datetime.combine(day, dt.time(10), tzinfo=office.tzinfo)
    return SlotFactory(office=office, starts_at=start, date=day, **fields)


def office_today(office) -> dt.date:
    return timezone.now().astimezone(office.tzinfo).date()


@pytest.mark.django_db
class TestBookingPath:
    def test_the_person_booked_for_is_kept_from_the_offices_to_the_form(self, logged_in, applicant_user, office):
        person = Applicant.objects.create(
            account=applicant_user, **applicant_data(full_name="Bima Lestari").as_fields()
        )
        slot = session_on(office, office_today(office) + dt.timedelta(days=3))
        query = f"person={person.pk}"

        offices = logged_in.get(f"/offices/?{query}").content.decode()
        assert f'href="/offices/{office.code}/?{query}"' in offices
        calendar = logged_in.get(f"/offices/{office.code}/?{query}").content.decode()
        assert f'href="/offices/{office.code}/{slot.date:%Y-%m-%d}/?{query}"' in calendar
        assert re.search(rf'\?month=\d{{4}}-\d{{2}}&amp;{query}"', calendar)
        day = logged_in.get(f"/offices/{office.code}/{slot.date:%Y-%m-%d}/?{query}").content.decode()
        assert f'href="/book/{slot.pk}/?{query}"' in day
        form = logged_in.get(f"/book/{slot.pk}/?{query}")
        assert form.context["form"]["full_name"].value() == "Bima Lestari"

    def test_a_holiday_is_named_once_and_a_past_date_says_it_has_passed(self, client, office):
        today = office_today(office)
        holiday, name = next(
            iter(sorted(holidays_between(today + dt.timedelta(days=1), today + dt.timedelta(days=366)).items()))
        )
        page = client.get(f"/offices/{office.code}/{holiday:%Y-%m-%d}/").content.decode()
        assert page.count(escape(name)) == 1
        closed_day = office_today(office) + dt.timedelta(days=4)
        DateOverride.objects.create(office=office, date=closed_day, closed=True, reason="Renovasi loket")
        assert client.get(f"/offices/{office.code}/{closed_day:%Y-%m-%d}/").content.decode().count("Renovasi") == 1

        yesterday = office_today(office) - dt.timedelta(days=1)
        page = client.get(f"/offices/{office.code}/{yesterday:%Y-%m-%d}/").content.decode()
        assert indonesian("This date has passed.") in page
        assert indonesian("The office takes no bookings on this day.") not in page

    def test_a_session_not_open_yet_says_when_and_offers_no_button(self, logged_in, office):
        slot = session_on(
            office, office_today(office) + dt.timedelta(days=20), opens_at=timezone.now() + dt.timedelta(days=6)
        )
        page = logged_in.get(f"/book/{slot.pk}/").content.decode()
        assert indonesian("Quota opens %(when)s").split("%")[0] in page
        assert 'type="submit">' + indonesian("Book this session") not in page
        assert 'name="nik"' not in page


@pytest.mark.django_db
class TestTicket:
    def test_the_billing_code_is_grouped_with_a_copy_button_on_both_pages(self, logged_in, applicant_user, slot):
        application = ApplicationFactory(account=applicant_user, slot=slot, status=Status.PENDING_PAYMENT)
        grouped = " ".join(application.billing_code[i : i + 5] for i in range(0, 15, 5))
        for path in ("", "pay/"):
            page = logged_in.get(f"/applications/{application.booking_code}/{path}").content.decode()
            assert grouped in page, path
            assert f'data-copy-value="{application.billing_code}"' in page and "data-copy=" in page

    def test_the_confirmation_lists_the_documents_of_its_kind(self, logged_in, applicant_user, slot):
        # The documents are data (RequiredDocument, seeded by a migration): an edit shows at once.
        new = ApplicationFactory(account=applicant_user, slot=slot, kind="new")
        page = logged_in.get(f"/applications/{new.booking_code}/").content.decode()
        assert "e-KTP (kartu tanda penduduk elektronik)" in page
        assert "Paspor lama Anda" not in page
        replacement = ApplicationFactory(account=applicant_user, slot=slot, kind="replacement_expired")
        page = logged_in.get(f"/applications/{replacement.booking_code}/").content.decode()
        assert "Paspor lama Anda" in page
        RequiredDocument.objects.filter(kind="replacement_expired", code="old_passport").update(
            name="Paspor lama (asli)"
        )
        page = logged_in.get(f"/applications/{replacement.booking_code}/").content.decode()
        assert "Paspor lama (asli)" in page and "Paspor lama Anda" not in page
        assert f"/applications/{replacement.booking_code}/calendar.ics" in page and "data-print" in page

    def test_the_calendar_file_is_in_the_offices_zone(self, logged_in, applicant_user):
        denpasar = OfficeFactory(name="Kantor Imigrasi Denpasar", city="Denpasar", timezone="Asia/Makassar")
        day = office_today(denpasar) + dt.timedelta(days=5)
        slot = session_on(denpasar, day)
        application = ApplicationFactory(account=applicant_user, slot=slot)
        answer = logged_in.get(f"/applications/{application.booking_code}/calendar.ics")
        assert answer["Content-Type"].startswith("text/calendar")
        assert f"mpaspor-{application.booking_code}.ics" in answer["Content-Disposition"]
        text = answer.content.decode()
        assert f"DTSTART;TZID=Asia/Makassar:{day:%Y%m%d}T100000\r\n" in text
        assert f"DTEND;TZID=Asia/Makassar:{day:%Y%m%d}T120000\r\n" in text
        assert "TZOFFSETTO:+0800" in text and "TZNAME:WITA" in text
        assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        other = ApplicationFactory(slot=slot)
        assert logged_in.get(f"/applications/{other.booking_code}/calendar.ics").status_code == 404

    def test_cancelling_a_paid_booking_says_the_fee_is_forfeited(self, logged_in, applicant_user, slot):
        paid = ApplicationFactory(account=applicant_user, slot=slot, status=Status.BOOKED, paid_at=timezone.now())
        page = logged_in.get(f"/applications/{paid.booking_code}/cancel/").content.decode()
        assert 'id="fee-forfeited"' in page and "Rp350.000" in page
        assert page.index('id="fee-forfeited"') < page.index('type="submit" class="danger"')
        unpaid = ApplicationFactory(account=applicant_user, slot=slot, status=Status.PENDING_PAYMENT)
        page = logged_in.get(f"/applications/{unpaid.booking_code}/cancel/").content.decode()
        assert 'id="fee-forfeited"' not in page


@pytest.mark.django_db
class TestPeople:
    def test_the_people_form_is_the_booking_forms_person_part(self):
        person, booking = PersonForm(), ApplicationForm()
        for name in ("nik", "full_name", "birth_date", "sex", "phone"):
            assert type(person.fields[name].widget) is type(booking.fields[name].widget), name
            assert person.fields[name].widget.attrs == booking.fields[name].widget.attrs, name
        for name in ("nik", "full_name", "birth_date", "sex"):
            assert str(person.fields[name].label) == str(booking.fields[name].label), name
        assert booking.fields["phone"].required and not person.fields["phone"].required

    def test_people_booked_by_hand_are_shown_and_added_in_one_click(self, logged_in, applicant_user, slot):
        empty = logged_in.get("/people/").content.decode()
        assert indonesian("No people on your list yet. Add yourself or a family member below.") in empty
        person = applicant_data(full_name="Siti Aminah", birth_date=dt.date(1992, 3, 8), sex="F")
        book_one(
            account=applicant_user,
            slot_id=slot.pk,
            applicant=person,
            passport_type="regular",
            validity_years=5,
            kind="new",
        )
        page = logged_in.get("/people/").content.decode()
        assert "Siti Aminah" in page and indonesian("No people on your list yet.").split(".")[0] not in page
        answer = logged_in.post(
            "/people/",
            {"nik": person.nik, "full_name": "Siti Aminah", "birth_date": "1992-03-08", "sex": "F", "phone": ""},
        )
        assert answer.status_code == 302
        assert Applicant.objects.get(account=applicant_user).nik == person.nik
        assert indonesian("Booked for, not on your list") not in logged_in.get("/people/").content.decode()

    def test_myself_starts_the_form_with_the_account_holder(self, logged_in, applicant_user):
        answer = logged_in.get("/people/?myself=1")
        assert answer.context["form"]["full_name"].value() == applicant_user.full_name
        assert 'href="?myself=1#add-person"' in logged_in.get("/people/").content.decode()


def test_the_favicon_is_served_and_linked(client, db):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"] == "/static/favicon.ico"
    assert '<link rel="icon" href="/static/favicon.ico"' in client.get("/").content.decode()
