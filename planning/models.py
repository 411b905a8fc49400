"""Evaluation rounds (docs/capacity.md): the regional division opens a round for its offices;
each office head states the office's staff and facilities and makes proposals; the division
accepts or rejects each one."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from notifications.models import OutboxMessage
from offices.models import Office, Region
from quotas.models import Weekday


class EvaluationRound(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="rounds")
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    due_on = models.DateField(_("due on"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        constraints = [
            models.CheckConstraint(name="round_period_in_order", condition=Q(period_from__lte=F("period_to"))),
        ]

    def __str__(self):
        return f"{self.region} {self.period_from:%Y-%m-%d} – {self.period_to:%Y-%m-%d}"


class OfficeEvaluation(models.Model):
    """One office's part of a round: what its head stated, and when."""

    round = models.ForeignKey(
        EvaluationRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="evaluations"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="evaluations")
    # The staff, facilities and hours as submitted (times as HH:MM), kept with the round even
    # when the office's current figures change later.
    stated = models.JSONField(_("staff and facilities stated"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    last_reminded_on = models.DateField(_("last reminded on"), null=True, blank=True)

    class Meta:
        ordering = ["round", "office__name"]
        verbose_name = _("office evaluation")
        verbose_name_plural = _("office evaluations")
        constraints = [models.UniqueConstraint(fields=["round", "office"], name="one_evaluation_per_round_office")]

    def __str__(self):
        return f"{self.round} · {self.office}"


class Proposal(models.Model):
    class Kind(models.TextChoices):
        PLACES = "places", _("More places per session")
        WEEKEND = "weekend", _("Weekend service")
        STAFF = "staff", _("Staff needed")
        EQUIPMENT = "equipment", _("Equipment needed")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Awaiting decision")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    evaluation = models.ForeignKey(
        OfficeEvaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="proposals"
    )
    kind = models.CharField(_("proposal"), max_length=10, choices=Kind.choices)
    # More places: the weekdays' sessions get `places` online places from `starts_on`.
    # Weekend: one session from start_time to end_time on these days with `places`, from `starts_on`.
    weekdays = models.JSONField(_("days"), default=list, blank=True)
    places = models.PositiveIntegerField(_("online places per session"), null=True, blank=True)
    start_time = models.TimeField(_("session start"), null=True, blank=True)
    end_time = models.TimeField(_("session end"), null=True, blank=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    needed = models.CharField(_("what is needed"), max_length=200, blank=True)
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # When an accepted quota or weekend proposal became quota rules or a programme.
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "created_at", "id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")

    def __str__(self):
        return f"{self.evaluation} · {self.get_kind_display()}"

    @property
    def weekday_labels(self) -> list[str]:
        return [str(Weekday(day).label) for day in self.weekdays]

    @property
    def changes_quota(self) -> bool:
        return self.kind in (self.Kind.PLACES, self.Kind.WEEKEND)


class RoundMessage(OutboxMessage):
    """Reminders to the heads of offices late with their evaluation."""

    evaluation = models.ForeignKey(OfficeEvaluation, on_delete=models.CASCADE, related_name="messages")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]
        verbose_name = _("evaluation reminder")
        verbose_name_plural = _("evaluation reminders")
