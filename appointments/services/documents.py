"""Supporting documents: the applicant's uploads, the counter's check, the staff's views of a
file (each one logged), and their deletion once no longer needed (docs/documents.md).

The files live in the private storage `storages["documents"]`, under a random name; a row of
`ApplicationDocument` says whose each one is. An upload is checked whole (`document_files`)
before it is written, and written before its row is inserted: a refusal stores nothing, and a
file whose row could not be inserted is deleted again."""

import datetime as dt
import logging
import secrets
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mpaspor.db import lock_row

from ..document_files import check_file
from ..exceptions import DocumentNotFound, DocumentsClosed, InvalidInput, ReviewNotAllowed, TooManyDocuments
from ..models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DeletedDocuments,
    DocumentStatus,
    DocumentView,
    NikDispute,
    RequiredDocument,
    Status,
)

logger = logging.getLogger(__name__)

# From booking up to the visit, and at the counter: an applicant whose document was rejected
# there sends it again while waiting.
UPLOAD_STATUSES = (Status.PENDING_PAYMENT, Status.BOOKED, Status.CHECKED_IN, Status.IN_PROCESS)
REVIEW_STATUSES = UPLOAD_STATUSES
REASON_MAX_LENGTH = 255
PURGE_BATCH = 500


def document_storage():
    return storages["documents"]


def documents_open(application: Application) -> bool:
    """Whether the applicant may still upload documents for this application."""
    return application.status in UPLOAD_STATUSES


def check_documents_open(application: Application) -> None:
    if not documents_open(application):
        raise DocumentsClosed()


def _check_room(application_id: int) -> None:
    kept = ApplicationDocument.objects.filter(application_id=application_id).exclude(status=DocumentStatus.REJECTED)
    if kept.count() >= settings.DOCUMENT_MAX_FILES:
        raise TooManyDocuments(limit=settings.DOCUMENT_MAX_FILES)


def upload_document(
    *,
    application: Application,
    requirement_code: str,
    file,
    file_name: str,
    now: dt.datetime | None = None,
    in_same_transaction: Callable[[list[ApplicationDocument]], None] | None = None,
) -> ApplicationDocument:
    """Keep one file for one of the application's documents. `application` is the account's own
    (the caller looked it up by account); `file` a file object, `file_name` the name it had on
    the phone (shown, never used as a path). The checks that cost nothing run first; the content
    is checked, re-encoded and written; the status and the file count are checked again under
    the application's lock before the row goes in."""
    now = now or timezone.now()
    check_documents_open(application)
    requirement = RequiredDocument.objects.filter(kind=application.kind, code=requirement_code).first()
    if requirement is None:
        raise InvalidInput(_("This document is not asked for this application."), field="requirement")
    _check_room(application.pk)
    checked = check_file(file)
    stored = document_storage().save(
        f"{application.pk}/{secrets.token_hex(16)}.{checked.extension}", ContentFile(checked.content)
    )
    try:
        with transaction.atomic(durable=True):
            lock_row("lock_application_documents", Application, application.pk)
            check_documents_open(Application.objects.only("status").get(pk=application.pk))
            _check_room(application.pk)
            document = ApplicationDocument.objects.create(
                application=application,
                requirement=requirement,
                storage_name=stored,
                content_type=checked.content_type,
                size=len(checked.content),
                original_name=_shown_name(file_name, checked.extension),
                uploaded_at=now,
            )
            if in_same_transaction is not None:
                in_same_transaction([document])
    except BaseException:
        document_storage().delete(stored)
        raise
    return document


def _shown_name(file_name: str, extension: str) -> str:
    """The phone's name of the file, for people to recognise it: its last part, printable, short."""
    name = "".join(c for c in file_name.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable()).strip()
    return name[:100] or f"document.{extension}"


def review_document(*, document_id: int, accepted: bool, reason: str = "", actor) -> ApplicationDocument:
    """The counter's check of one file: accepted, or rejected with the reason the applicant reads.
    The caller found the document among its office's (`selectors.counter_document`)."""
    reason = reason.strip()
    if not accepted and not reason:
        raise InvalidInput(_("Say why the document is rejected: the applicant reads it."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            _("Write the reason in at most %(limit)s characters.") % {"limit": REASON_MAX_LENGTH}, field="reason"
        )
    with transaction.atomic(durable=True):
        document = (
            ApplicationDocument.objects.select_for_update(of=("self",))
            .select_related("application", "requirement")
            .filter(pk=document_id)
            .first()
        )
        if document is None:
            raise DocumentNotFound()
        if document.application.status not in REVIEW_STATUSES:
            raise ReviewNotAllowed()
        document.status = DocumentStatus.ACCEPTED if accepted else DocumentStatus.REJECTED
        document.reason = "" if accepted else reason
        document.reviewed_by = actor
        document.reviewed_at = timezone.now()
        document.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
    return document


def record_document_view(*, document: ApplicationDocument, office_id: int, viewer) -> None:
    """Log that a staff member opens a document (who, which, when), before the file is sent."""
    with transaction.atomic(durable=True):
        DocumentView.objects.create(
            document=document,
            office_id=office_id,
            booking_code=document.application.booking_code,
            document_name=f"{document.requirement.code}: {document.original_name}"[:200],
            viewer=viewer,
        )


def purge_documents(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the documents no longer needed (UU 27/2022: kept only as long as their purpose):
    DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION days after the passport was collected (or the application
    rejected), DOCUMENTS_KEEP_DAYS_AFTER_CLOSING days after a cancellation, an expiry or a
    no-show. The file goes first, then the row, and the deletions are counted per office, day
    and reason (`DeletedDocuments`). The e-KTP photos of NIK disputes go
    DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION days after their decision (counted under "disputes"). A
    file already gone is no error, so a run that stopped half-way is finished by the next.
    Returns the count per reason."""
    now = now or timezone.now()
    after_collection = dt.timedelta(days=settings.DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION)
    after_closing = dt.timedelta(days=settings.DOCUMENTS_KEEP_DAYS_AFTER_CLOSING)
    rules = (
        (DeletedDocuments.Reason.COLLECTED, [Status.COLLECTED], after_collection),
        (DeletedDocuments.Reason.REJECTED, [Status.REJECTED], after_collection),
        (DeletedDocuments.Reason.CLOSED, [Status.CANCELLED, Status.EXPIRED, Status.NO_SHOW], after_closing),
    )
    # When the application reached its status: its last event into it (the demo's history rows
    # have no events: their last change then).
    reached = (
        ApplicationEvent.objects.filter(application=OuterRef("application"), to_status=OuterRef("application__status"))
        .order_by("-at")
        .values("at")[:1]
    )
    deleted = {}
    for reason, statuses, keep in rules:
        due = (
            ApplicationDocument.objects.filter(application__status__in=statuses)
            .annotate(reached_at=Coalesce(Subquery(reached), F("application__updated_at")))
            .filter(reached_at__lte=now - keep)
            .values_list("pk", "storage_name", "application__slot__office_id")
        )
        deleted[reason.value] = 0
        while batch := list(due[:PURGE_BATCH]):
            for _pk, name, _office in batch:
                document_storage().delete(name)
            _delete_and_count(batch, reason=reason, day=timezone.localdate(now))
            deleted[reason.value] += len(batch)
    deleted["disputes"] = _purge_dispute_photos(before=now - after_collection)
    if any(deleted.values()):
        logger.info("Documents deleted after their retention: %s", deleted)
    return deleted


def _purge_dispute_photos(*, before: dt.datetime) -> int:
    """The e-KTP photos of NIK disputes decided before `before`: the file, then its name on the
    dispute's row (the dispute and its history stay, as the record of the decision)."""
    due = NikDispute.objects.filter(decided_at__lte=before, photo_name__isnull=False).values_list("pk", "photo_name")
    purged = 0
    while batch := list(due[:PURGE_BATCH]):
        for _pk, name in batch:
            document_storage().delete(name)
        NikDispute.objects.filter(pk__in=[pk for pk, _name in batch]).update(photo_name=None)
        purged += len(batch)
    return purged


def _delete_and_count(batch: list[tuple[int, str, int]], *, reason: str, day: dt.date) -> None:
    per_office = Counter(office_id for _pk, _name, office_id in batch)
    with transaction.atomic(durable=True):
        ApplicationDocument.objects.filter(pk__in=[pk for pk, _name, _office in batch]).delete()
        for office_id, count in per_office.items():
            counter, _created = DeletedDocuments.objects.get_or_create(office_id=office_id, date=day, reason=reason)
            DeletedDocuments.objects.filter(pk=counter.pk).update(count=F("count") + count)
