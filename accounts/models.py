from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from notifications.models import OutboxMessage


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True, email_verified=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """Applicants and staff alike; the e-mail address is the login."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email_verified = models.BooleanField(_("e-mail verified"), default=False)
    language = models.CharField(_("language"), max_length=8, default="id")
    # Set when the account was refused too many NIKs in a day (services.record_refused_niks):
    # its bookings answer 429 until then, the end of that day.
    bookings_paused_until = models.DateTimeField(_("bookings paused until"), null=True, blank=True)
    # The client address of the sign-up, as the rate limits see it: many accounts from one
    # address in a short time is a hoarding signal (accounts.hoarding).
    signup_address = models.GenericIPAddressField(_("sign-up address"), null=True, blank=True)
    # A hoarding restriction (services.check_not_restricted): no booking, draw entry or waiting
    # list until `restricted_until`, because of the rule `restricted_by`; or for good when
    # `restricted_by` is BLOCKED (a review's decision). On the row, so the check reads nothing.
    restricted_until = models.DateTimeField(_("restricted until"), null=True, blank=True)
    restricted_by = models.CharField(_("restricted by"), max_length=40, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class EmailVerificationCode(models.Model):
    """A 6-digit code sent by e-mail; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_codes")
    code_hash = models.CharField(max_length=128)
    purpose = models.CharField(max_length=20, default="verify_email")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "-created_at"])]

    def __str__(self):
        return f"{self.purpose} code of user {self.user_id}"


class ApiToken(models.Model):
    """A revocable, expiring API token (`Authorization: Token <key>`); only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"API token of user {self.user_id}"


class IdempotencyKey(models.Model):
    """The answer to a creating API call sent with an `Idempotency-Key` header, for the account
    and path it was sent to: a retry with the same key gets this answer instead of creating again.
    Inserted in the transaction that creates the object, so the two commit or roll back together;
    kept 24 hours (accounts.idempotency)."""

    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    # SHA-256 of the request body as canonical JSON: the same key with another body is refused.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The answer's JSON text as sent: a JSON column would reorder its keys.
    response_body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "path", "key"], name="one_answer_per_idempotency_key")
        ]

    def __str__(self):
        return f"idempotency key of user {self.account_id} on {self.path}"


class RefusedNik(models.Model):
    """A NIK this account tried to book while someone else's active application held it: one row
    per account, day and NIK, counting the tries. Trying many such NIKs is probing who has an
    application (or hoarding), so the rows per account and day are capped
    (REFUSED_NIKS_PER_DAY) and are the abuse signal a review of the account reads.

    The NIK is kept only as a keyed digest: this table says how many, never whose."""

    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refused_niks")
    day = models.DateField()  # in TIME_ZONE
    nik_digest = models.CharField(max_length=64)
    attempts = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField()

    class Meta:
        verbose_name = _("refused NIK")
        verbose_name_plural = _("refused NIKs")
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "nik_digest"], name="one_refused_nik_per_account_day")
        ]

    def __str__(self):
        return f"refused NIK of user {self.account_id} on {self.day}"


class AccountMessage(OutboxMessage):
    """The accounts' outbox: e-mails about the account itself (its verification code; a sign-up
    tried with its address), delivered by notifications.outbox like every other message."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_messages")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]
        verbose_name = _("account message")
        verbose_name_plural = _("account messages")


class AccountFlag(models.Model):
    """A hoarding rule (settings.HOARDING_RULES) that an account's signals met: what was counted,
    over which window, and the restriction it set, if any. National and regional staff review
    open flags: lift one (and its restriction) or block the account. Its history is the audit."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        LIFTED = "lifted", _("lifted")
        BLOCKED = "blocked", _("account blocked")

    account = models.ForeignKey(User, verbose_name=_("account"), on_delete=models.CASCADE, related_name="flags")
    rule = models.CharField(_("rule"), max_length=40)
    signal = models.CharField(_("signal"), max_length=40)
    # The phone or address the signal was counted on (empty for signals of the account itself).
    subject = models.CharField(_("counted on"), max_length=64, blank=True)
    count = models.PositiveIntegerField(_("count"))
    window_start = models.DateTimeField(_("counted from"))
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    restricted_until = models.DateTimeField(_("restricted until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("hoarding flag")
        verbose_name_plural = _("hoarding flags")
        indexes = [models.Index(fields=["account", "rule", "-raised_at"])]

    def __str__(self):
        return f"{self.rule}: {self.account}"
