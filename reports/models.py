from django.db import models
from django.utils.translation import gettext_lazy as _

from offices.models import Office


class OfficeDay(models.Model):
    """One office's figures for one date (the office's own date), rebuilt by
    `reports.services.refresh_office_days`. The dashboard reads only this table."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="report_days")
    date = models.DateField(_("date"))
    is_weekend = models.BooleanField(_("weekend"), default=False)
    # Places offered per pool, and places used: applications that kept their place up to
    # the session (no-shows included; cancelled and expired ones gave it back).
    online_offered = models.PositiveIntegerField(_("online places offered"), default=0)
    priority_offered = models.PositiveIntegerField(_("priority places offered"), default=0)
    online_taken = models.PositiveIntegerField(_("online places taken"), default=0)
    priority_taken = models.PositiveIntegerField(_("priority places taken"), default=0)
    # Applications on the date's sessions, by what happened to them.
    booked = models.PositiveIntegerField(_("booked online"), default=0)
    paid = models.PositiveIntegerField(_("paid"), default=0)
    expired_unpaid = models.PositiveIntegerField(_("expired unpaid"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    checked_in = models.PositiveIntegerField(_("checked in"), default=0)
    no_show = models.PositiveIntegerField(_("no-show"), default=0)
    walk_ins = models.PositiveIntegerField(_("walk-ins"), default=0)
    # Walk-ins who came when the priority pool was full: admitted on a place added for them.
    walk_ins_beyond_pool = models.PositiveIntegerField(_("walk-ins beyond the priority pool"), default=0)
    # Walk-in sessions (no booking): their own places offered and taken (counted in walk_ins too).
    walk_in_offered = models.PositiveIntegerField(_("walk-in session places offered"), default=0)
    walk_in_taken = models.PositiveIntegerField(_("walk-in session places taken"), default=0)
    # Same-day service (percepatan): the day's express places offered and taken.
    express_offered = models.PositiveIntegerField(_("same-day places offered"), default=0)
    express_taken = models.PositiveIntegerField(_("same-day places taken"), default=0)
    # Demand signals.
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    sold_out_at = models.DateTimeField(_("sold out at"), null=True, blank=True)
    sellout_minutes = models.PositiveIntegerField(_("minutes from release to sell-out"), null=True, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        _("days to the first free date"),
        null=True,
        blank=True,
        help_text=_("Seen at the end of this date (or now, for today); empty when nothing was free in the horizon."),
    )
    nothing_free = models.BooleanField(
        _("nothing free to book"),
        default=False,
        help_text=_("At the end of this date (or now, for today) no released date in the horizon had a free place."),
    )
    searches = models.PositiveIntegerField(_("availability searches"), default=0)
    searches_unmet = models.PositiveIntegerField(_("searches that found nothing free"), default=0)
    # Supporting documents the retention job deleted that day (appointments.DeletedDocuments).
    documents_deleted = models.PositiveIntegerField(_("documents deleted (retention)"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["office", "date"]
        verbose_name = _("office day")
        verbose_name_plural = _("office days")
        constraints = [models.UniqueConstraint(fields=["office", "date"], name="one_report_row_per_office_date")]

    def __str__(self):
        return f"{self.office} {self.date}"
