import datetime as dt

from django.db.models import Count, F, Prefetch, Q

from quotas.models import Slot

from .models import ACTIVE_STATUSES, Applicant, Application, ApplicationEvent, Payment


def account_applications(*, account):
    return Application.objects.filter(account=account).select_related("slot__office").order_by("-created_at")


def payment_recorded(*, transaction_id: str) -> bool:
    return Payment.objects.filter(transaction_id=transaction_id).exists()


def account_application(*, account, booking_code: str):
    """One of the account's own applications with what its page shows, or None."""
    return (
        Application.objects.filter(account=account, booking_code=booking_code)
        .select_related("slot__office")
        .prefetch_related(Prefetch("events", queryset=ApplicationEvent.objects.order_by("at", "id")))
        .first()
    )


def reschedule_options(*, application, now, days: int = 60, limit: int = 60):
    """Open sessions at the same office with a free place that accept this kind of application."""
    return list(
        Slot.objects.filter(
            office_id=application.slot.office_id,
            pool="online",
            starts_at__gt=now,
            starts_at__lt=now + dt.timedelta(days=days),
            opens_at__lte=now,
            taken__lt=F("capacity"),
        )
        .filter(Q(allowed_kinds=[]) | Q(allowed_kinds__contains=[application.kind]))
        .exclude(pk=application.slot_id)
        .select_related("office")
        .order_by("starts_at")[:limit]
    )


def account_people(*, account):
    return list(
        Applicant.objects.filter(account=account)
        .annotate(active=Count("applications", filter=Q(applications__status__in=ACTIVE_STATUSES)))
        .order_by("full_name")
    )
