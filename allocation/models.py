"""Fair hand-out of scarce places: a release's entries and draw, the waiting list and its offers.

Entries and waiting rows are households of 1 to 5 people (`Seeker` rows). A NIK may have at most
one open seeker row across both (a partial unique constraint), so one person never waits twice
or enters a draw while waiting."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import ApplicationKind, PassportType, Sex
from appointments.services.booking import PersonBooking
from appointments.services.people import ApplicantData
from notifications.models import OutboxMessage
from offices.models import Office
from quotas.models import Slot


class Release(models.Model):
    """One opening of an office's sessions ("kuota dibuka") in draw mode: its entry window and draw.

    The draw (docs/fair-release.md): `seed_sha256` is published when the window opens, the
    `snapshot` and its `entries_sha256` when it closes, the `seed` with the result once drawn.
    `plan` maps each entry id (text) to the slot id it won, or None."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="releases")
    entries_open_at = models.DateTimeField(_("entries open at"))
    entries_close_at = models.DateTimeField(_("entries close at"))
    # The close before incidents moved it (and the draw with it), once one did (docs/incidents.md).
    entries_close_base = models.DateTimeField(_("entries close without incidents"), null=True, blank=True)
    sessions_from = models.DateField(_("sessions from"))
    sessions_to = models.DateField(_("sessions to"))
    # The office's next release: when what the draw left opens to everyone.
    opens_at = models.DateTimeField(_("leftover places open at"))
    # Kept out of the admin, the logs and the API until revealed with the result.
    seed = models.CharField(_("seed"), max_length=64, editable=False)
    seed_sha256 = models.CharField(_("seed commitment (SHA-256)"), max_length=64, editable=False)
    snapshot = models.TextField(_("entries snapshot (canonical JSON)"), blank=True, editable=False)
    entries_sha256 = models.CharField(_("snapshot SHA-256"), max_length=64, blank=True, editable=False)
    plan = models.JSONField(_("draw result"), null=True, blank=True, editable=False)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True, editable=False)
    applied_at = models.DateTimeField(_("result applied at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["entries_close_at", "pk"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        constraints = [
            models.UniqueConstraint(fields=["office", "entries_close_at"], name="one_release_per_office_and_time"),
            models.CheckConstraint(
                name="release_window_opens_before_it_closes",
                condition=models.Q(entries_open_at__lt=models.F("entries_close_at")),
            ),
        ]

    def __str__(self):
        return f"{self.office} {self.entries_close_at:%Y-%m-%d %H:%M}"

    def is_open_for_entries(self, now) -> bool:
        return self.entries_open_at <= now < self.entries_close_at

    @property
    def is_drawn(self) -> bool:
        return self.plan is not None


class Entry(models.Model):
    """A household's entry in a release's draw: its people (`Seeker` rows) and up to three
    ranked choices of session (slot ids, best first)."""

    class Status(models.TextChoices):
        ENTERED = "entered", _("Entered")
        WON = "won", _("Won")
        LOST = "lost", _("Not drawn")
        FORFEITED = "forfeited", _("Forfeited")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    release = models.ForeignKey(Release, verbose_name=_("release"), on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="entries"
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ENTERED)
    choices = models.JSONField(_("sessions chosen, best first"), default=list)
    slot = models.ForeignKey(
        "quotas.Slot", verbose_name=_("session won"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    booking_codes = models.JSONField(_("booking codes"), default=list, blank=True)
    # Why a winning entry got nothing: the refusal's code (a NIK booked elsewhere meanwhile, ...).
    forfeit_reason = models.CharField(_("why forfeited"), max_length=40, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        indexes = [models.Index(fields=["release", "status"])]

    def __str__(self):
        return f"{self.release}: #{self.pk}"


class Waiting(models.Model):
    """A household on an office's waiting list, for a date range (or, after a lost draw, the
    sessions the entry chose). First come, first served by `joined_at`; a draw's losers share
    the draw's time and keep its order in `rank`."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        BOOKED = "booked", _("Booked (offer accepted)")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ENDED = "ended", _("Ended (dates passed)")

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="waiting")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="waiting"
    )
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    rank = models.PositiveIntegerField(_("order among those joined together"), default=0)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    # A lost draw entry waits only for the sessions it chose; other rows for every session of the range.
    entry = models.ForeignKey(
        Entry, verbose_name=_("lost entry"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    slots = models.ManyToManyField(Slot, verbose_name=_("sessions"), blank=True, related_name="waiting_rows")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    language = models.CharField(_("language"), max_length=8, default="id")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiting household")
        verbose_name_plural = _("waiting list")
        ordering = ["joined_at", "rank", "pk"]
        indexes = [
            models.Index(
                fields=["office", "date_from", "date_to"],
                condition=models.Q(status="waiting"),
                name="waiting_rows_by_office",
            )
        ]
        constraints = [
            models.CheckConstraint(
                name="waiting_range_in_order", condition=models.Q(date_from__lte=models.F("date_to"))
            )
        ]

    def __str__(self):
        return f"{self.office}: #{self.pk}"


class Offer(models.Model):
    """Places held on a session for one waiting household until `expires_at`. A household has
    at most one open offer; the places of open offers on a slot never exceed its `held`."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        LAPSED = "lapsed", _("Lapsed")
        CANCELLED = "cancelled", _("Cancelled (office closed)")

    waiting = models.ForeignKey(
        Waiting, verbose_name=_("waiting household"), on_delete=models.CASCADE, related_name="offers"
    )
    slot = models.ForeignKey(Slot, verbose_name=_("session"), on_delete=models.PROTECT, related_name="offers")
    places = models.PositiveSmallIntegerField(_("places"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # When the place came back (the give-back's commit), for the time it took to offer it.
    given_back_at = models.DateTimeField(_("place given back at"), null=True, blank=True)
    offered_at = models.DateTimeField(_("offered at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    # The expiry before incidents moved it (docs/incidents.md), once one did.
    expires_base = models.DateTimeField(_("expires without incidents"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-offered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["waiting"], condition=models.Q(status="open"), name="one_open_offer_per_household"
            ),
        ]
        indexes = [
            # The lapse sweep, every 15 s, reads open offers by deadline only.
            models.Index(fields=["expires_at"], condition=models.Q(status="open"), name="open_offers_by_expiry"),
            models.Index(fields=["slot"], condition=models.Q(status="open"), name="open_offers_by_slot"),
        ]

    def __str__(self):
        return f"{self.slot}: {self.places}"


class OfferMessage(OutboxMessage):
    """The waiting list's outbox: an offer told by e-mail and by SMS/WhatsApp."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="messages")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="offer_messages_by_state")]
        verbose_name = _("offer message")
        verbose_name_plural = _("offer messages")


class Seeker(models.Model):
    """One person of an entry or a waiting row, with the passport asked for: what a booking
    needs to give them a place. `is_open` while the entry or waiting row may still get one."""

    entry = models.ForeignKey(
        Entry, verbose_name=_("entry"), on_delete=models.CASCADE, null=True, blank=True, related_name="people"
    )
    waiting = models.ForeignKey(
        Waiting, verbose_name=_("waiting"), on_delete=models.CASCADE, null=True, blank=True, related_name="people"
    )
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("full name"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    married = models.BooleanField(_("married (declared)"), default=False)
    passport_type = models.CharField(_("passport type"), max_length=12, choices=PassportType.choices)
    validity_years = models.PositiveSmallIntegerField(_("validity (years)"), choices=[(5, "5"), (10, "10")])
    kind = models.CharField(_("application kind"), max_length=20, choices=ApplicationKind.choices)
    express = models.BooleanField(_("same-day service"), default=False)
    is_open = models.BooleanField(_("open"), default=True)

    class Meta:
        verbose_name = _("person entered or waiting")
        verbose_name_plural = _("people entered or waiting")
        constraints = [
            models.UniqueConstraint(fields=["nik"], condition=models.Q(is_open=True), name="one_open_seeker_per_nik"),
            models.CheckConstraint(
                name="seeker_of_an_entry_or_waiting",
                condition=models.Q(entry__isnull=False) | models.Q(waiting__isnull=False),
            ),
        ]

    def __str__(self):
        return self.full_name

    @classmethod
    def of(cls, person: PersonBooking, **owner) -> "Seeker":
        """An unsaved row for `person`, of the entry or waiting row given as `owner`."""
        return cls(
            **person.applicant.as_fields(),
            passport_type=person.passport_type,
            validity_years=person.validity_years,
            kind=person.kind,
            express=person.express,
            **owner,
        )

    # What a person is, whichever entry or waiting row they are in.
    PERSON_FIELDS = (
        "nik",
        "full_name",
        "birth_date",
        "sex",
        "phone",
        "married",
        "passport_type",
        "validity_years",
        "kind",
        "express",
    )

    def as_person_booking(self) -> PersonBooking:
        applicant = ApplicantData(
            nik=self.nik,
            full_name=self.full_name,
            birth_date=self.birth_date,
            sex=self.sex,
            phone=self.phone,
            married=self.married,
        )
        return PersonBooking(
            applicant=applicant,
            passport_type=self.passport_type,
            validity_years=self.validity_years,
            kind=self.kind,
            express=self.express,
        )


class EntryMessage(OutboxMessage):
    """The entries' outbox: a draw's outcome told to the account (notifications.outbox delivers it)."""

    entry = models.ForeignKey(Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="messages")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="entrymessage_state_created")]
        verbose_name = _("entry message")
        verbose_name_plural = _("entry messages")
