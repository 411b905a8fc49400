import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from notifications.models import OutboxMessage

# Indonesia's three zones; no daylight saving. The label is shown with every time.
TIMEZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class TimeZoneChoices(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (UTC+7)")
    WITA = "Asia/Makassar", _("WITA (UTC+8)")
    WIT = "Asia/Jayapura", _("WIT (UTC+9)")


class Region(models.Model):
    """A Kantor Wilayah (regional division) of one province."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    province_code = models.CharField(_("province code"), max_length=2)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name


class Office(models.Model):
    class Kind(models.TextChoices):
        KANIM = "kanim", _("Kantor Imigrasi")
        ULP = "ulp", _("Unit Layanan Paspor")
        UKK = "ukk", _("Unit Kerja Kantor")
        MPP = "mpp", _("Mal Pelayanan Publik")

    class OfficeClass(models.TextChoices):
        KHUSUS_TPI = "I_khusus_tpi", _("Kelas I Khusus TPI")
        I_TPI = "I_tpi", _("Kelas I TPI")
        II_TPI = "II_tpi", _("Kelas II TPI")
        II_NON_TPI = "II_non_tpi", _("Kelas II Non-TPI")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    office_class = models.CharField(_("class"), max_length=20, choices=OfficeClass.choices, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent office"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outlets",
        help_text=_("The Kanim an outlet (ULP, UKK, MPP) belongs to."),
    )
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="offices")
    city = models.CharField(_("city"), max_length=100)
    address = models.CharField(_("address"), max_length=255, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=32, choices=TimeZoneChoices.choices, default=TimeZoneChoices.WIB
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Capacity evaluation (Kanwil's ask): all staff, and the counters (the queue's desks, used
    # for document check, interview and collection). The rest is in OfficeResources.
    staff_count = models.PositiveSmallIntegerField(_("staff"), default=0)
    counter_count = models.PositiveSmallIntegerField(_("counters"), default=0)
    # Where the office is, for "nearby offices" when one is full (decimal degrees, WGS 84).
    latitude = models.FloatField(
        _("latitude"), null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["region__name", "name"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self):
        return self.name

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def timezone_label(self) -> str:
        return TIMEZONE_LABELS[self.timezone]


class PassportType(models.TextChoices):
    """The passport books an office prints. Applications (appointments) carry one of these."""

    REGULAR = "regular", _("Regular (48 pages)")
    ELECTRONIC = "electronic", _("Electronic (e-paspor)")


class StaffMembership(models.Model):
    """Which user works where: an office (officer, head), a region (Kanwil), or national."""

    class Role(models.TextChoices):
        OFFICER = "officer", _("Counter officer")
        HEAD = "head", _("Office head")
        REGIONAL = "regional", _("Regional division")
        NATIONAL = "national", _("National (DJI)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    models.Q(role__in=["officer", "head"], office__isnull=False, region__isnull=True)
                    | models.Q(role="regional", office__isnull=True, region__isnull=False)
                    | models.Q(role="national", office__isnull=True, region__isnull=True)
                ),
            ),
            models.UniqueConstraint(fields=["user", "role", "office", "region"], name="unique_membership"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.office or self.region or 'DJI'}"


class OfficeResources(models.Model):
    """An office's staff on duty by role (SDM) and its facilities (sarana prasarana), kept by
    the office head; every change is kept in its history. The capacity model (reports) reads
    them beside the minutes each step takes (docs/capacity.md)."""

    office = models.OneToOneField(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="resources", primary_key=True
    )
    # Staff on duty on a working day, by the step they serve.
    verifiers = models.PositiveSmallIntegerField(_("document verifiers"), default=0)
    biometric_operators = models.PositiveSmallIntegerField(_("photo and fingerprint operators"), default=0)
    interviewers = models.PositiveSmallIntegerField(_("interviewers"), default=0)
    approvers = models.PositiveSmallIntegerField(_("approvers"), default=0)
    printing_staff = models.PositiveSmallIntegerField(
        _("printing and collection staff"), default=0, help_text=_("They print passports and hand them over.")
    )
    # Facilities (the counters are the office's `counter_count`, the queue's desks).
    biometric_stations = models.PositiveSmallIntegerField(_("photo and fingerprint stations"), default=0)
    printers = models.PositiveSmallIntegerField(_("passport printers"), default=0)
    opens_at = models.TimeField(_("service opens at"), default=dt.time(8))
    closes_at = models.TimeField(_("service closes at"), default=dt.time(15))
    saturday_ready = models.BooleanField(_("ready to serve on Saturdays"), default=False)
    sunday_ready = models.BooleanField(_("ready to serve on Sundays"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff and facilities")
        verbose_name_plural = _("staff and facilities")
        constraints = [
            models.CheckConstraint(
                name="resources_open_before_close", condition=models.Q(opens_at__lt=models.F("closes_at"))
            ),
        ]

    def __str__(self):
        return str(self.office)

    @property
    def open_minutes(self) -> int:
        opens = self.opens_at.hour * 60 + self.opens_at.minute
        return self.closes_at.hour * 60 + self.closes_at.minute - opens


class Incident(models.Model):
    """Something that stops people from booking, paying or being served (docs/incidents.md):
    the portal or the payment system down, or offices closed (a flood, a power cut).

    Declared by staff for every office, a region's offices or one office; `ends_at` may be open
    (not yet known) or set ahead (announced). What an incident gives (longer payment deadlines,
    offers and entry windows, closed sessions) is recomputed from every incident on each change,
    so an incident corrected, ended early or withdrawn takes back what it gave."""

    class Kind(models.TextChoices):
        PAYMENT_DOWN = "payment_down", _("Payment system down")
        PORTAL_DOWN = "portal_down", _("Portal down")
        OFFICE_CLOSED = "office_closed", _("Office closed")

    class Scope(models.TextChoices):
        ALL = "all", _("Every office")
        REGION = "region", _("A region's offices")
        OFFICE = "office", _("One office")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(
        _("ends at"), null=True, blank=True, help_text=_("Leave empty while the end is not known.")
    )
    message_id = models.TextField(_("message (Indonesian)"), max_length=500)
    message_en = models.TextField(_("message (English)"), max_length=500)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)
    # Withdrawn: declared by mistake. It gives nothing any more, and stays for the record.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        constraints = [
            models.CheckConstraint(
                name="incident_scope_matches_target",
                condition=(
                    models.Q(scope="all", region__isnull=True, office__isnull=True)
                    | models.Q(scope="region", region__isnull=False, office__isnull=True)
                    | models.Q(scope="office", region__isnull=True, office__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="incident_ends_after_it_starts",
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
            ),
        ]
        indexes = [
            models.Index(fields=["ends_at"], condition=models.Q(withdrawn_at__isnull=True), name="live_incidents")
        ]

    def __str__(self):
        where = self.office or self.region or _("Every office")
        return f"{self.get_kind_display()}: {where} ({timezone.localtime(self.starts_at):%Y-%m-%d %H:%M})"

    def message(self, language: str) -> str:
        """The message in `language` (Indonesian unless English is asked for)."""
        return self.message_en if (language or "").startswith("en") else self.message_id

    def covers(self, office: Office) -> bool:
        return (
            self.scope == self.Scope.ALL
            or (self.scope == self.Scope.REGION and self.region_id == office.region_id)
            or (self.scope == self.Scope.OFFICE and self.office_id == office.pk)
        )


class PassportStock(models.Model):
    """One passport type at one office: whether the office issues it, its blank books on hand,
    and the outlook computed from the bookings ahead (docs/book-stock.md).

    An office without a row for a type issues it and keeps no stock of it: nothing limits its
    bookings. `on_hand` changes only through offices.services (a delivery adds, the printing step
    uses one); `closed_from` is written by the outlook's refresh and read on the booking path."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="stocks")
    passport_type = models.CharField(_("passport type"), max_length=12, choices=PassportType.choices)
    issued = models.BooleanField(
        _("issued here"), default=True, help_text=_("Untick when the office does not print this passport type.")
    )
    # Books received minus books used. It may go below zero when printing is recorded before the
    # delivery: the counter is never stopped by the record.
    on_hand = models.IntegerField(_("books on hand"), default=0)
    # The outlook (refreshed when stock or bookings change): the first day whose projected balance
    # leaves no book for another booking. Bookings of this type from that day on are refused.
    closed_from = models.DateField(_("closed from"), null=True, blank=True)
    booked_ahead = models.PositiveIntegerField(_("booked ahead, not printed"), default=0)
    outlook_at = models.DateTimeField(_("outlook computed at"), null=True, blank=True)
    # The low-stock alert is sent once a day at most.
    alerted_on = models.DateField(_("last alert"), null=True, blank=True)

    class Meta:
        ordering = ["office__name", "passport_type"]
        verbose_name = _("passport book stock")
        verbose_name_plural = _("passport book stock")
        constraints = [
            models.UniqueConstraint(fields=["office", "passport_type"], name="one_stock_per_office_type"),
        ]

    def __str__(self):
        return f"{self.office} · {self.get_passport_type_display()}"


class StockReceipt(models.Model):
    """A delivery of blank passport books to an office, as its delivery note says."""

    stock = models.ForeignKey(PassportStock, verbose_name=_("stock"), on_delete=models.PROTECT, related_name="receipts")
    books = models.PositiveIntegerField(_("books"), validators=[MinValueValidator(1)])
    reference = models.CharField(_("delivery reference"), max_length=60)
    received_on = models.DateField(_("received on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-recorded_at"]
        verbose_name = _("book delivery")
        verbose_name_plural = _("book deliveries")
        constraints = [
            # One delivery note is recorded once: a second entry of the same note is a slip.
            models.UniqueConstraint(fields=["stock", "reference"], name="one_receipt_per_reference"),
            models.CheckConstraint(name="receipt_has_books", condition=models.Q(books__gte=1)),
        ]

    def __str__(self):
        return f"{self.reference} ({self.books})"


class StockUse(models.Model):
    """One book used by the printing step of one application. The application lives in a higher
    app, so it is kept by id; its uniqueness makes recording printing twice use one book."""

    stock = models.ForeignKey(PassportStock, verbose_name=_("stock"), on_delete=models.PROTECT, related_name="uses")
    application_id = models.BigIntegerField(_("application"), unique=True)
    used_on = models.DateField(_("used on"))
    used_at = models.DateTimeField(_("used at"))

    class Meta:
        ordering = ["-used_at"]
        verbose_name = _("book used")
        verbose_name_plural = _("books used")
        indexes = [models.Index(fields=["stock", "used_on"])]

    def __str__(self):
        return f"{self.stock} · {self.used_on}"


class StockMessage(OutboxMessage):
    """Low-stock alerts to the office's heads and its regional division."""

    stock = models.ForeignKey(PassportStock, on_delete=models.CASCADE, related_name="messages")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]
        verbose_name = _("stock alert")
        verbose_name_plural = _("stock alerts")
