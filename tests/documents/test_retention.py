"""The retention job: documents deleted 30 days after the passport was collected (or the
application rejected) and 7 days after a cancellation, an expiry or a no-show, files first;
every deletion counted per office, day and reason; nothing else touched."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application, ApplicationDocument, ApplicationEvent, DeletedDocuments, Status
from appointments.services.documents import document_storage, purge_documents
from appointments.tasks import purge_documents as purge_documents_task
from tests.documents.test_pages_and_api import sent
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def closed(world, status: str, *, days_ago: float, office=None, event=True) -> ApplicationDocument:
    """A document of an application that reached `status` `days_ago` days before NOW."""
    slot = world.kediri_slot if office is None else world.malang_slot
    application = ApplicationFactory(slot=slot, status=Status.BOOKED)
    document = sent(application)
    at = NOW - dt.timedelta(days=days_ago)
    Application.objects.filter(pk=application.pk).update(status=status, updated_at=at if not event else NOW)
    if event:
        event_row = ApplicationEvent.objects.create(application=application, from_status="booked", to_status=status)
        ApplicationEvent.objects.filter(pk=event_row.pk).update(at=at)
    return document


def gone(document) -> bool:
    return not ApplicationDocument.objects.filter(pk=document.pk).exists() and not document_storage().exists(
        document.storage_name
    )


def test_each_rule_deletes_what_is_due_and_keeps_the_rest(world):
    due = [
        closed(world, Status.COLLECTED, days_ago=30.1),
        closed(world, Status.REJECTED, days_ago=31),
        closed(world, Status.CANCELLED, days_ago=7.1),
        closed(world, Status.EXPIRED, days_ago=8),
        closed(world, Status.NO_SHOW, days_ago=9, office="malang"),
    ]
    kept = [
        closed(world, Status.COLLECTED, days_ago=29.9),
        closed(world, Status.CANCELLED, days_ago=6.9),
        closed(world, Status.BOOKED, days_ago=100),
        closed(world, Status.ISSUED, days_ago=100),
    ]
    assert purge_documents(now=NOW) == {"collected": 1, "rejected": 1, "closed": 3, "disputes": 0}
    assert all(gone(d) for d in due)
    assert all(document_storage().exists(d.storage_name) for d in kept)
    assert ApplicationDocument.objects.count() == len(kept)
    counts = {(c.office.code, c.reason): c.count for c in DeletedDocuments.objects.select_related("office")}
    assert counts == {
        ("kanim-kediri", "collected"): 1,
        ("kanim-kediri", "rejected"): 1,
        ("kanim-kediri", "closed"): 2,
        ("kanim-malang", "closed"): 1,
    }
    assert {c.date for c in DeletedDocuments.objects.all()} == {timezone.localdate(NOW)}


def test_a_second_run_deletes_nothing_more_and_counts_add_up(world):
    closed(world, Status.CANCELLED, days_ago=8)
    purge_documents(now=NOW)
    assert purge_documents(now=NOW) == {"collected": 0, "rejected": 0, "closed": 0, "disputes": 0}
    closed(world, Status.CANCELLED, days_ago=8)
    purge_documents(now=NOW)
    assert DeletedDocuments.objects.get(reason="closed").count == 2


def test_the_last_change_counts_when_no_status_event_exists(world):
    """The demo's history rows carry no events: their last change dates the status."""
    old = closed(world, Status.COLLECTED, days_ago=40, event=False)
    recent = closed(world, Status.COLLECTED, days_ago=10, event=False)
    purge_documents(now=NOW)
    assert gone(old) and not gone(recent)


def test_the_periods_are_settings(world, settings):
    settings.DOCUMENTS_KEEP_DAYS_AFTER_CLOSING = 1
    document = closed(world, Status.CANCELLED, days_ago=2)
    purge_documents(now=NOW)
    assert gone(document)


def test_a_file_already_gone_does_not_stop_the_run(world):
    document = closed(world, Status.CANCELLED, days_ago=8)
    document_storage().delete(document.storage_name)
    assert purge_documents(now=NOW)["closed"] == 1 and gone(document)


def test_the_nightly_task_runs_the_service(world, settings):
    document = closed(world, Status.COLLECTED, days_ago=45)
    assert purge_documents_task.apply().get()["collected"] == 1
    assert gone(document)
    entry = settings.CELERY_BEAT_SCHEDULE["appointments-purge-documents"]
    assert entry["task"] == purge_documents_task.name == "appointments.purge_documents"


def test_the_reports_count_the_deletions_per_office_and_day(world):
    from reports.models import OfficeDay
    from reports.selectors import office_report
    from reports.services import refresh_office_days

    closed(world, Status.CANCELLED, days_ago=8)
    closed(world, Status.COLLECTED, days_ago=40)
    closed(world, Status.NO_SHOW, days_ago=8, office="malang")
    purge_documents(now=NOW)
    today = timezone.localdate(NOW)
    refresh_office_days(date_from=today, date_to=today, now=NOW)
    assert OfficeDay.objects.get(office=world.kediri, date=today).documents_deleted == 2
    report = office_report(offices=[world.kediri, world.malang], date_from=today, date_to=today)
    assert [row["documents_deleted"] for row in report.summary] == [2, 1]
    assert report.totals["documents_deleted"] == 3
