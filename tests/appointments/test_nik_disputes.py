"""NIK disputes: the owner of a NIK that someone else booked contests it (page and API) with the
birth date and a photo of the e-KTP; staff of the office that holds the application uphold it
(the application is cancelled through its life cycle, its place offered to the waiting list
first, the account that booked it flagged when they choose) or reject it with a reason; the
owner is told the outcome. Each refusal changes nothing; the review is the office's alone."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.exceptions import BookingsPaused
from accounts.models import AccountFlag, AccountMessage, RefusedNik, User
from allocation.models import Offer
from allocation.services.waiting import join_waiting_list
from appointments.exceptions import (
    CancelNotAllowed,
    DisputeAlreadyOpen,
    DisputeDecided,
    DisputeNotFound,
    FileDamaged,
    InvalidInput,
    NothingToDispute,
    OwnApplicationDisputed,
    PhotoNotAnImage,
)
from appointments.models import ApplicationEvent, DocumentView, NikDispute, Status
from appointments.nik import build_nik
from appointments.services.booking import PersonBooking
from appointments.services.disputes import decide_dispute, file_dispute
from appointments.services.documents import document_storage
from appointments.services.hoarding import evaluate_hoarding
from quotas.models import Slot
from tests.api.conftest import assert_error, client_for
from tests.documents import files
from tests.factories import ApplicationFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1990, 5, 17)  # the factories' applicants' birth date


def photo(content=None, name="ktp.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, files.jpeg(size=(800, 500)) if content is None else content)


def stored_photos() -> list[str]:
    storage = document_storage()
    return storage.listdir("disputes")[1] if storage.exists("disputes") else []


def contest(account, application, *, birth_date=BIRTH, content=None, **kwargs) -> NikDispute:
    return file_dispute(account=account, nik=application.nik, birth_date=birth_date, photo=photo(content), **kwargs)


def nothing_stored(before: list[str]):
    assert not NikDispute.objects.exists()
    assert stored_photos() == before


class TestTheOwnersClaim:
    def test_the_owner_contests_and_the_photo_is_kept_private_and_re_encoded(self, world):
        squatted = world.kediri_app
        dispute = contest(world.applicant, squatted)
        assert (dispute.state, dispute.application_id, dispute.nik) == ("open", squatted.pk, squatted.nik)
        assert dispute.photo_name.startswith("disputes/") and squatted.nik not in dispute.photo_name
        content = document_storage().open(dispute.photo_name).read()
        assert content.startswith(b"\xff\xd8\xff") and files.PHONE_MAKE.encode() not in content  # EXIF gone
        assert dispute.history.get().history_user_id == world.applicant.pk  # audited: who filed
        # Contesting tells whether a NIK is booked, as a refused booking does: counted the same.
        assert RefusedNik.objects.filter(account=world.applicant).count() == 1
        assert status_of(squatted) == Status.BOOKED  # nothing happens before the review

    @pytest.mark.parametrize(
        "sex, given, accepted",
        [
            ("M", BIRTH, True),
            ("M", BIRTH + dt.timedelta(days=1), False),  # a day off
            ("M", BIRTH.replace(year=1991), False),  # another year
            ("M", BIRTH.replace(year=2090), False),  # the same two digits of the year, another century
            ("F", BIRTH, True),  # a woman's NIK: 40 added to the day
            ("F", BIRTH.replace(day=27), False),
        ],
    )
    def test_the_birth_date_must_be_the_one_the_nik_encodes(self, world, sex, given, accepted):
        nik = build_nik(birth_date=BIRTH, sex=sex, serial=4242)
        squatted = ApplicationFactory(slot=world.kediri_slot, nik=nik, sex=sex)
        before = stored_photos()
        if accepted:
            assert contest(world.applicant, squatted, birth_date=given).state == "open"
            return
        with pytest.raises(InvalidInput) as refused:
            contest(world.applicant, squatted, birth_date=given)
        assert refused.value.field == "birth_date"
        nothing_stored(before)
        assert not RefusedNik.objects.exists()

    def test_a_malformed_nik_is_refused_on_its_field(self, world):
        before = stored_photos()
        with pytest.raises(InvalidInput) as refused:
            file_dispute(account=world.applicant, nik="3571011705", birth_date=BIRTH, photo=photo())
        assert refused.value.field == "nik"
        with pytest.raises(InvalidInput) as refused:  # no such province
            file_dispute(
                account=world.applicant,
                nik="99" + build_nik(birth_date=BIRTH, sex="M")[2:],
                birth_date=BIRTH,
                photo=photo(),
            )
        assert refused.value.field == "nik"
        nothing_stored(before)

    def test_a_nik_without_an_active_application_has_nothing_to_contest(self, world):
        before = stored_photos()
        ended = ApplicationFactory(slot=world.kediri_slot, status=Status.CANCELLED)
        free = applicant_data()
        for nik in (ended.nik, free.nik):
            with pytest.raises(NothingToDispute):
                file_dispute(account=world.applicant, nik=nik, birth_date=BIRTH, photo=photo())
        nothing_stored(before)
        assert not RefusedNik.objects.exists()

    def test_the_accounts_own_application_is_not_contested_but_cancelled(self, world):
        before = stored_photos()
        own = ApplicationFactory(account=world.applicant, slot=world.kediri_slot)
        with pytest.raises(OwnApplicationDisputed):
            contest(world.applicant, own)
        nothing_stored(before)

    def test_a_second_open_dispute_of_the_same_nik_is_refused_until_the_first_is_decided(self, world):
        first = contest(world.applicant, world.kediri_app)
        before = stored_photos()
        with pytest.raises(DisputeAlreadyOpen):
            contest(world.applicant, world.kediri_app)
        assert NikDispute.objects.count() == 1 and stored_photos() == before
        # Another account may contest the same NIK: staff see both (a broker cannot lock the owner out).
        other = contest(UserFactory(), world.kediri_app)
        assert other.state == "open"
        decide_dispute(dispute_id=first.pk, uphold=False, note="Foto KTP tidak terbaca.", actor=world.kediri_officer)
        assert contest(world.applicant, world.kediri_app).state == "open"

    @pytest.mark.parametrize(
        "content, error",
        [
            (files.pdf(), PhotoNotAnImage),  # a document, but not a photo
            (files.html_page(), PhotoNotAnImage),
            (files.windows_program(), PhotoNotAnImage),
            (files.truncated_jpeg(), FileDamaged),
        ],
    )
    def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_stored(self, world, content, error):
        before = stored_photos()
        with pytest.raises(error) as refused:
            contest(world.applicant, world.kediri_app, content=content)
        assert refused.value.field == "photo"
        nothing_stored(before)

    def test_a_bad_photo_is_refused_alike_whether_or_not_the_nik_is_booked(self, world):
        # The photo is checked before the NIK is looked up: its refusal tells nothing of the NIK.
        free = applicant_data()
        for nik in (world.kediri_app.nik, free.nik):
            with pytest.raises(PhotoNotAnImage):
                file_dispute(account=world.applicant, nik=nik, birth_date=BIRTH, photo=photo(files.pdf()))

    def test_an_account_paused_for_probing_niks_cannot_contest_either(self, world):
        before = stored_photos()
        User.objects.filter(pk=world.applicant.pk).update(bookings_paused_until=timezone.now() + dt.timedelta(hours=3))
        world.applicant.refresh_from_db()
        with pytest.raises(BookingsPaused):
            contest(world.applicant, world.kediri_app)
        nothing_stored(before)


def status_of(application) -> str:
    application.refresh_from_db()
    return application.status


class TestTheOfficesDecision:
    def test_upheld_the_application_is_cancelled_the_owner_told_and_the_booker_flagged(self, world):
        squatted = world.kediri_app
        dispute = contest(world.applicant, squatted)
        taken = Slot.objects.get(pk=squatted.slot_id).taken
        decide_dispute(dispute_id=dispute.pk, uphold=True, flag_account=True, actor=world.kediri_officer)

        dispute.refresh_from_db()
        assert (dispute.state, dispute.decided_by_id, dispute.squatter_flagged) == (
            "upheld",
            world.kediri_officer.pk,
            True,
        )
        assert status_of(squatted) == Status.CANCELLED
        event = ApplicationEvent.objects.get(application=squatted, to_status=Status.CANCELLED)
        assert event.actor_id == world.kediri_officer.pk and f"NIK dispute {dispute.pk}" in event.reason
        assert Slot.objects.get(pk=squatted.slot_id).taken == taken - 1  # the place is given back
        message = AccountMessage.objects.get(user=world.applicant)
        assert message.template == "nik_dispute_upheld" and message.context["nik"] == squatted.masked_nik
        flag = AccountFlag.objects.get(account_id=squatted.account_id)
        assert (flag.rule, flag.count) == ("disputed_niks", 1)
        booker = User.objects.get(pk=squatted.account_id)
        assert booker.restricted_by == "disputed_niks" and booker.restricted_until > timezone.now() + dt.timedelta(
            days=29
        )
        assert [h.history_user_id for h in dispute.history.order_by("history_id")] == [
            world.applicant.pk,
            world.kediri_officer.pk,
        ]
        # The evaluation counts the same upheld dispute and flags nobody twice.
        assert evaluate_hoarding() == []
        # The owner books with the NIK now.
        assert contest_free(world, squatted)

    def test_the_owners_e_mail_reads_the_outcome_in_indonesian_with_the_nik_masked(self, world):
        from accounts.outbox import render_account_message

        upheld = contest(world.applicant, world.kediri_app)
        decide_dispute(dispute_id=upheld.pk, uphold=True, actor=world.kediri_officer)
        subject, text = render_account_message(AccountMessage.objects.get(template="nik_dispute_upheld"))
        assert "diterima" in subject and world.kediri_app.masked_nik in subject
        assert "dibatalkan" in text and world.kediri_app.nik not in subject + text
        assert world.kediri_app.booking_code not in text and world.kediri.name not in text

        other = ApplicationFactory(slot=world.kediri_slot)
        rejected = contest(world.applicant, other)
        decide_dispute(dispute_id=rejected.pk, uphold=False, note="Foto buram.", actor=world.kediri_officer)
        subject, text = render_account_message(AccountMessage.objects.get(template="nik_dispute_rejected"))
        assert "ditolak" in subject and "Alasan kantor: Foto buram." in text

    def test_the_place_goes_to_the_waiting_list_first(self, world, django_capture_on_commit_callbacks):
        slot = Slot.objects.get(pk=world.kediri_app.slot_id)
        Slot.objects.filter(pk=slot.pk).update(capacity=slot.taken)  # full
        waiting = join_waiting_list(
            account=UserFactory(),
            office_id=slot.office_id,
            date_from=slot.date,
            date_to=slot.date,
            people=[PersonBooking(applicant=applicant_data(), passport_type="regular", validity_years=5, kind="new")],
        )
        dispute = contest(world.applicant, world.kediri_app)
        with django_capture_on_commit_callbacks(execute=True):
            decide_dispute(dispute_id=dispute.pk, uphold=True, actor=world.kediri_officer)
        offer = Offer.objects.get(waiting=waiting)
        assert offer.slot_id == slot.pk
        assert Slot.objects.get(pk=slot.pk).held == 1  # not in the public pool

    def test_upheld_without_a_flag_flags_nobody(self, world):
        dispute = contest(world.applicant, world.kediri_app)
        decide_dispute(dispute_id=dispute.pk, uphold=True, flag_account=False, actor=world.kediri_officer)
        assert not AccountFlag.objects.exists() and evaluate_hoarding() == []
        assert User.objects.get(pk=world.kediri_app.account_id).restricted_until is None

    def test_a_rejection_needs_its_reason_and_changes_nothing_else(self, world):
        dispute = contest(world.applicant, world.kediri_app)
        for note in ("", "   "):
            with pytest.raises(InvalidInput):
                decide_dispute(dispute_id=dispute.pk, uphold=False, note=note, actor=world.kediri_officer)
        with pytest.raises(InvalidInput):
            decide_dispute(dispute_id=dispute.pk, uphold=False, note="x" * 256, actor=world.kediri_officer)
        assert NikDispute.objects.get(pk=dispute.pk).state == "open" and not AccountMessage.objects.exists()

        decide_dispute(
            dispute_id=dispute.pk, uphold=False, note="Wajah di foto tidak cocok.", actor=world.kediri_officer
        )
        assert NikDispute.objects.get(pk=dispute.pk).state == "rejected"
        assert status_of(world.kediri_app) == Status.BOOKED
        message = AccountMessage.objects.get(user=world.applicant)
        assert message.template == "nik_dispute_rejected" and message.context["note"] == "Wajah di foto tidak cocok."
        assert not AccountFlag.objects.exists()

    def test_a_decided_dispute_is_not_decided_again(self, world):
        dispute = contest(world.applicant, world.kediri_app)
        decide_dispute(dispute_id=dispute.pk, uphold=False, note="Tidak terbaca.", actor=world.kediri_officer)
        with pytest.raises(DisputeDecided):
            decide_dispute(dispute_id=dispute.pk, uphold=True, actor=world.kediri_head)
        assert status_of(world.kediri_app) == Status.BOOKED

    def test_an_application_in_process_is_not_cancelled_here(self, world):
        dispute = contest(world.applicant, world.kediri_app)
        type(world.kediri_app).objects.filter(pk=world.kediri_app.pk).update(status=Status.IN_PROCESS)
        with pytest.raises(CancelNotAllowed):
            decide_dispute(dispute_id=dispute.pk, uphold=True, flag_account=True, actor=world.kediri_officer)
        assert NikDispute.objects.get(pk=dispute.pk).state == "open"
        assert not AccountMessage.objects.exists() and not AccountFlag.objects.exists()

    def test_an_application_that_ended_meanwhile_is_upheld_without_a_cancellation(self, world):
        dispute = contest(world.applicant, world.kediri_app)
        type(world.kediri_app).objects.filter(pk=world.kediri_app.pk).update(status=Status.EXPIRED)
        decide_dispute(dispute_id=dispute.pk, uphold=True, actor=world.kediri_officer)
        assert NikDispute.objects.get(pk=dispute.pk).state == "upheld"
        assert not ApplicationEvent.objects.filter(application=world.kediri_app).exists()


def test_the_photo_is_deleted_30_days_after_the_decision_and_the_record_stays(client, world, settings):
    from appointments.services.documents import purge_documents

    settings.DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION = 30
    open_one = contest(UserFactory(), world.kediri_app)
    decided = contest(world.applicant, world.kediri_app)
    decide_dispute(dispute_id=decided.pk, uphold=True, actor=world.kediri_officer)
    name = decided.photo_name
    assert purge_documents(now=timezone.now() + dt.timedelta(days=29, hours=23))["disputes"] == 0
    assert document_storage().exists(name)
    assert purge_documents(now=timezone.now() + dt.timedelta(days=30, minutes=1))["disputes"] == 1
    assert not document_storage().exists(name)
    decided.refresh_from_db()
    assert decided.photo_name is None and decided.state == "upheld"
    assert NikDispute.objects.get(pk=open_one.pk).photo_name  # an open dispute keeps its photo
    client.force_login(world.kediri_officer)
    assert client.get(reverse("staff:dispute_photo", args=[decided.pk])).status_code == 404
    assert "dihapus setelah masa simpannya" in client.get(reverse("staff:dispute", args=[decided.pk])).content.decode()


def contest_free(world, squatted) -> bool:
    """Whether the owner may now book with the NIK (nothing holds it)."""
    with pytest.raises(NothingToDispute):
        contest(world.applicant, squatted)
    return True


# --- The review pages: the office's staff only --------------------------------------------------


def staff_pages(dispute) -> list[str]:
    return [
        reverse("staff:dispute", args=[dispute.pk]),
        reverse("staff:dispute_photo", args=[dispute.pk]),
    ]


class TestWhoReviews:
    def test_the_offices_officer_sees_the_queue_the_claim_and_the_photo_each_view_logged(self, client, world):
        dispute = contest(world.applicant, world.kediri_app)
        client.force_login(world.kediri_officer)
        queue = client.get(reverse("staff:disputes")).content.decode()
        assert dispute.masked_nik in queue and dispute.nik not in queue  # masked in the list
        page = client.get(reverse("staff:dispute", args=[dispute.pk])).content.decode()
        assert dispute.nik in page and world.kediri_app.booking_code in page  # the reviewer compares both
        assert reverse("staff:dispute_photo", args=[dispute.pk]) in page
        answer = client.get(reverse("staff:dispute_photo", args=[dispute.pk]))
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        assert answer["Cache-Control"] == "private, no-store"
        view = DocumentView.objects.get()
        assert (view.viewer_id, view.office_id, view.booking_code) == (
            world.kediri_officer.pk,
            world.kediri.pk,
            world.kediri_app.booking_code,
        )

    @pytest.mark.parametrize(
        "reviewer", ["malang_head", "malang_officer", "jatim_regional", "bali_regional", "national", "applicant"]
    )
    def test_anyone_else_gets_a_404_and_decides_nothing(self, client, world, reviewer):
        dispute = contest(UserFactory(), world.kediri_app)
        client.force_login(getattr(world, reviewer))
        for url in staff_pages(dispute):
            assert client.get(url).status_code == 404
        decide = client.post(reverse("staff:decide_dispute", args=[dispute.pk]), {"decision": "uphold"})
        assert decide.status_code == 404
        queue = client.get(reverse("staff:disputes"))
        assert queue.status_code == 404 or dispute.masked_nik not in queue.content.decode()
        assert NikDispute.objects.get(pk=dispute.pk).state == "open" and not DocumentView.objects.exists()
        assert status_of(world.kediri_app) == Status.BOOKED

    @pytest.mark.parametrize("reviewer", ["malang_officer", "jatim_regional", "national"])
    def test_the_service_itself_refuses_a_decision_from_outside_the_office(self, world, reviewer):
        dispute = contest(UserFactory(), world.kediri_app)
        with pytest.raises(DisputeNotFound):
            decide_dispute(dispute_id=dispute.pk, uphold=True, actor=getattr(world, reviewer))
        assert NikDispute.objects.get(pk=dispute.pk).state == "open"
        assert status_of(world.kediri_app) == Status.BOOKED

    def test_an_outlets_disputes_are_its_kanim_heads_not_the_kanim_officers(self, client, world):
        dispute = contest(world.applicant, world.ulp_app)
        client.force_login(world.malang_head)
        assert client.get(reverse("staff:dispute", args=[dispute.pk])).status_code == 200
        client.force_login(world.malang_officer)
        assert client.get(reverse("staff:dispute", args=[dispute.pk])).status_code == 404

    def test_the_officer_upholds_on_the_page(self, client, world):
        dispute = contest(world.applicant, world.kediri_app)
        client.force_login(world.kediri_officer)
        answer = client.post(
            reverse("staff:decide_dispute", args=[dispute.pk]),
            {"decision": "uphold", "flag_account": "on", "note": ""},
        )
        assert answer.status_code == 302
        assert NikDispute.objects.get(pk=dispute.pk).state == "upheld"
        assert status_of(world.kediri_app) == Status.CANCELLED
        assert AccountFlag.objects.filter(account_id=world.kediri_app.account_id).exists()

    def test_a_rejection_without_a_reason_is_refused_on_the_page(self, client, world):
        dispute = contest(world.applicant, world.kediri_app)
        client.force_login(world.kediri_officer)
        answer = client.post(
            reverse("staff:decide_dispute", args=[dispute.pk]), {"decision": "reject", "note": ""}, follow=True
        )
        assert "Tulis mengapa sengketa ditolak" in answer.content.decode()
        assert NikDispute.objects.get(pk=dispute.pk).state == "open" and not AccountMessage.objects.exists()


# --- The owner's page and the API ----------------------------------------------------------------


class TestTheOwnersPageAndApi:
    def test_the_page_files_a_dispute_and_lists_it(self, client, world):
        client.force_login(world.applicant)
        url = reverse("appointments:nik_disputes")
        assert client.get(url).status_code == 200
        answer = client.post(url, {"nik": world.kediri_app.nik, "birth_date": "1990-05-17", "photo": photo()})
        assert answer.status_code == 302
        page = client.get(url).content.decode()
        assert world.kediri_app.masked_nik in page and "Menunggu pemeriksaan kantor" in page
        assert world.kediri_app.booking_code not in page and world.kediri.name not in page

    def test_the_page_refuses_a_wrong_birth_date_in_indonesian_and_stores_nothing(self, client, world):
        before = stored_photos()
        client.force_login(world.applicant)
        answer = client.post(
            reverse("appointments:nik_disputes"),
            {"nik": world.kediri_app.nik, "birth_date": "1990-05-18", "photo": photo()},
        )
        assert answer.status_code == 400
        assert "Tanggal lahir tidak cocok dengan tanggal di NIK" in answer.content.decode()
        nothing_stored(before)

    def test_the_page_refuses_a_pdf_as_the_e_ktp(self, client, world):
        before = stored_photos()
        client.force_login(world.applicant)
        answer = client.post(
            reverse("appointments:nik_disputes"),
            {"nik": world.kediri_app.nik, "birth_date": "1990-05-17", "photo": photo(files.pdf(), "ktp.pdf")},
        )
        assert answer.status_code == 415 and "foto JPEG atau PNG" in answer.content.decode()
        nothing_stored(before)

    def test_the_api_files_lists_and_refuses_in_the_error_shape(self, world):
        api = client_for(world.applicant)
        url = "/api/v1/nik-disputes/"
        before = stored_photos()
        body = {"nik": world.kediri_app.nik, "birth_date": "1990-05-17"}
        wrong = assert_error(
            api.post(url, {**body, "birth_date": "1990-05-18", "photo": photo()}, format="multipart"), 400, "invalid"
        )
        assert set(wrong["errors"]) == {"birth_date"}
        assert_error(
            api.post(url, {**body, "photo": photo(files.pdf(), "ktp.pdf")}, format="multipart"),
            415,
            "file_type_not_allowed",
        )
        free = {"nik": applicant_data().nik, "birth_date": "1990-05-17", "photo": photo()}
        assert_error(api.post(url, free, format="multipart"), 409, "nothing_to_dispute")
        nothing_stored(before)

        created = api.post(url, {**body, "photo": photo()}, format="multipart")
        assert created.status_code == 201, created.content
        data = created.json()
        assert data["state"] == "open" and data["nik"] == world.kediri_app.masked_nik
        assert world.kediri_app.booking_code not in created.content.decode()
        assert [d["id"] for d in api.get(url).json()] == [data["id"]]
        assert_error(api.post(url, {**body, "photo": photo()}, format="multipart"), 409, "dispute_open")
        assert NikDispute.objects.count() == 1 and len(stored_photos()) == len(before) + 1


class TestTheRefusalTellsHowToContest:
    def test_the_booking_page_links_to_the_dispute_and_says_nothing_of_the_other_application(self, client, world):
        client.force_login(world.applicant)
        squatted = world.kediri_app
        answer = client.post(
            reverse("appointments:book", args=[world.malang_slot.pk]),
            {
                "nik": squatted.nik,
                "full_name": "Pemilik Asli",
                "birth_date": "1990-05-17",
                "sex": "M",
                "phone": "081234567890",
                "passport_type": "regular",
                "validity_years": "5",
                "application_kind": "new",
            },
        )
        page = answer.content.decode()
        assert "Sengketakan NIK" in page and reverse("appointments:nik_disputes") in page
        assert squatted.booking_code not in page and world.kediri.name not in page

    def test_the_api_refusal_says_how_and_is_the_same_for_everyone(self, world):
        from tests.security.test_duplicate_nik_refusal import body_for

        refused = assert_error(
            client_for(world.applicant).post(
                "/api/v1/applications/", body_for(world.malang_slot, world.kediri_app), format="json"
            ),
            409,
            "duplicate_application",
        )
        assert "Sengketakan NIK" in refused["detail"] and "e-KTP" in refused["detail"]
        assert world.kediri_app.booking_code not in refused["detail"]
