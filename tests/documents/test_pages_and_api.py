"""Uploads from the application's page and the API, the counter's check, and who may see a file:
the account that sent it and staff of the application's office (each of their views logged);
anyone else gets a 404 and nothing is stored by a refusal."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from appointments.models import ApplicationDocument, DocumentStatus, DocumentView, Status
from appointments.services.documents import document_storage, review_document, upload_document
from tests.api.conftest import assert_error, client_for
from tests.documents import files
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def stored_files(application) -> list[str]:
    storage = document_storage()
    folder = str(application.pk)
    return storage.listdir(folder)[1] if storage.exists(folder) else []


def upload(
    client, application, *, content=None, name="ktp.jpg", requirement="e_ktp", content_type="image/jpeg", **headers
):
    return client.post(
        reverse("appointments:upload_document", args=[application.booking_code]),
        {"requirement": requirement, "file": SimpleUploadedFile(name, content or files.jpeg(), content_type)},
        **headers,
    )


def sent(application, **overrides) -> ApplicationDocument:
    """A document sent through the service, as the page sends it."""
    values = {"requirement_code": "e_ktp", "file_name": "ktp.jpg"}
    values.update(overrides)
    content = values.pop("content", None) or files.jpeg(size=(640, 480))
    return upload_document(application=application, file=SimpleUploadedFile("x", content), **values)


class TestTheApplicantsPage:
    def test_the_page_lists_what_the_kind_asks_required_and_optional(self, client, world):
        application = ApplicationFactory(account=world.applicant, slot=world.kediri_slot, kind="replacement_expired")
        client.force_login(world.applicant)
        page = client.get(reverse("appointments:confirmation", args=[application.booking_code])).content.decode()
        for name in ("e-KTP", "Kartu Keluarga (KK)", "Paspor lama Anda", "bila nama atau tanggal lahir berbeda"):
            assert name in page
        assert page.count("wajib") >= 3 and "opsional" in page
        assert page.count('name="file"') == 4

    def test_an_upload_is_kept_and_shown_waiting_for_the_counter(self, client, world, own):
        client.force_login(world.applicant)
        answer = upload(client, own, name="KTP saya.jpg")
        assert answer.status_code == 302 and answer.url.endswith("#documents")
        document = ApplicationDocument.objects.get(application=own)
        assert (document.requirement.code, document.original_name, document.status) == (
            "e_ktp",
            "KTP saya.jpg",
            DocumentStatus.PENDING,
        )
        assert (
            document.content_type == "image/jpeg"
            and files.PHONE_MAKE.encode() not in document_storage().open(document.storage_name).read()
        )
        assert stored_files(own) == [document.storage_name.split("/")[1]]
        page = client.get(reverse("appointments:confirmation", args=[own.booking_code])).content.decode()
        assert "KTP saya.jpg" in page and "Menunggu pemeriksaan loket" in page

    def test_the_script_gets_the_section_back_with_the_outcome(self, client, world, own):
        client.force_login(world.applicant)
        answer = upload(client, own, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        assert answer.status_code == 200
        assert answer.content.decode().lstrip().startswith('<section id="documents"')
        refused = upload(client, own, content=files.windows_program(), HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        assert refused.status_code == 415 and 'role="alert"' in refused.content.decode()

    @pytest.mark.parametrize(
        "content, status",
        [
            (files.windows_program(), 415),
            (files.truncated_jpeg(), 400),
            (files.png_bomb(), 400),
            (files.pdf_with_javascript(), 400),
        ],
        ids=["renamed-program", "corrupt-image", "decompression-bomb", "pdf-javascript"],
    )
    def test_a_bad_file_is_refused_on_the_page_and_nothing_is_stored(self, client, world, own, content, status):
        client.force_login(world.applicant)
        answer = upload(client, own, content=content, name="foto.jpg")
        assert answer.status_code == status
        assert 'class="message message-error upload-outcome" role="alert"' in answer.content.decode()
        assert not ApplicationDocument.objects.exists() and stored_files(own) == []

    def test_an_oversized_file_is_refused_and_nothing_is_stored(self, client, world, own, settings):
        settings.DOCUMENT_MAX_BYTES = 20_000
        client.force_login(world.applicant)
        answer = upload(client, own, content=files.jpeg(size=(400, 300), noisy=True))
        assert answer.status_code == 413 and "lebih besar dari" in answer.content.decode()
        assert not ApplicationDocument.objects.exists() and stored_files(own) == []

    def test_no_file_chosen_is_a_form_error(self, client, world, own):
        client.force_login(world.applicant)
        answer = client.post(reverse("appointments:upload_document", args=[own.booking_code]), {"requirement": "e_ktp"})
        assert answer.status_code == 400 and "Pilih foto atau berkas PDF" in answer.content.decode()

    def test_a_document_the_kind_does_not_ask_is_refused(self, client, world, own):
        client.force_login(world.applicant)
        answer = upload(client, own, requirement="police_report")
        assert answer.status_code == 400 and not ApplicationDocument.objects.exists()

    def test_an_upload_to_someone_elses_application_is_a_404_and_stores_nothing(self, client, world, own, stranger):
        client.force_login(stranger)
        assert upload(client, own).status_code == 404
        assert not ApplicationDocument.objects.exists() and stored_files(own) == []

    def test_a_closed_application_takes_no_more_files(self, client, world, own):
        own.status = Status.CANCELLED
        own.save()
        client.force_login(world.applicant)
        assert upload(client, own).status_code == 409
        page = client.get(reverse("appointments:confirmation", args=[own.booking_code])).content.decode()
        assert 'name="file"' not in page

    def test_the_file_limit_counts_all_but_rejected_files(self, world, own, settings):
        settings.DOCUMENT_MAX_FILES = 2
        first = sent(own)
        sent(own, requirement_code="family_card")
        from appointments.exceptions import TooManyDocuments

        with pytest.raises(TooManyDocuments):
            sent(own)
        review_document(document_id=first.pk, accepted=False, reason="Buram", actor=world.kediri_officer)
        sent(own)  # the rejected one no longer counts
        assert len(stored_files(own)) == 3


class TestWhoSeesAFile:
    def test_the_account_sees_its_file_and_no_one_else_does(self, client, world, own, stranger):
        document = sent(own)
        address = reverse("appointments:document_file", args=[own.booking_code, document.pk])
        client.force_login(world.applicant)
        answer = client.get(address)
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        assert answer["Cache-Control"] == "private, no-store"
        assert b"".join(answer.streaming_content)[:3] == b"\xff\xd8\xff"
        client.force_login(stranger)
        assert client.get(address).status_code == 404
        assert not DocumentView.objects.exists()  # the applicant's own views are not staff views

    def test_staff_of_the_office_open_it_and_each_view_is_logged(self, client, world, own):
        document = sent(own)
        client.force_login(world.kediri_officer)
        answer = client.get(reverse("staff:document_file", args=[document.pk]))
        assert answer.status_code == 200
        view = DocumentView.objects.get()
        assert (view.document, view.viewer, view.office, view.booking_code) == (
            document,
            world.kediri_officer,
            world.kediri,
            own.booking_code,
        )
        assert view.at > timezone.now() - dt.timedelta(minutes=1)

    @pytest.mark.parametrize("who", ["malang_officer", "malang_head", "jatim_regional", "national", "applicant"])
    def test_anyone_but_the_offices_counter_gets_a_404(self, client, world, own, who):
        document = sent(own)
        client.force_login(getattr(world, who))
        assert client.get(reverse("staff:document_file", args=[document.pk])).status_code == 404
        assert client.get(reverse("staff:documents", args=[own.pk])).status_code == 404
        review = client.post(reverse("staff:review_document", args=[document.pk]), {"decision": "accept"})
        assert review.status_code == 404
        document.refresh_from_db()
        assert document.status == DocumentStatus.PENDING and not DocumentView.objects.exists()

    def test_no_document_has_a_public_address(self, world, own):
        document = sent(own)
        with pytest.raises(ValueError):
            document_storage().url(document.storage_name)


class TestTheCounter:
    def test_the_officer_rejects_with_a_reason_the_applicant_sees_it_and_sends_again(self, client, world, own):
        document = sent(own, file_name="ktp-buram.jpg")
        client.force_login(world.kediri_officer)
        page = client.get(reverse("staff:documents", args=[own.pk])).content.decode()
        assert "ktp-buram.jpg" in page
        refused = client.post(reverse("staff:review_document", args=[document.pk]), {"decision": "reject"})
        assert refused.status_code == 302
        document.refresh_from_db()
        assert document.status == DocumentStatus.PENDING  # a rejection needs its reason
        client.post(
            reverse("staff:review_document", args=[document.pk]),
            {"decision": "reject", "reason": "Foto buram, NIK tidak terbaca"},
        )
        document.refresh_from_db()
        assert (document.status, document.reason, document.reviewed_by) == (
            DocumentStatus.REJECTED,
            "Foto buram, NIK tidak terbaca",
            world.kediri_officer,
        )
        client.force_login(world.applicant)
        page = client.get(reverse("appointments:confirmation", args=[own.booking_code])).content.decode()
        assert "Foto buram, NIK tidak terbaca" in page and "kirim ulang" in page
        upload(client, own, name="ktp-jelas.jpg")
        again = ApplicationDocument.objects.get(original_name="ktp-jelas.jpg")
        client.force_login(world.kediri_officer)
        client.post(reverse("staff:review_document", args=[again.pk]), {"decision": "accept"})
        again.refresh_from_db()
        assert again.status == DocumentStatus.ACCEPTED and again.reason == ""

    def test_the_check_in_answer_links_to_the_documents(self, client, world):
        from tests.staff_world import today_slot

        application = ApplicationFactory(slot=today_slot(world.kediri))
        client.force_login(world.kediri_officer)
        answer = client.post(
            reverse("staff:check_in"), {"code": application.booking_code}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert reverse("staff:documents", args=[application.pk]) in answer

    def test_the_documents_page_is_a_fixed_number_of_queries(self, client, world, own, django_assert_max_num_queries):
        for code in ("e_ktp", "family_card", "birth_diploma_marriage"):
            sent(own, requirement_code=code)
        client.force_login(world.kediri_officer)
        client.get(reverse("staff:documents", args=[own.pk]))  # the session and memberships warm
        with django_assert_max_num_queries(8):
            assert client.get(reverse("staff:documents", args=[own.pk])).status_code == 200


class TestTheApi:
    def test_lists_uploads_and_serves_its_own_file(self, world, own):
        api = client_for(world.applicant)
        address = f"/api/v1/applications/{own.booking_code}/documents/"
        listing = api.get(address).json()
        assert listing["upload_open"] is True and listing["max_files"] == 10
        assert [d["code"] for d in listing["documents"]] == ["e_ktp", "family_card", "birth_diploma_marriage"]
        answer = api.post(
            address,
            {"requirement": "family_card", "file": SimpleUploadedFile("kk.pdf", files.pdf())},
            format="multipart",
        )
        assert answer.status_code == 201, answer.content
        body = answer.json()
        assert (body["file_name"], body["content_type"], body["status"]) == ("kk.pdf", "application/pdf", "pending")
        file_answer = api.get(f"{address}{body['id']}/")
        assert file_answer.status_code == 200 and b"".join(file_answer.streaming_content) == files.pdf()
        assert api.get(address).json()["documents"][1]["files"][0]["id"] == body["id"]

    @pytest.mark.parametrize(
        "content, status, code",
        [
            (files.windows_program(), 415, "file_type_not_allowed"),
            (files.truncated_jpeg(), 400, "invalid"),
            (files.png_bomb(), 400, "invalid"),
            (files.pdf_with_javascript(), 400, "invalid"),
        ],
        ids=["renamed-program", "corrupt-image", "decompression-bomb", "pdf-javascript"],
    )
    def test_a_bad_file_answers_in_the_error_shape_and_stores_nothing(self, world, own, content, status, code):
        api = client_for(world.applicant)
        answer = api.post(
            f"/api/v1/applications/{own.booking_code}/documents/",
            {"requirement": "e_ktp", "file": SimpleUploadedFile("photo.jpg", content, "image/jpeg")},
            format="multipart",
        )
        body = assert_error(answer, status, code)
        if status == 400:
            assert list(body["errors"]) == ["file"]
        assert not ApplicationDocument.objects.exists() and stored_files(own) == []

    def test_another_accounts_application_and_file_are_404(self, world, own, stranger):
        document = sent(own)
        api = client_for(stranger)
        address = f"/api/v1/applications/{own.booking_code}/documents/"
        assert_error(api.get(address), 404, "not_found")
        assert_error(api.get(f"{address}{document.pk}/"), 404, "not_found")
        answer = api.post(address, {"requirement": "e_ktp", "file": SimpleUploadedFile("a.png", files.png())})
        assert_error(answer, 404, "not_found")
        assert ApplicationDocument.objects.count() == 1

    def test_a_retry_with_the_same_idempotency_key_stores_one_file(self, world, own):
        api = client_for(world.applicant)
        address = f"/api/v1/applications/{own.booking_code}/documents/"
        content = files.png()

        def send(data=content):
            return api.post(
                address,
                {"requirement": "e_ktp", "file": SimpleUploadedFile("ktp.png", data)},
                format="multipart",
                HTTP_IDEMPOTENCY_KEY="0b0e6a51-upload",
            )

        first, retry = send(), send()
        assert first.status_code == retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
        assert first.json() == retry.json() and ApplicationDocument.objects.count() == 1
        assert_error(send(files.png(size=(10, 10))), 422, "idempotency_mismatch")
        assert len(stored_files(own)) == 1
