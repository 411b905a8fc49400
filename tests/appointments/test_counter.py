"""The day's counter: check-in with queue numbers, walk-ins from the priority pool only."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments.exceptions import CheckInNotAllowed, DuplicateApplication, InvalidInput
from appointments.models import Application, ApplicationEvent, Fee, Status
from appointments.services.counter import check_in_application, check_priority_group, register_walk_in
from quotas.exceptions import ExpressFull, SlotFull, SlotNotFound
from quotas.models import Slot
from tests.factories import ApplicationFactory, applicant_data
from tests.staff_world import today_slot


def walk_in(world, slot, **overrides):
    values = dict(
        office_id=world.kediri.pk,
        slot_id=slot.pk,
        applicant=applicant_data(birth_date=dt.date(1950, 3, 2), full_name="Mbah Sastro"),
        kind="new",
        priority_group="elderly",
        passport_type="regular",
        validity_years=5,
        actor=world.kediri_officer,
    )
    values.update(overrides)
    return register_walk_in(**values)


@pytest.mark.django_db
class TestCheckIn:
    def test_queue_numbers_count_per_office_and_day(self, world):
        slot = today_slot(world.kediri)
        first, second = ApplicationFactory(slot=slot), ApplicationFactory(slot=slot)
        malang = ApplicationFactory(slot=today_slot(world.malang))
        assert check_in_application(application_id=first.pk, actor=world.kediri_officer).queue_number == "A-001"
        assert check_in_application(application_id=malang.pk).queue_number == "A-001"
        second = check_in_application(application_id=second.pk, actor=world.kediri_officer)
        assert second.queue_number == "A-002" and second.status == Status.CHECKED_IN and second.checked_in_at
        event = second.events.get()
        assert (event.from_status, event.to_status, event.actor) == ("booked", "checked_in", world.kediri_officer)

    def test_refuses_another_day_another_office_twice_and_unpaid(self, world):
        with pytest.raises(CheckInNotAllowed):  # its session is in three days
            check_in_application(application_id=world.kediri_app.pk)
        today = ApplicationFactory(slot=today_slot(world.malang))
        with pytest.raises(Exception) as excinfo:
            check_in_application(application_id=today.pk, office_id=world.kediri.pk)
        assert excinfo.value.code == "not_found"
        check_in_application(application_id=today.pk, office_id=world.malang.pk)
        with pytest.raises(CheckInNotAllowed):
            check_in_application(application_id=today.pk)
        unpaid = ApplicationFactory(slot=today_slot(world.kediri), status=Status.PENDING_PAYMENT)
        with pytest.raises(CheckInNotAllowed, match="belum dibayar"):
            check_in_application(application_id=unpaid.pk)
        unpaid.refresh_from_db()
        assert unpaid.status == Status.PENDING_PAYMENT and unpaid.queue_number == ""


@pytest.mark.django_db(transaction=True)
def test_simultaneous_check_ins_get_different_queue_numbers():
    from tests.factories import OfficeFactory

    office = OfficeFactory()
    slot = today_slot(office, capacity=20)
    applications = [ApplicationFactory(slot=slot) for _ in range(8)]
    barrier = threading.Barrier(len(applications))
    numbers, errors = [], []

    def run(application_id):
        try:
            barrier.wait()
            numbers.append(check_in_application(application_id=application_id).queue_number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a.pk,)) for a in applications]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"A-{n:03d}" for n in range(1, 9)]


@pytest.mark.django_db
class TestWalkIn:
    def test_takes_a_place_from_the_priority_pool_only(self, world):
        online = today_slot(world.kediri, capacity=5)
        priority = today_slot(world.kediri, pool="priority", capacity=2, start=online.starts_at)
        application = walk_in(world, priority)
        online.refresh_from_db()
        priority.refresh_from_db()
        assert (online.taken, priority.taken) == (0, 1)
        assert application.walk_in and application.status == Status.CHECKED_IN
        assert application.queue_number == "B-001" and application.account is None
        assert application.amount == 350_000
        assert ApplicationEvent.objects.get(application=application).to_status == "checked_in"

        with pytest.raises(InvalidInput):  # an online slot is refused, even of the same office
            walk_in(world, online)
        online.refresh_from_db()
        assert online.taken == 0

    def test_beyond_a_full_pool_a_walk_in_gets_a_place_added_for_them(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=1)
        first = walk_in(world, priority)
        second = walk_in(world, priority, applicant=applicant_data(birth_date=dt.date(1948, 1, 1)))
        lost = walk_in(world, priority, priority_group="", kind="lost", applicant=applicant_data())
        priority.refresh_from_db()
        assert (priority.capacity, priority.taken, priority.overflow) == (3, 3, 2)
        assert [first.beyond_pool, second.beyond_pool, lost.beyond_pool] == [False, True, True]
        assert Application.objects.get(pk=second.pk).beyond_pool
        assert [first.queue_number, second.queue_number, lost.queue_number] == ["B-001", "B-002", "B-003"]

    def test_a_refused_walk_in_adds_no_place(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=1)
        person = applicant_data(birth_date=dt.date(1950, 1, 1))
        walk_in(world, priority, applicant=person)
        with pytest.raises(DuplicateApplication):  # the pool is full and the NIK is taken
            walk_in(world, priority, applicant=person)
        priority.refresh_from_db()
        assert (priority.capacity, priority.taken, priority.overflow) == (1, 1, 0)

    def test_counter_only_kinds_without_a_priority_group(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        lost = walk_in(
            world, priority, priority_group="", kind="lost", applicant=applicant_data(full_name="Paspor Hilang")
        )
        assert lost.kind == "lost" and lost.priority_group == ""
        with pytest.raises(InvalidInput) as excinfo:
            walk_in(world, priority, priority_group="", kind="new")
        assert excinfo.value.field == "priority_group"
        priority.refresh_from_db()
        assert priority.taken == 1

    def test_bad_input_changes_nothing(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        person = applicant_data(birth_date=dt.date(1950, 3, 2))
        with pytest.raises(InvalidInput):  # the NIK does not match the birth date
            walk_in(world, priority, applicant=applicant_data(nik=person.nik, birth_date=dt.date(1980, 1, 1)))
        with pytest.raises(SlotNotFound):  # another office's session
            walk_in(world, today_slot(world.malang, pool="priority"))
        with pytest.raises(InvalidInput):  # not today
            walk_in(
                world,
                Slot.objects.create(
                    office=world.kediri,
                    pool="priority",
                    capacity=3,
                    date=world.kediri_slot.date,
                    starts_at=world.kediri_slot.starts_at,
                    ends_at=world.kediri_slot.ends_at,
                    opens_at=world.kediri_slot.opens_at,
                ),
            )
        walk_in(world, priority, applicant=person)
        with pytest.raises(DuplicateApplication):
            walk_in(world, priority, applicant=person)
        priority.refresh_from_db()
        assert priority.taken == 1


@pytest.mark.django_db
class TestFines:
    """A lost or damaged passport pays its fine with the fee at the counter, unless staff find
    force majeure; the amounts are fee data."""

    @pytest.mark.parametrize(
        "kind, force_majeure, fine",
        [("lost", False, 1_000_000), ("damaged", False, 500_000), ("lost", True, 0), ("damaged", True, 0)],
    )
    def test_the_fine_is_part_of_the_amount(self, world, kind, force_majeure, fine):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        application = walk_in(world, priority, priority_group="", kind=kind, force_majeure=force_majeure)
        application.refresh_from_db()
        assert (application.amount, application.fine, application.force_majeure) == (
            350_000 + fine,
            fine,
            force_majeure,
        )

    def test_other_kinds_pay_no_fine_and_cannot_be_force_majeure(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        data_change = walk_in(world, priority, kind="data_change", priority_group="")
        assert (data_change.amount, data_change.fine) == (350_000, 0)
        with pytest.raises(InvalidInput) as refusal:
            walk_in(world, priority, kind="new", force_majeure=True)
        assert refusal.value.field == "force_majeure"
        priority.refresh_from_db()
        assert priority.taken == 1 and Application.objects.filter(slot=priority).count() == 1

    def test_a_new_fine_tariff_is_a_fee_row(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        Fee.objects.create(item=Fee.Item.FINE_DAMAGED, amount=750_000, effective_from=priority.date)
        damaged = walk_in(world, priority, priority_group="", kind="damaged", express=True)
        assert (damaged.amount, damaged.fine) == (350_000 + 1_000_000 + 750_000, 750_000)

    def test_the_counter_says_what_to_pay(self, client, world):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        client.force_login(world.kediri_officer)
        lost, damaged = applicant_data(full_name="Paspor Hilang"), applicant_data(full_name="Paspor Banjir")
        form = {
            "slot": priority.pk,
            "priority_group": "",
            "kind": "lost",
            "full_name": lost.full_name,
            "nik": lost.nik,
            "birth_date": lost.birth_date.isoformat(),
            "sex": "M",
            "passport_type": "regular",
            "validity_years": "5",
        }
        page = client.post(reverse("staff:walk_in"), form, follow=True).content.decode()
        assert "Yang dibayar: Rp1.350.000 (biaya Rp350.000 dan denda Rp1.000.000)." in page
        flood = {**form, "kind": "damaged", "force_majeure": "on", "full_name": damaged.full_name, "nik": damaged.nik}
        page = client.post(reverse("staff:walk_in"), flood, follow=True).content.decode()
        assert "Yang dibayar: Rp350.000 (keadaan kahar: tanpa denda)." in page
        assert Application.objects.get(nik=damaged.nik).force_majeure


@pytest.mark.django_db
class TestMarriedMinors:
    def test_walk_in_of_a_married_minor_may_get_ten_years(self, world):
        priority = today_slot(world.kediri, pool="priority", capacity=3)
        born = priority.date.replace(year=priority.date.year - 16)
        with pytest.raises(InvalidInput) as refusal:
            walk_in(
                world,
                priority,
                priority_group="",
                kind="lost",
                validity_years=10,
                applicant=applicant_data(birth_date=born),
            )
        assert refusal.value.field == "validity_years"
        married = walk_in(
            world,
            priority,
            priority_group="",
            kind="lost",
            validity_years=10,
            applicant=applicant_data(birth_date=born, married=True),
        )
        assert (married.validity_years, married.married) == (10, True)

    def test_check_in_tells_the_counter_to_see_the_marriage_book(self, client, world):
        slot = today_slot(world.kediri)
        born = slot.date.replace(year=slot.date.year - 16)
        minor = ApplicationFactory(slot=slot, birth_date=born, married=True, validity_years=10)
        adult = ApplicationFactory(slot=slot, married=True)
        client.force_login(world.kediri_officer)
        page = client.post(reverse("staff:check_in"), {"code": minor.booking_code}, HTTP_HX_REQUEST="true")
        assert "periksa buku nikah" in page.content.decode()
        page = client.post(reverse("staff:check_in"), {"code": adult.booking_code}, HTTP_HX_REQUEST="true")
        assert "buku nikah" not in page.content.decode()

    def test_check_in_after_the_same_day_cut_off_tells_the_counter(self, client, world):
        slot = today_slot(world.kediri)
        late = ApplicationFactory(slot=slot, express=True)
        in_time = ApplicationFactory(slot=slot, express=True)
        express_day = today_slot(world.kediri, pool="express", capacity=5, start=slot.starts_at.replace(hour=0))
        client.force_login(world.kediri_officer)
        express_day.ends_at = timezone.now() - dt.timedelta(minutes=1)
        express_day.save(update_fields=["ends_at"])
        page = client.post(reverse("staff:check_in"), {"code": late.booking_code}, HTTP_HX_REQUEST="true")
        cut_off = express_day.ends_at.astimezone(world.kediri.tzinfo).strftime("%H:%M")
        assert f"setelah batas check-in {cut_off} WIB" in page.content.decode()
        express_day.ends_at = timezone.now() + dt.timedelta(hours=1)
        express_day.save(update_fields=["ends_at"])
        page = client.post(reverse("staff:check_in"), {"code": in_time.booking_code}, HTTP_HX_REQUEST="true")
        assert "batas check-in" not in page.content.decode() and "A-002" in page.content.decode()


@pytest.mark.django_db
class TestCounterPage:
    def test_shows_todays_sessions_with_counts(self, client, world):
        online = today_slot(world.kediri)
        today_slot(world.kediri, pool="priority", capacity=4, start=online.starts_at)
        ApplicationFactory(slot=online)
        ApplicationFactory(slot=online, status=Status.NO_SHOW)
        checked = ApplicationFactory(slot=online)
        check_in_application(application_id=checked.pk)
        client.force_login(world.kediri_officer)
        response = client.get(reverse("staff:counter"))
        assert response.status_code == 200
        [session] = response.context["sessions"]
        assert (session.expected, session.present, session.no_show, session.priority_left) == (3, 1, 1, 4)
        assert b"autofocus" in response.content

    def test_walk_ins_are_present(self, client, world):
        online = today_slot(world.kediri)
        priority = today_slot(world.kediri, pool="priority", capacity=1, start=online.starts_at)
        check_in_application(application_id=ApplicationFactory(slot=online).pk)
        walk_in(world, priority)
        walk_in(world, priority, applicant=applicant_data(birth_date=dt.date(1949, 1, 1)))  # beyond the pool
        client.force_login(world.kediri_officer)
        response = client.get(reverse("staff:counter"))
        [session] = response.context["sessions"]
        assert (session.expected, session.present, session.walk_ins) == (1, 3, 2)
        assert (session.priority_left, session.priority_pool, session.priority_overflow) == (0, 1, 1)
        assert "+1 di luar kuota" in response.content.decode()

    def test_check_in_by_code_with_htmx(self, client, world):
        application = ApplicationFactory(slot=today_slot(world.kediri))
        client.force_login(world.kediri_officer)
        response = client.post(
            reverse("staff:check_in"), {"code": f" {application.booking_code.lower()} "}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert b"A-001" in response.content
        application.refresh_from_db()
        assert application.status == Status.CHECKED_IN

    def test_another_offices_code_is_unknown_here(self, client, world):
        malang = ApplicationFactory(slot=today_slot(world.malang))
        client.force_login(world.kediri_officer)
        response = client.post(reverse("staff:check_in"), {"code": malang.booking_code}, HTTP_HX_REQUEST="true")
        assert response.status_code == 404
        assert malang.full_name.encode() not in response.content
        malang.refresh_from_db()
        assert malang.status == Status.BOOKED

    def test_walk_in_form(self, client, world):
        online = today_slot(world.kediri)
        priority = today_slot(world.kediri, pool="priority", capacity=2, start=online.starts_at)
        person = applicant_data(birth_date=dt.date(2023, 1, 5), sex="F", full_name="Bayi Ayu")
        client.force_login(world.kediri_officer)
        form = {
            "slot": priority.pk,
            "priority_group": "child",
            "kind": "new",
            "full_name": person.full_name,
            "nik": person.nik,
            "birth_date": "2023-01-05",
            "sex": "F",
            "phone": "",
            "passport_type": "regular",
            "validity_years": "5",
        }
        response = client.post(reverse("staff:walk_in"), form)
        assert response.status_code == 302
        application = Application.objects.get(nik=person.nik)
        assert application.slot == priority and application.priority_group == "child"
        # A forged online slot id is not a choice of the form: refused, nothing taken.
        response = client.post(reverse("staff:walk_in"), {**form, "slot": online.pk, "nik": applicant_data().nik})
        assert response.status_code == 400
        online.refresh_from_db()
        assert online.taken == 0
        # Ten years for a child is refused with the reason at the field.
        other = applicant_data(birth_date=dt.date(2023, 1, 5), sex="F")
        response = client.post(reverse("staff:walk_in"), {**form, "nik": other.nik, "validity_years": "10"})
        assert response.status_code == 400 and response.context["walk_in_form"].errors["validity_years"]

    @pytest.mark.parametrize("user", ["jatim_regional", "national", "applicant"])
    def test_only_office_staff_open_the_counter(self, client, world, user):
        client.force_login(getattr(world, user))
        assert client.get(reverse("staff:counter")).status_code == 404

    def test_member_of_several_offices_chooses_one(self, client, world):
        client.force_login(world.malang_head)  # the Kanim and its ULP
        response = client.get(reverse("staff:counter"))
        assert response.status_code == 302 and response["Location"] == reverse("staff:choose_office")
        assert client.post(reverse("staff:choose_office"), {"office": "kanim-kediri"}).status_code == 404
        client.post(reverse("staff:choose_office"), {"office": "ulp-malang"})
        response = client.get(reverse("staff:counter"))
        assert response.context["office"] == world.malang_ulp


@pytest.mark.django_db
def test_counter_page_queries_do_not_grow_with_the_day(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    online = today_slot(world.kediri, capacity=50)
    today_slot(world.kediri, pool="priority", capacity=4, start=online.starts_at)
    client.force_login(world.kediri_officer)
    ApplicationFactory(slot=online)
    client.get(reverse("staff:counter"))  # warm the session and the translation catalogue
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:counter"))
    for _ in range(10):
        ApplicationFactory(slot=online)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("staff:counter"))
    assert len(many.captured_queries) == len(few.captured_queries) <= 12


@pytest.mark.django_db
def test_check_in_without_javascript_redirects_with_the_queue_number(client, world):
    application = ApplicationFactory(slot=today_slot(world.kediri))
    client.force_login(world.kediri_officer)
    response = client.post(reverse("staff:check_in"), {"code": application.booking_code}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("staff:counter")
    assert "A-001" in " ".join(str(m) for m in response.context["messages"])
    response = client.post(reverse("staff:check_in"), {"code": "TIDAKADA99"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


@pytest.mark.django_db
class TestCheckInAnswers:
    """Every outcome of a check-in answers with its own message: the htmx answer holds the
    message alone (it replaces the previous one) and the sessions table, refreshed out of band."""

    def check_in(self, client, code):
        return client.post(reverse("staff:check_in"), {"code": code}, HTTP_HX_REQUEST="true")

    def test_each_outcome_has_its_message(self, client, world):
        slot = today_slot(world.kediri)
        today = ApplicationFactory(slot=slot, full_name="Dewi Lestari")
        unpaid = ApplicationFactory(slot=slot, full_name="Belum Bayar", status=Status.PENDING_PAYMENT)
        client.force_login(world.kediri_officer)
        answers = [
            self.check_in(client, today.booking_code),
            self.check_in(client, today.booking_code),
            self.check_in(client, "TIDAKADA99"),
            self.check_in(client, world.kediri_app.booking_code),  # in three days
            self.check_in(client, unpaid.booking_code),
            self.check_in(client, "   "),
        ]
        assert [a.status_code for a in answers] == [200, 409, 404, 409, 409, 400]
        texts = [a.content.decode() for a in answers]
        assert 'role="status"' in texts[0] and "A-001" in texts[0] and "Dewi Lestari" in texts[0]
        for text in texts[1:]:
            assert 'role="alert"' in text and "message-error" in text and "message-success" not in text
            assert 'id="counter-live" hx-swap-oob="true"' in text
        assert "Dewi Lestari sudah check-in, nomor antrean A-001." in texts[1]
        assert "TIDAKADA99" in texts[2]
        assert "bukan hari ini" in texts[3] and world.kediri_app.full_name in texts[3]
        assert "belum dibayar" in texts[4]
        assert "harus diisi" in texts[5]
        unpaid.refresh_from_db()
        assert unpaid.status == Status.PENDING_PAYMENT and unpaid.queue_state == ""

    def test_check_in_puts_the_applicant_in_the_queue(self, world):
        application = ApplicationFactory(slot=today_slot(world.kediri))
        checked = check_in_application(application_id=application.pk)
        assert Application.objects.get(pk=checked.pk).queue_state == "waiting"


@pytest.mark.django_db
class TestPriorityGroupFitsThePerson:
    """The group is checked against the birth date and sex on the day of the walk-in."""

    DAY = dt.date(2026, 6, 15)

    @pytest.mark.parametrize(
        "group, birth_date, sex, fits",
        [
            ("elderly", dt.date(1966, 6, 15), "M", True),  # 60 today
            ("elderly", dt.date(1966, 6, 16), "M", False),  # 60 tomorrow
            ("elderly", dt.date(1990, 1, 1), "M", False),
            ("child", dt.date(2021, 6, 16), "F", True),  # 5 tomorrow
            ("child", dt.date(2021, 6, 15), "F", False),  # 5 today
            ("pregnant", dt.date(1995, 2, 1), "F", True),
            ("pregnant", dt.date(1995, 2, 1), "M", False),
            ("pregnant", dt.date(2014, 6, 15), "F", True),  # 12 today
            ("pregnant", dt.date(2014, 6, 16), "F", False),  # 11
            ("pregnant", dt.date(1965, 6, 16), "F", True),  # 60
            ("pregnant", dt.date(1965, 6, 15), "F", False),  # 61 today
            ("disabled", dt.date(1990, 1, 1), "M", True),
            ("disabled", dt.date(2024, 1, 1), "F", True),
            ("", dt.date(1990, 1, 1), "M", True),  # no group: the kind decides
        ],
    )
    def test_group_against_birth_date_and_sex(self, group, birth_date, sex, fits):
        if fits:
            check_priority_group(priority_group=group, birth_date=birth_date, sex=sex, day=self.DAY)
        else:
            with pytest.raises(InvalidInput) as excinfo:
                check_priority_group(priority_group=group, birth_date=birth_date, sex=sex, day=self.DAY)
            assert excinfo.value.field == "priority_group"

    def test_the_form_shows_the_reason_at_the_field_and_registers_nobody(self, client, world):
        priority = today_slot(world.kediri, pool="priority", capacity=2)
        person = applicant_data(birth_date=dt.date(1990, 1, 1), sex="M", full_name="Bukan Lansia")
        client.force_login(world.kediri_officer)
        form = {
            "slot": priority.pk,
            "priority_group": "elderly",
            "kind": "new",
            "full_name": person.full_name,
            "nik": person.nik,
            "birth_date": "1990-01-01",
            "sex": "M",
            "phone": "",
            "passport_type": "regular",
            "validity_years": "5",
        }
        response = client.post(reverse("staff:walk_in"), form)
        assert response.status_code == 400
        [error] = response.context["walk_in_form"].errors["priority_group"]
        assert "60 tahun" in error
        response = client.post(reverse("staff:walk_in"), {**form, "priority_group": "pregnant"})
        assert response.context["walk_in_form"].errors["priority_group"] == [
            "Hanya perempuan yang dapat didaftarkan hamil."
        ]
        assert not Application.objects.filter(nik=person.nik).exists()
        priority.refresh_from_db()
        assert (priority.taken, priority.capacity) == (0, 2)


@pytest.mark.django_db
class TestWalkInSession:
    """A walk-in session (Kediri's Saturdays): its own pool, open to anyone, its own numbers."""

    def test_anyone_is_registered_from_its_pool_with_its_own_numbers_until_it_is_gone(self, world):
        pool = today_slot(world.kediri, pool="walk_in", capacity=2)
        priority = today_slot(world.kediri, pool="priority", capacity=5, start=pool.starts_at)
        first = walk_in(world, pool, priority_group="", applicant=applicant_data(full_name="Budi Santoso"))
        second = walk_in(world, pool, priority_group="", kind="replacement_expired")
        elderly = walk_in(world, priority)  # the priority pool keeps its own series
        assert (first.queue_number, second.queue_number, elderly.queue_number) == ("C-001", "C-002", "B-001")
        assert first.walk_in and first.status == Status.CHECKED_IN and first.slot == pool
        with pytest.raises(SlotFull):  # no place is added beyond a walk-in session's quota
            walk_in(world, pool, priority_group="")
        pool.refresh_from_db()
        assert (pool.capacity, pool.taken, pool.overflow) == (2, 2, 0)
        assert Application.objects.filter(slot=pool).count() == 2

    def test_an_express_walk_in_takes_a_same_day_place(self, world):
        pool = today_slot(world.kediri, pool="walk_in", capacity=5)
        express = today_slot(world.kediri, pool="express", capacity=1, start=pool.starts_at.replace(hour=0))
        walk_in(world, pool, priority_group="", express=True)
        with pytest.raises(ExpressFull):
            walk_in(world, pool, priority_group="", express=True)
        pool.refresh_from_db()
        express.refresh_from_db()
        assert (pool.taken, express.taken) == (1, 1)

    def test_the_counter_page_offers_the_walk_in_session_first_with_places_left(self, client, world):
        pool = today_slot(world.kediri, pool="walk_in", capacity=30)
        today_slot(world.kediri, pool="priority", capacity=5, start=pool.starts_at)
        client.force_login(world.kediri_officer)
        response = client.get(reverse("staff:counter"))
        choices = response.context["walk_in_form"].fields["slot"].choices
        assert choices[0][0] == pool.pk and "30" in str(choices[0][1])
        person = applicant_data()
        form = {
            "slot": pool.pk,
            "priority_group": "",
            "kind": "new",
            "full_name": "Budi Santoso",
            "nik": person.nik,
            "birth_date": person.birth_date.isoformat(),
            "sex": "M",
            "phone": "",
            "passport_type": "regular",
            "validity_years": "5",
        }
        assert client.post(reverse("staff:walk_in"), form).status_code == 302
        assert Application.objects.get(nik=person.nik).queue_number == "C-001"
        response = client.get(reverse("staff:counter"))
        assert "29 / 30" in response.content.decode()
