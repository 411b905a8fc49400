"""Coming earlier on the application's page: the section for a booked application that may ask,
asking (and being moved at once), stopping, refusals, and the move in the history."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from appointments.models import Application, Status
from appointments.services.earlier import ask_earlier
from appointments.services.lifecycle import reschedule_application
from tests.appointments.test_reschedule_cancel import session
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

ASKING = "Ingin datang lebih awal?"
WAITING = "Menunggu jadwal lebih awal"


@pytest.fixture
def logged_in(client, applicant_user):
    client.force_login(applicant_user)
    return client


def today(office) -> dt.date:
    return timezone.now().astimezone(office.tzinfo).date()


def page(client, application) -> str:
    return client.get(f"/applications/{application.booking_code}/").content.decode()


def ask(client, application, date_from, **extra):
    return client.post(f"/applications/{application.booking_code}/earlier/", {"date_from": date_from}, **extra)


def shown_messages(answer) -> list[str]:
    return [str(m) for m in answer.context["messages"]]


def indonesian(value, fmt) -> str:
    with translation.override("id"):
        return formats.date_format(value, fmt)


class TestSection:
    def test_a_booked_application_sees_the_question_with_the_range_it_may_ask(self, logged_in, applicant_user, office):
        application = ApplicationFactory(account=applicant_user, slot=session(office, 6))
        html = page(logged_in, application)
        assert ASKING in html and "tidak memakai jatah satu kali ubah tanggal" in html
        first, last = today(office) + dt.timedelta(days=1), today(office) + dt.timedelta(days=5)
        assert f'min="{first.isoformat()}"' in html and f'max="{last.isoformat()}"' in html
        assert f'value="{first.isoformat()}"' in html  # the first date by default
        assert "Saya bisa datang mulai" in html and "Minta jadwal lebih awal" in html
        assert f'action="/applications/{application.booking_code}/earlier/"' in html

    @pytest.mark.parametrize(
        "status, days",
        [
            (Status.PENDING_PAYMENT, 6),  # not paid
            (Status.CANCELLED, 6),
            (Status.CHECKED_IN, 6),
            (Status.BOOKED, 1),  # the visit is tomorrow: nothing earlier
        ],
    )
    def test_no_section_where_the_service_would_refuse(self, logged_in, applicant_user, office, status, days):
        application = ApplicationFactory(account=applicant_user, slot=session(office, days), status=status)
        html = page(logged_in, application)
        assert 'id="earlier"' not in html and ASKING not in html

    def test_an_asking_household_sees_from_when_it_waits_and_a_stop_button(self, logged_in, applicant_user, office):
        application = ApplicationFactory(account=applicant_user, slot=session(office, 6))
        session(office, 2, capacity=1, taken=1)
        wanted = today(office) + dt.timedelta(days=2)
        ask_earlier(application_id=application.pk, account=applicant_user, date_from=wanted)
        html = page(logged_in, application)
        assert WAITING in html and f"mulai {indonesian(wanted, 'j F Y')}" in html
        assert 'name="stop"' in html and "Berhenti" in html
        assert ASKING not in html and 'name="date_from"' not in html


class TestAsking:
    def test_asking_waits_for_a_place_and_says_so(self, logged_in, applicant_user, office):
        late = session(office, 6)
        session(office, 2, capacity=1, taken=1)  # the only earlier session is full
        application = ApplicationFactory(account=applicant_user, slot=late)
        child = ApplicationFactory(account=applicant_user, slot=late)  # the household on this session
        tomorrow = today(office) + dt.timedelta(days=1)

        answer = ask(logged_in, application, tomorrow.isoformat())

        assert answer.status_code == 302 and answer["Location"] == f"/applications/{application.booking_code}/"
        assert [a.earlier_from for a in Application.objects.filter(pk__in=[application.pk, child.pk])] == [tomorrow] * 2
        shown = logged_in.get(answer["Location"])
        assert any(m.startswith("Permintaan diterima") for m in shown_messages(shown))
        assert WAITING in shown.content.decode()

    def test_a_free_place_moves_the_household_at_once_and_the_message_gives_the_new_date(
        self, logged_in, applicant_user, office
    ):
        application = ApplicationFactory(account=applicant_user, slot=session(office, 6))
        free = session(office, 3)

        answer = ask(logged_in, application, (today(office) + dt.timedelta(days=2)).isoformat(), follow=True)

        application.refresh_from_db()
        assert application.slot_id == free.pk and application.earlier_from is None
        assert application.reschedule_count == 0
        (message,) = shown_messages(answer)
        assert message.startswith("Ada tempat kosong") and indonesian(free.date, "j F Y") in message
        assert "WIB" in message
        html = answer.content.decode()
        assert "Dimajukan ke tanggal lebih awal sesuai permintaan Anda" in html
        assert "Ubah tanggal" in html  # the one change of date is still there

    def test_stopping_ends_the_households_request(self, logged_in, applicant_user, office):
        late = session(office, 6)
        session(office, 2, capacity=1, taken=1)
        household = [ApplicationFactory(account=applicant_user, slot=late) for _ in range(2)]
        ask_earlier(
            application_id=household[0].pk, account=applicant_user, date_from=today(office) + dt.timedelta(days=1)
        )

        answer = logged_in.post(f"/applications/{household[1].booking_code}/earlier/", {"stop": "1"}, follow=True)

        assert list(
            Application.objects.filter(pk__in=[a.pk for a in household]).values_list("earlier_from", flat=True)
        ) == [None, None]
        assert shown_messages(answer) == ["Anda tidak lagi menunggu jadwal lebih awal."]
        assert ASKING in answer.content.decode()
        again = logged_in.post(f"/applications/{household[1].booking_code}/earlier/", {"stop": "1"}, follow=True)
        assert shown_messages(again) == ["Anda memang tidak sedang menunggu jadwal lebih awal."]


class TestRefusals:
    @pytest.mark.parametrize(
        "date_from, error",
        [
            (None, "Pilih tanggal paling awal Anda bisa datang."),
            ("", "Pilih tanggal paling awal Anda bisa datang."),
            ("besok", "Masukkan tanggal yang valid."),
            ("2026-02-30", "Masukkan tanggal yang valid."),
            (0, "Pilih tanggal dari"),  # today
            (6, "Pilih tanggal dari"),  # the visit's own date
            (30, "Pilih tanggal dari"),  # after the visit
        ],
    )
    def test_a_bad_date_comes_back_beside_the_field_and_changes_nothing(
        self, logged_in, applicant_user, office, date_from, error
    ):
        application = ApplicationFactory(account=applicant_user, slot=session(office, 6))
        session(office, 2)  # a free place a wrongly accepted date would take
        if isinstance(date_from, int):
            date_from = (today(office) + dt.timedelta(days=date_from)).isoformat()
        data = {} if date_from is None else {"date_from": date_from}

        answer = logged_in.post(f"/applications/{application.booking_code}/earlier/", data)

        assert answer.status_code == 400
        html = answer.content.decode()
        assert 'class="field field-invalid"' in html and error in html and ASKING in html
        application.refresh_from_db()
        assert application.earlier_from is None and application.slot.date == today(office) + dt.timedelta(days=6)

    def test_an_application_that_may_not_ask_is_told_why(self, logged_in, applicant_user, office):
        application = ApplicationFactory(account=applicant_user, slot=session(office, 6), status=Status.PENDING_PAYMENT)
        answer = ask(logged_in, application, (today(office) + dt.timedelta(days=1)).isoformat(), follow=True)
        assert answer.redirect_chain == [(f"/applications/{application.booking_code}/", 302)]
        assert shown_messages(answer) == ["Hanya jadwal yang sudah dibayar yang dapat dimajukan ke tanggal lebih awal."]
        assert Application.objects.get(pk=application.pk).earlier_from is None

    def test_someone_elses_application_is_404(self, logged_in, office):
        other = ApplicationFactory(slot=session(office, 6))
        session(office, 2)
        assert ask(logged_in, other, (today(office) + dt.timedelta(days=1)).isoformat()).status_code == 404
        assert logged_in.post(f"/applications/{other.booking_code}/earlier/", {"stop": "1"}).status_code == 404
        other.refresh_from_db()
        assert other.earlier_from is None and other.slot.date == today(office) + dt.timedelta(days=6)

    def test_only_a_signed_in_post_with_its_csrf_token(self, client, applicant_user, office):
        application = ApplicationFactory(account=applicant_user, slot=session(office, 6))
        tomorrow = (today(office) + dt.timedelta(days=1)).isoformat()
        anonymous = ask(client, application, tomorrow)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(applicant_user)
        assert ask(strict, application, tomorrow).status_code == 403
        assert strict.get(f"/applications/{application.booking_code}/earlier/").status_code == 405
        assert Application.objects.get(pk=application.pk).earlier_from is None


def test_the_history_tells_a_move_earlier_from_a_change_of_date(logged_in, applicant_user, office):
    application = ApplicationFactory(account=applicant_user, slot=session(office, 6))
    earlier = session(office, 3)
    ask_earlier(application_id=application.pk, account=applicant_user, date_from=today(office) + dt.timedelta(days=1))
    assert Application.objects.get(pk=application.pk).slot_id == earlier.pk  # moved at once
    reschedule_application(application_id=application.pk, slot_id=session(office, 4).pk)

    html = page(logged_in, application)
    assert html.count("Dimajukan ke tanggal lebih awal sesuai permintaan Anda") == 1
    assert html.count("Tanggal diubah") == 1
    logged_in.post("/i18n/setlang/", {"language": "en"})
    english = page(logged_in, application)
    assert "Moved to an earlier date, as you asked" in english and "Date changed" in english
