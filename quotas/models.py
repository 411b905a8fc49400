import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from offices.models import Office


class Pool(models.TextChoices):
    ONLINE = "online", _("Online")
    PRIORITY = "priority", _("Priority (walk-in)")
    # A session's places for anyone who comes without booking (a walk-in day), registered at the counter.
    WALK_IN = "walk_in", _("Walk-in, no booking")
    # One slot per office-day: its same-day (express) places, which an express booking takes
    # together with its session's place. It starts at midnight and ends at the check-in cut-off.
    EXPRESS = "express", _("Same-day service")


# The pools whose slots are sessions a person comes to (the express pool is a day's allowance).
SESSION_POOLS = (Pool.ONLINE, Pool.PRIORITY, Pool.WALK_IN)
# The capacity fields of a rule, a programme's session and a date override, per session pool.
CAPACITY_FIELDS = {
    Pool.ONLINE: "online_capacity",
    Pool.PRIORITY: "priority_capacity",
    Pool.WALK_IN: "walk_in_capacity",
}


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class QuotaRule(models.Model):
    """An office's regular session on one weekday, with its capacity per pool."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="quota_rules")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    online_capacity = models.PositiveIntegerField(_("online places"), default=0)
    priority_capacity = models.PositiveIntegerField(_("priority places"), default=0)
    walk_in_capacity = models.PositiveIntegerField(
        _("walk-in places (no booking)"),
        default=0,
        help_text=_("Registered at the counter, first come first served. With no online places: a walk-in session."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["office", "weekday", "start_time"]
        verbose_name = _("quota rule")
        verbose_name_plural = _("quota rules")
        constraints = [
            models.CheckConstraint(
                name="quota_rule_start_before_end", condition=models.Q(start_time__lt=models.F("end_time"))
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ServiceProgram(models.Model):
    """A dated service programme (national Saturday service, a weekend mall lounge, ...)."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(_("name"), max_length=150)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    weekdays = models.JSONField(
        _("weekdays"), default=list, blank=True, help_text=_("0 = Monday ... 6 = Sunday; empty = every day.")
    )
    allowed_kinds = models.JSONField(
        _("application kinds accepted"), default=list, blank=True, help_text=_("Empty = every online kind.")
    )
    opens_on_holidays = models.BooleanField(_("open on holidays"), default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["office", "date_from"]
        verbose_name = _("service programme")
        verbose_name_plural = _("service programmes")

    def __str__(self):
        return self.name


class ProgramSession(models.Model):
    program = models.ForeignKey(
        ServiceProgram, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="sessions"
    )
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    online_capacity = models.PositiveIntegerField(_("online places"), default=0)
    priority_capacity = models.PositiveIntegerField(_("priority places"), default=0)
    walk_in_capacity = models.PositiveIntegerField(
        _("walk-in places (no booking)"),
        default=0,
        help_text=_("Registered at the counter, first come first served. With no online places: a walk-in session."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["program", "start_time"]
        verbose_name = _("programme session")
        verbose_name_plural = _("programme sessions")
        constraints = [
            models.CheckConstraint(
                name="program_session_start_before_end", condition=models.Q(start_time__lt=models.F("end_time"))
            ),
        ]

    def __str__(self):
        return f"{self.program}: {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class DateOverride(models.Model):
    """One day of one office: closed with a reason, or its capacity changed."""

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="date_overrides"
    )
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed"), default=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    online_capacity = models.PositiveIntegerField(_("online places per session"), null=True, blank=True)
    priority_capacity = models.PositiveIntegerField(_("priority places per session"), null=True, blank=True)
    walk_in_capacity = models.PositiveIntegerField(_("walk-in places per session"), null=True, blank=True)
    express_capacity = models.PositiveIntegerField(_("same-day service places of the day"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["office", "date"]
        verbose_name = _("date override")
        verbose_name_plural = _("date overrides")
        constraints = [models.UniqueConstraint(fields=["office", "date"], name="one_override_per_office_day")]

    def __str__(self):
        what = _("closed") if self.closed else _("capacity changed")
        return f"{self.office} {self.date.isoformat()}: {what}"


class SameDayService(models.Model):
    """An office's same-day service (percepatan): how many express places each day with online
    sessions has, beside its sessions' places, and the latest check-in for same-day issue."""

    office = models.OneToOneField(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="same_day_service"
    )
    places_per_day = models.PositiveIntegerField(
        _("same-day places per day"),
        help_text=_(
            "Each express booking takes one of these together with its session's place. 0: no same-day service."
        ),
    )
    check_in_by = models.TimeField(
        _("latest check-in for same-day issue"),
        help_text=_("In the office's time zone; shown on the applicant's ticket."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("same-day service")
        verbose_name_plural = _("same-day services")

    def __str__(self):
        return f"{self.office}: {self.places_per_day}"


class ReleaseMode(models.TextChoices):
    """How a release hands out its places: the claim at the opening, or a draw among entries."""

    FIRST_COME = "first_come", _("First come, first served")
    DRAW = "draw", _("Draw among entries")


class ReleaseSchedule(models.Model):
    """When an office's dates open for booking ("kuota dibuka"), in the office's time, and how."""

    class Kind(models.TextChoices):
        ROLLING = "rolling", _("Rolling: each date N days before")
        WEEKLY = "weekly", _("Weekly: the next week on a set weekday")
        MONTHLY = "monthly", _("Monthly: the next month on a set day")
        LAST_WORKING_DAY = "last_working_day", _("Monthly: the next month on the last working day")
        TWICE_MONTHLY = "twice_monthly", _("Twice a month: mid-month and month end, each for half a month")

    office = models.OneToOneField(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="release_schedule"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ROLLING)
    mode = models.CharField(
        _("release mode"), max_length=12, choices=ReleaseMode.choices, default=ReleaseMode.FIRST_COME
    )
    entry_window_hours = models.PositiveSmallIntegerField(
        _("entry window (hours, draw mode)"),
        default=72,
        validators=[MinValueValidator(1)],
        help_text=_("In draw mode, entries open this long before each release; the draw is at the release time."),
    )
    days_before = models.PositiveSmallIntegerField(_("days before (rolling)"), default=14)
    weekday = models.PositiveSmallIntegerField(_("weekday (weekly)"), choices=Weekday.choices, default=Weekday.FRIDAY)
    day_of_month = models.PositiveSmallIntegerField(
        _("day of month (monthly)"),
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("In a shorter month, its last day."),
    )
    release_time = models.TimeField(_("release time"), default=dt.time(9, 0), help_text=_("In the office's time zone."))
    horizon_days = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=60)
    priority_release_hours = models.PositiveSmallIntegerField(
        _("unused priority places go online (hours before a session)"),
        default=24,
        help_text=_(
            "Places of the priority pool that no walk-in took are offered online this long before the session "
            "starts. 0: never; they stay at the door."
        ),
    )

    class Meta:
        verbose_name = _("release schedule")
        verbose_name_plural = _("release schedules")
        constraints = [
            models.CheckConstraint(
                name="release_day_of_month_1_31", condition=models.Q(day_of_month__gte=1, day_of_month__lte=31)
            ),
        ]

    def __str__(self):
        return f"{self.office}: {self.get_kind_display()}"


class WalkInDay(models.Model):
    """An office-day an incident touches that the office serves by walk-in instead of moving its
    applicants (docs/incidents.md): the day's free online places become walk-in places at the
    counter, and its booked applicants keep their sessions. Switched back, the online places that
    no walk-in used are bookable again; the row stays, for the record."""

    incident = models.ForeignKey(
        "offices.Incident", verbose_name=_("incident"), on_delete=models.PROTECT, related_name="walk_in_days"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="walk_in_days")
    date = models.DateField(_("date"), help_text=_("In the office's time zone."))
    switched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("switched by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    switched_at = models.DateTimeField(_("switched at"), auto_now_add=True)
    switched_back_at = models.DateTimeField(_("switched back to online booking at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("day served by walk-in")
        verbose_name_plural = _("days served by walk-in")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "date"],
                condition=models.Q(switched_back_at__isnull=True),
                name="one_walk_in_switch_per_office_day",
            ),
        ]

    def __str__(self):
        return f"{self.office} {self.date}"


class Slot(models.Model):
    """A session's places in one pool. `taken` is the only counter the claim touches."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="slots")
    date = models.DateField(_("date"), help_text=_("In the office's time zone."))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    pool = models.CharField(_("pool"), max_length=10, choices=Pool.choices, default=Pool.ONLINE)
    capacity = models.PositiveIntegerField(_("capacity"))
    taken = models.PositiveIntegerField(_("places taken"), default=0)
    # Places kept off the public pool for the waiting list: given back while someone waited for
    # the session, then held by an open offer (allocation keeps them). The claim leaves them.
    held = models.PositiveIntegerField(_("places held for the waiting list"), default=0)
    # Households waiting for this session, kept by allocation: while above 0, a place given back
    # goes to `held` in the same statement, never to the public pool first.
    waiting = models.PositiveIntegerField(_("households waiting"), default=0)
    opens_at = models.DateTimeField(_("opens at"))
    program = models.ForeignKey(
        ServiceProgram,
        verbose_name=_("programme"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
    )
    allowed_kinds = models.JSONField(_("application kinds accepted"), default=list, blank=True)
    # Draw: the places are drawn among a release's entries; `opens_at` is then the public
    # opening of what the draw left, the office's next release (docs/fair-release.md).
    mode = models.CharField(
        _("release mode"), max_length=12, choices=ReleaseMode.choices, default=ReleaseMode.FIRST_COME
    )
    # On a priority slot: places handed to the online pool at the office's cut-off (the online
    # slot of the same session got them). Slot generation keeps both sides of the move.
    moved_to_online = models.PositiveIntegerField(_("priority places moved online"), default=0)
    # On a priority slot: places added for walk-ins who came when the pool was full (each adds
    # one to `capacity`, so `taken` never exceeds it). Reports count them; slot generation keeps them.
    overflow = models.PositiveIntegerField(_("places added for walk-ins beyond the pool"), default=0)
    # The incident that closed the office for this session (docs/incidents.md): nobody books it,
    # and its applicants are offered another day. Kept by quotas.services.incidents.
    closed_by = models.ForeignKey(
        "offices.Incident",
        verbose_name=_("closed by incident"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="closed_slots",
    )
    # On an online slot: the office serves its day by walk-in for an incident (WalkInDay). Nobody
    # books it online; its free places are moved to the session's walk-in slot (`moved_to_walk_in`
    # of them, given back when the day is switched back). Kept by quotas.services.incidents.
    walk_in_by = models.ForeignKey(
        WalkInDay,
        verbose_name=_("served by walk-in"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
    )
    moved_to_walk_in = models.PositiveIntegerField(_("online places moved to walk-in"), default=0)

    # `taken` moves on every booking (by a bare UPDATE, which writes no history anyway);
    # excluded so that no save of the counter ever writes a history row on the hot path.
    history = HistoricalRecords(excluded_fields=["taken", "held", "waiting"])

    class Meta:
        ordering = ["office", "starts_at", "pool"]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.CheckConstraint(
                name="slot_taken_within_capacity", condition=models.Q(taken__lte=models.F("capacity"))
            ),
            models.CheckConstraint(
                name="slot_taken_and_held_within_capacity",
                condition=models.Q(taken__lte=models.F("capacity") - models.F("held")),
            ),
            models.UniqueConstraint(fields=["office", "starts_at", "pool"], name="one_slot_per_session_pool"),
        ]
        indexes = [
            models.Index(fields=["office", "date"]),
            # The waiting list's sweep looks for held places that no open offer covers.
            models.Index(fields=["held"], condition=models.Q(held__gt=0), name="slots_with_held_places"),
        ]

    def __str__(self):
        start = f"{self.local_start:%H:%M} {self.office.timezone_label}"
        return f"{self.office} {self.date} {start} ({self.get_pool_display()})"

    @property
    def available(self) -> int:
        return max(self.capacity - self.taken - self.held, 0)

    def accepts(self, kind: str) -> bool:
        """Whether the session takes this kind of application (an empty list: every kind)."""
        return not self.allowed_kinds or kind in self.allowed_kinds

    @property
    def local_start(self):
        return self.starts_at.astimezone(self.office.tzinfo)

    @property
    def local_end(self):
        return self.ends_at.astimezone(self.office.tzinfo)


class SlotDrift(models.Model):
    """Recorded by the reconciliation when a slot's `taken` differs from its applications."""

    slot = models.ForeignKey(Slot, verbose_name=_("slot"), on_delete=models.CASCADE, related_name="drifts")
    recorded_taken = models.IntegerField(_("places taken recorded"))
    actual_taken = models.IntegerField(_("places held by applications"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    corrected = models.BooleanField(_("corrected"), default=False)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("slot drift")
        verbose_name_plural = _("slot drifts")

    def __str__(self):
        return f"slot {self.slot_id}: {self.recorded_taken} recorded, {self.actual_taken} held"


class SearchTally(models.Model):
    """Availability searches of one office on one day (the office's date the search was made),
    flushed from cache counters by `quotas.services.searches.flush_search_counts`. `found_nothing`
    counts searches whose whole range had no free online place: unmet demand."""

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="search_tallies"
    )
    day = models.DateField(_("day"))
    searches = models.PositiveIntegerField(_("searches"), default=0)
    found_nothing = models.PositiveIntegerField(_("searches that found nothing free"), default=0)
    days_asked = models.PositiveIntegerField(_("dates asked"), default=0)

    class Meta:
        ordering = ["office", "day"]
        verbose_name = _("availability search tally")
        verbose_name_plural = _("availability search tallies")
        constraints = [models.UniqueConstraint(fields=["office", "day"], name="one_search_tally_per_office_day")]

    def __str__(self):
        return f"office {self.office_id}, {self.day}"
