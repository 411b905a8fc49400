import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from notifications.models import OutboxMessage
from offices.models import PassportType  # noqa: F401 - the offices' types, named here too
from quotas.models import Slot


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_PROCESS = "in_process", _("In process")
    APPROVED = "approved", _("Approved")
    ISSUED = "issued", _("Printed, ready to collect")
    COLLECTED = "collected", _("Collected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired (unpaid)")
    NO_SHOW = "no_show", _("No-show")
    REJECTED = "rejected", _("Rejected")


# A NIK may have one application in these at a time (a partial unique index below).
ACTIVE_STATUSES = (
    Status.PENDING_PAYMENT,
    Status.BOOKED,
    Status.CHECKED_IN,
    Status.IN_PROCESS,
    Status.APPROVED,
    Status.ISSUED,
)
# The name of that index: its violation, and only its, is a duplicate application.
NIK_CONSTRAINT = "one_active_application_per_nik"
# These give the place back; every other status keeps it (the reconciliation counts the others).
RELEASED_STATUSES = (Status.CANCELLED, Status.EXPIRED, Status.NO_SHOW)


class ApplicationKind(models.TextChoices):
    NEW = "new", _("New passport")
    REPLACEMENT_EXPIRED = "replacement_expired", _("Replacement: expired")
    REPLACEMENT_FULL = "replacement_full", _("Replacement: pages full")
    LOST = "lost", _("Replacement: lost")
    DAMAGED = "damaged", _("Replacement: damaged")
    DATA_CHANGE = "data_change", _("Change of personal data")


ONLINE_KINDS = (ApplicationKind.NEW, ApplicationKind.REPLACEMENT_EXPIRED, ApplicationKind.REPLACEMENT_FULL)


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class PriorityGroup(models.TextChoices):
    ELDERLY = "elderly", _("60 or over")
    CHILD = "child", _("Child under 5")
    DISABLED = "disabled", _("Person with a disability")
    PREGNANT = "pregnant", _("Pregnant woman")


class QueueState(models.TextChoices):
    """Where a checked-in applicant is in the day's queue. Not a status: being called changes none."""

    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVED = "served", _("Served")
    NO_ANSWER = "no_answer", _("No answer")


# Below this age on the visit's day an unmarried applicant gets only the 5-year passport.
FULL_VALIDITY_AGE = 17


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class Applicant(models.Model):
    """A person an account applies for (the account holder or family; up to five)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="applicants"
    )
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("full name"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    married = models.BooleanField(_("married"), default=False)

    class Meta:
        ordering = ["account", "full_name"]
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        constraints = [models.UniqueConstraint(fields=["account", "nik"], name="one_applicant_per_account_nik")]

    def __str__(self):
        return self.full_name

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)


class Fee(models.Model):
    """PNBP tariffs as data (PP 45/2024 and later): staff at the national level edit them."""

    class Item(models.TextChoices):
        REGULAR_5 = "regular_5", _("Regular passport, 5 years")
        REGULAR_10 = "regular_10", _("Regular passport, 10 years")
        ELECTRONIC_5 = "electronic_5", _("Electronic passport, 5 years")
        ELECTRONIC_10 = "electronic_10", _("Electronic passport, 10 years")
        EXPRESS = "express", _("Same-day service (percepatan) surcharge")
        # Charged at the counter with a replacement for a lost or damaged passport.
        FINE_LOST = "fine_lost", _("Fine: lost passport")
        FINE_DAMAGED = "fine_damaged", _("Fine: damaged passport")
        FINE_FORCE_MAJEURE = "fine_force_majeure", _("Fine: passport lost or damaged by force majeure")

    item = models.CharField(_("item"), max_length=20, choices=Item.choices)
    amount = models.PositiveIntegerField(_("amount (Rp)"))
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["item", "-effective_from"]
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        constraints = [models.UniqueConstraint(fields=["item", "effective_from"], name="one_fee_per_item_date")]

    def __str__(self):
        return f"{self.get_item_display()}: Rp{self.amount:,} ({self.effective_from})"


class Application(models.Model):
    booking_code = models.CharField(_("booking code"), max_length=12, unique=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="applications",
        null=True,
        blank=True,
    )
    applicant = models.ForeignKey(
        Applicant,
        verbose_name=_("person on the account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
    )
    # The applicant's data as given at booking (kept even if the account's person changes).
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("full name"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Declared by the applicant; the counter checks it against the marriage book.
    married = models.BooleanField(_("married (declared)"), default=False)

    passport_type = models.CharField(_("passport type"), max_length=12, choices=PassportType.choices)
    validity_years = models.PositiveSmallIntegerField(_("validity (years)"), choices=[(5, "5"), (10, "10")])
    kind = models.CharField(_("application kind"), max_length=20, choices=ApplicationKind.choices)
    express = models.BooleanField(_("same-day service"), default=False)
    # A lost or damaged passport's fine, part of `amount`; none when staff find force majeure.
    fine = models.PositiveIntegerField(_("fine (Rp)"), default=0)
    force_majeure = models.BooleanField(_("force majeure (no fine)"), default=False)
    priority_group = models.CharField(_("priority group"), max_length=10, choices=PriorityGroup.choices, blank=True)
    walk_in = models.BooleanField(_("walk-in"), default=False)
    # A walk-in who came when the priority pool was full, admitted on a place added for them.
    beyond_pool = models.BooleanField(_("admitted beyond the priority pool"), default=False)

    slot = models.ForeignKey(Slot, verbose_name=_("session"), on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    amount = models.PositiveIntegerField(_("amount (Rp)"))
    billing_code = models.CharField(_("billing code"), max_length=15, unique=True, null=True, blank=True)
    payment_due_at = models.DateTimeField(_("payment due"), null=True, blank=True)
    # The deadline before incidents moved it (docs/incidents.md); set once an incident did, so
    # that a corrected or withdrawn incident recomputes `payment_due_at` from it.
    payment_due_base = models.DateTimeField(_("payment due without incidents"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    reschedule_count = models.PositiveSmallIntegerField(_("times rescheduled"), default=0)
    # The incident that closed the office for this application's session: the applicant may move
    # to another day of the office (its priority places too), and is not a no-show meanwhile.
    displaced_by = models.ForeignKey(
        "offices.Incident",
        verbose_name=_("session closed by incident"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="displaced_applications",
    )
    # The applicant asked to come earlier (services.earlier): moved into the first free place of the
    # office from this date on, before the session; cleared by the move, a stop, or a status change.
    earlier_from = models.DateField(_("earlier visit wanted from"), null=True, blank=True)
    earlier_asked_at = models.DateTimeField(_("earlier visit asked at"), null=True, blank=True)
    queue_number = models.CharField(_("queue number"), max_length=10, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    # The day's queue (services.queue): set at check-in, then called to a desk and served.
    queue_state = models.CharField(_("queue state"), max_length=10, choices=QueueState.choices, blank=True)
    desk = models.PositiveSmallIntegerField(_("desk"), null=True, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    served_at = models.DateTimeField(_("served at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="id")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Who changed which field when (staff edits, status changes). The booking hot path
    # skips it: its first event row already records the creation.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.UniqueConstraint(
                fields=["nik"],
                condition=models.Q(status__in=[s.value for s in ACTIVE_STATUSES]),
                name=NIK_CONSTRAINT,
            ),
        ]
        indexes = [
            models.Index(fields=["slot", "status"]),
            models.Index(fields=["status", "payment_due_at"]),
            models.Index(fields=["account", "-created_at"]),
            # Every booking attempt asks whether its slot holds overdue unpaid holds: without this
            # the question reads each of the slot's pending rows (0.8 ms at 200 pending; bench/analysis.md).
            models.Index(
                fields=["slot", "payment_due_at"], condition=Q(status="pending_payment"), name="pending_holds_by_slot"
            ),
            # "Call next" reads the day's waiting people in check-in order.
            models.Index(fields=["slot", "checked_in_at"], condition=Q(queue_state="waiting"), name="waiting_in_queue"),
            # A freed place looks for the households that asked to come earlier, first asked first,
            # among the office's later sessions: by session, only the applications that asked.
            models.Index(
                fields=["slot", "earlier_asked_at"],
                condition=Q(earlier_from__isnull=False),
                name="earlier_visit_requests",
            ),
        ]

    def __str__(self):
        return self.booking_code

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)

    @property
    def married_minor(self) -> bool:
        """Declared married and under 17 on the visit's day: the counter checks the marriage book."""
        return self.married and age_on(self.birth_date, self.slot.date) < FULL_VALIDITY_AGE


def mask_nik(nik: str) -> str:
    """Show the region part and the last two digits only: 3578********0012."""
    return nik[:4] + "*" * (len(nik) - 6) + nik[-2:] if len(nik) > 6 else "*" * len(nik)


class QueueCounter(models.Model):
    """The last queue number handed out at one office on one day, per series.

    Series "A" numbers booked applicants, "B" walk-ins from the priority pool. The counter
    row is incremented with one UPDATE, which PostgreSQL serialises per row, so two desks
    checking in at the same moment never get the same number."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="queue_counters")
    date = models.DateField()
    series = models.CharField(max_length=1)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "date", "series"], name="one_queue_counter_per_office_day")
        ]

    def __str__(self):
        return f"{self.series}-{self.last_number:03d} ({self.date})"


class QueueDisplay(models.Model):
    """The address of an office's waiting-room screen: an unguessable key in the URL opens a page
    of queue numbers only, so the screen needs no staff login (docs/counter-queue.md)."""

    office = models.OneToOneField("offices.Office", on_delete=models.CASCADE, related_name="queue_display")
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.office} display"


class ApplicationEvent(models.Model):
    """One row per status change, written by services.lifecycle: who, when, from, to, why."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        # The hoarding evaluation counts expiries and cancellations of the last weeks; a booking's
        # own event (to pending payment) is not in this index, so it costs the hot path nothing.
        indexes = [
            models.Index(
                fields=["to_status", "at"],
                condition=Q(to_status__in=["expired", "cancelled"]),
                name="released_events_by_time",
            )
        ]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self):
        # Shown in the admin's status-change table next to each row.
        return f"{self.get_from_status_display() or '·'} → {self.get_to_status_display()}"


class Step(models.TextChoices):
    """The steps an application passes at the office, in order (docs/capacity.md)."""

    DOCUMENT_CHECK = "document_check", _("Document check")
    BIOMETRICS = "biometrics", _("Photo and fingerprints")
    INTERVIEW = "interview", _("Interview")
    APPROVAL = "approval", _("Approval")
    PRINTING = "printing", _("Printing")
    COLLECTION = "collection", _("Collection")


class StepRecord(models.Model):
    """One step of one application at the office: started and finished, by whom. Its minutes
    feed the capacity model; a finished printing step is a passport book used."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.CASCADE, related_name="steps"
    )
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    started_at = models.DateTimeField(_("started at"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finished by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        constraints = [
            models.UniqueConstraint(fields=["application", "step"], name="one_record_per_application_step"),
            models.CheckConstraint(
                name="step_finishes_after_start",
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
            ),
        ]
        indexes = [models.Index(fields=["step", "finished_at"], name="finished_steps")]

    def __str__(self):
        return f"{self.application} · {self.get_step_display()}"

    @property
    def minutes(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() / 60


class Payment(models.Model):
    """A payment notice from the gateway; idempotent by the gateway's transaction id."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="payments"
    )
    transaction_id = models.CharField(_("transaction id"), max_length=64, unique=True)
    gateway = models.CharField(_("gateway"), max_length=20)
    amount = models.PositiveIntegerField(_("amount (Rp)"))
    paid_at = models.DateTimeField(_("paid at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    late = models.BooleanField(_("arrived after the deadline"), default=False)
    amount_mismatch = models.BooleanField(_("amount differs from the bill"), default=False)
    refund_due = models.BooleanField(_("to be refunded"), default=False)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self):
        return self.transaction_id


class Notification(OutboxMessage):
    """The applicants' outbox: messages about an application (notifications.outbox delivers them)."""

    class SkipReason(models.TextChoices):
        STATUS_CHANGED = "status_changed", _("The application's status changed before delivery")
        DEADLINE_PASSED = "deadline_passed", _("The payment deadline passed before delivery")
        VISIT_NOT_TOMORROW = "visit_not_tomorrow", _("The visit is no longer tomorrow")

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    skip_reason = models.CharField(_("why not sent"), max_length=20, choices=SkipReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")


# --- Supporting documents (docs/documents.md) ---------------------------------------------------


class RequiredDocument(models.Model):
    """A document an application of one kind needs, or may have: data that national staff edit."""

    kind = models.CharField(_("application kind"), max_length=20, choices=ApplicationKind.choices)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name (Indonesian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["kind", "position", "id"]
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="one_required_document_per_kind_code")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.label}"

    @property
    def label(self) -> str:
        """The name in the page's language (Indonesian unless the page is in English)."""
        return self.name_en if (get_language() or "id").startswith("en") and self.name_en else self.name


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the counter's check")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class ApplicationDocument(models.Model):
    """One uploaded file of an application, checked and re-encoded, kept in the private storage
    (`storages["documents"]`) under `storage_name` until the retention job deletes it."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.CASCADE, related_name="documents"
    )
    requirement = models.ForeignKey(
        RequiredDocument, verbose_name=_("document"), on_delete=models.PROTECT, related_name="uploads"
    )
    storage_name = models.CharField(_("stored as"), max_length=200, unique=True)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    original_name = models.CharField(_("file name"), max_length=100)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    status = models.CharField(_("check"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    reason = models.CharField(_("reason for rejection"), max_length=255, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        ordering = ["application", "uploaded_at", "id"]
        verbose_name = _("uploaded document")
        verbose_name_plural = _("uploaded documents")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=DocumentStatus.REJECTED) | ~Q(reason=""), name="a_rejection_has_a_reason"
            )
        ]

    def __str__(self):
        return f"{self.application_id}: {self.original_name}"


class DocumentView(models.Model):
    """Who of the staff opened which document when. Kept after the document is deleted."""

    document = models.ForeignKey(
        ApplicationDocument,
        verbose_name=_("document"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="views",
    )
    office = models.ForeignKey("offices.Office", verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    booking_code = models.CharField(_("booking code"), max_length=12)
    document_name = models.CharField(_("document"), max_length=200)
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("viewed by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("document view by staff")
        verbose_name_plural = _("document views by staff")

    def __str__(self):
        return f"{self.booking_code}: {self.document_name}"


class DeletedDocuments(models.Model):
    """How many documents the retention job deleted, per office, day and reason (for the reports)."""

    class Reason(models.TextChoices):
        COLLECTED = "collected", _("Passport collected")
        CLOSED = "closed", _("Application cancelled, expired or not attended")
        REJECTED = "rejected", _("Application rejected")

    office = models.ForeignKey("offices.Office", verbose_name=_("office"), on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    count = models.PositiveIntegerField(_("documents deleted"), default=0)

    class Meta:
        ordering = ["-date", "office"]
        verbose_name = _("deleted documents")
        verbose_name_plural = _("deleted documents")
        constraints = [
            models.UniqueConstraint(fields=["office", "date", "reason"], name="one_deletion_count_per_office_day")
        ]

    def __str__(self):
        return f"{self.date} {self.office_id} {self.reason}: {self.count}"


# --- NIK disputes (docs/nik-disputes.md) --------------------------------------------------------


class NikDispute(models.Model):
    """A NIK's owner contests the active application someone else booked with it: the NIK, the
    owner's birth date and a photo of their e-KTP (kept in the private documents storage under
    `photo_name`). Staff of the office that holds the application uphold it (the application is
    cancelled; the account that booked it may be flagged) or reject it with a reason. Its history
    is the audit of who filed and who decided what."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the office's review")
        UPHELD = "upheld", _("Upheld")
        REJECTED = "rejected", _("Rejected")

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("contested by"), on_delete=models.CASCADE, related_name="nik_disputes"
    )
    nik = models.CharField(_("NIK"), max_length=16)
    birth_date = models.DateField(_("birth date"))
    # The application that held the NIK when it was contested.
    application = models.ForeignKey(
        Application, verbose_name=_("contested application"), on_delete=models.PROTECT, related_name="disputes"
    )
    # Emptied when the photo is deleted, DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION days after the decision.
    photo_name = models.CharField(_("e-KTP photo stored as"), max_length=200, unique=True, null=True, blank=True)
    photo_type = models.CharField(_("type"), max_length=40)
    photo_size = models.PositiveIntegerField(_("size (bytes)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("contested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # What the owner reads with the outcome; required for a rejection.
    note = models.CharField(_("note to the owner"), max_length=255, blank=True)
    squatter_flagged = models.BooleanField(_("account that booked flagged"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("NIK dispute")
        verbose_name_plural = _("NIK disputes")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "nik"], condition=Q(state="open"), name="one_open_dispute_per_account_nik"
            ),
            models.CheckConstraint(condition=~Q(state="rejected") | ~Q(note=""), name="a_rejected_dispute_has_a_note"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="disputes_by_state")]

    def __str__(self):
        return f"{self.get_state_display()}: {self.masked_nik}"

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)
