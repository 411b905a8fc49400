"""One settings module, driven by the environment (see README "Configuration").

With no environment at all it runs the embedded default of `make run`: SQLite, local-memory
cache and a file-based Celery broker. Production sets DATABASE_URL, REDIS_URL and
DJANGO_SECRET_KEY and leaves DJANGO_DEBUG off.
"""

import datetime as dt
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Secrets have no default outside debug: a production start without one fails loudly.
SECRET_KEY = (
    env("DJANGO_SECRET_KEY")
    if not DEBUG
    else env("DJANGO_SECRET_KEY", default="insecure-development-key-only-for-debug")
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "notifications",
    "accounts",
    "offices",
    "quotas",
    "appointments",
    "allocation",
    "reports",
    "planning",
]

MIDDLEWARE = [
    # Every log line of a request carries its id (X-Request-ID), from the first.
    "mpaspor.middleware.RequestIdMiddleware",
    # /healthz, /readyz and /metrics, answered before any redirect, host check or session.
    "mpaspor.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Public availability reads from the pre-rendered days, before sessions, language and DRF.
    "quotas.middleware.AvailabilityFromCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mpaspor.middleware.WebSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the session, the user or a form: a NUL or a lone surrogate anywhere
    # in the request answers 400 (in the request's language, hence after LocaleMiddleware).
    "mpaspor.middleware.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "mpaspor.middleware.WebAuthenticationMiddleware",
    "mpaspor.middleware.WebMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mpaspor.middleware.WebCSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A page whose database failed mid-request answers 503 (the API answers its own).
    "mpaspor.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mpaspor.urls"
WSGI_APPLICATION = "mpaspor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "offices.context_processors.staff_links",
                "offices.context_processors.incident_banner",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: without them a simple read drops from ~2,900 to ~370 requests/s.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # make run: web, worker and beat share one file; wait for a lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# A streaming replica of the primary for the reports' reads (mpaspor/db_router.py): only code
# under `reads_replica` reads it, and only while it lags at most REPLICA_MAX_LAG_SECONDS
# (checked at most every REPLICA_LAG_CHECK_SECONDS per process); otherwise it reads the primary.
REPLICA_DATABASE_URL = env("REPLICA_DATABASE_URL", default="")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = env.db_url_config(REPLICA_DATABASE_URL)
    DATABASES["replica"].update(
        {
            "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
            "CONN_HEALTH_CHECKS": True,
            # An unreachable replica costs at most this, once per check, before the primary is read.
            "OPTIONS": {"connect_timeout": 2, **DATABASES["replica"].get("OPTIONS", {})},
            "TEST": {"MIRROR": "default"},
        }
    )
DATABASE_ROUTERS = ["mpaspor.db_router.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30)
REPLICA_LAG_CHECK_SECONDS = env.float("REPLICA_LAG_CHECK_SECONDS", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "mpaspor.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Cache and rate limits fail safe: a Redis outage must not stop bookings.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "mpaspor.cache.LocMemCache"}}

# --- Accounts and security --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "appointments:my_applications"
LOGOUT_REDIRECT_URL = "home"
REQUIRE_VERIFIED_EMAIL = env.bool("REQUIRE_VERIFIED_EMAIL", default=True)
# Wrong e-mail codes an account may enter over the codes of the last 24 hours (each code allows
# 5): resending a code does not give more guesses than this.
VERIFICATION_WRONG_CODES_PER_DAY = env.int("VERIFICATION_WRONG_CODES_PER_DAY", default=10)
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
# Password checks (logins) the whole portal runs per second, at ~175 ms of CPU each: beyond it a
# login answers 429 before hashing, so a login flood leaves the CPU to bookings. Not a rate
# limit (it stays on in benchmarks). Size it to about a tenth of the web nodes' cores / 0.175
# (the default: one node of 2 cores): a check took ~0.35 s of CPU on the bench's machine, and at
# 2 a second a login flood cost bookings more than half their throughput (docs/performance.md).
PASSWORD_CHECKS_PER_SECOND = env.int("PASSWORD_CHECKS_PER_SECOND", default=1)
# Web-view limits: mpaspor/ratelimits.py (django-ratelimit on the default cache, fail-open).
RATELIMIT_ENABLE = RATE_LIMITS_ENABLED
RATELIMIT_FAIL_OPEN = True

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out login may try again after 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off only for plain-http test servers; production serves https only.
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: everything from our own origin; the QR code is an inline SVG
# data URI. Swagger UI (API docs) is served from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Languages and time -----------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# --- Applicants' supporting documents (docs/documents.md) ------------------------------------
# Private: never under a static or media URL; served only by views that check who asks.
# `filesystem` (the default) keeps them under DOCUMENTS_ROOT; `s3` in an S3-compatible bucket
# through django-storages (pip install -r requirements-s3.txt).
DOCUMENTS_ROOT = env.path("DOCUMENTS_ROOT", default=BASE_DIR / "private" / "documents")
if env("DOCUMENTS_STORAGE", default="filesystem") == "s3":
    DOCUMENTS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("DOCUMENTS_S3_BUCKET"),
            "endpoint_url": env("DOCUMENTS_S3_ENDPOINT_URL", default=None),
            "region_name": env("DOCUMENTS_S3_REGION", default=None),
            "access_key": env("DOCUMENTS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("DOCUMENTS_S3_SECRET_ACCESS_KEY", default=None),
            "location": env("DOCUMENTS_S3_PREFIX", default="documents"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"},
        },
    }
else:
    DOCUMENTS_STORAGE = {
        "BACKEND": "mpaspor.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(DOCUMENTS_ROOT), "file_permissions_mode": 0o600},
    }
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
DOCUMENT_MAX_FILES = env.int("DOCUMENT_MAX_FILES", default=10)
# An image larger than this many pixels is refused before it is decoded (a decompression bomb
# makes a small file of a huge image); kept images are scaled down to DOCUMENT_IMAGE_MAX_SIDE.
DOCUMENT_MAX_PIXELS = env.int("DOCUMENT_MAX_PIXELS", default=40_000_000)
DOCUMENT_IMAGE_MAX_SIDE = env.int("DOCUMENT_IMAGE_MAX_SIDE", default=2000)
DOCUMENT_PDF_MAX_PAGES = env.int("DOCUMENT_PDF_MAX_PAGES", default=30)
# Retention (UU 27/2022: kept no longer than their purpose needs).
DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION = env.int("DOCUMENTS_KEEP_DAYS_AFTER_COLLECTION", default=30)
DOCUMENTS_KEEP_DAYS_AFTER_CLOSING = env.int("DOCUMENTS_KEEP_DAYS_AFTER_CLOSING", default=7)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    "documents": DOCUMENTS_STORAGE,
}

# --- E-mail -----------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="mpaspor <no-reply@mpaspor.example>")

# --- Booking rules ----------------------------------------------------------------------
PAYMENT_WINDOW_MINUTES = env.int("PAYMENT_WINDOW_MINUTES", default=120)
# The release rush: a hold made in the first RELEASE_RUSH_MINUTES after a session's places opened
# must be paid within RUSH_PAYMENT_MINUTES instead. A broker's fresh accounts book first and hold
# for the whole window while the rush goes by; their places came back when few were looking, and no
# rule counting expiries can act before the first hold expires (bench/HOARDING.md, docs/hoarding.md).
# Off by default (0): M-Paspor's applicants have two hours; the division may turn it on (60 and 30
# in the simulation), decision 29.
RELEASE_RUSH_MINUTES = env.int("RELEASE_RUSH_MINUTES", default=0)
RUSH_PAYMENT_MINUTES = env.int("RUSH_PAYMENT_MINUTES", default=30)
# A release's draw may close at night: its winners get this long to pay instead.
DRAW_PAYMENT_HOURS = env.int("DRAW_PAYMENT_HOURS", default=24)
# A draw's winners are booked this many to a transaction (one commit per batch); its losers join
# the waiting list ten times as many at a time (docs/fair-release.md, "Applying at scale").
DRAW_APPLY_BATCH = env.int("DRAW_APPLY_BATCH", default=100)
# How long a waiting household has to accept a place offered to it (docs/waiting-list.md).
OFFER_MINUTES = env.int("OFFER_MINUTES", default=30)
# Incidents (docs/incidents.md): a deadline that an outage overlapped moves by the overlap plus
# this; an incident whose end is not known yet counts as lasting at least this long from now.
INCIDENT_GRACE_MINUTES = env.int("INCIDENT_GRACE_MINUTES", default=120)
INCIDENT_OPEN_HOURS = env.int("INCIDENT_OPEN_HOURS", default=6)
MAX_APPLICANTS_PER_ACCOUNT = 5
# An account refused this many different NIKs in a day (each already in someone else's active
# application) has its bookings refused (429) until the day ends: probing NIKs one by one tells
# whether each has an application, so the tries are capped and counted (accounts.RefusedNik).
REFUSED_NIKS_PER_DAY = env.int("REFUSED_NIKS_PER_DAY", default=5)
# Hoarding (accounts.hoarding): each rule counts one signal over a window; an account at the
# threshold is flagged for review and, with `restrict_for`, may not book, enter a draw or join
# a waiting list for that long (403 account_restricted, with the rule's explanation). Families
# share phones, so NIKs per phone starts above 5; accounts per address is never more than a flag
# (mobile carriers put many people behind one address). Evaluated every 5 minutes.
# Blank passport books (docs/book-stock.md): the office's heads and its regional division are
# told once a day when an issued type's stock covers fewer working days than this.
STOCK_ALERT_WORKING_DAYS = env.int("STOCK_ALERT_WORKING_DAYS", default=10)
# A booking refreshes its type's outlook at most once per this many seconds per office and type
# (a release burst refreshes a few times, not once per booking).
STOCK_REFRESH_SECONDS = env.int("STOCK_REFRESH_SECONDS", default=1)
HOARDING_RULES = {
    "expired_holds": {
        "signal": "expired_holds",
        "threshold": 3,
        "window": dt.timedelta(days=30),
        "restrict_for": dt.timedelta(days=7),
    },
    "late_cancellations": {
        "signal": "late_cancellations",
        "threshold": 3,
        "window": dt.timedelta(days=30),
        "before_session": dt.timedelta(hours=24),
        "restrict_for": dt.timedelta(days=7),
    },
    "niks_per_phone": {
        "signal": "niks_per_phone",
        "threshold": 8,
        "window": dt.timedelta(days=30),
        "restrict_for": dt.timedelta(days=7),
    },
    "refused_niks": {
        "signal": "refused_niks",
        "threshold": 10,
        "window": dt.timedelta(days=7),
        "restrict_for": dt.timedelta(days=7),
    },
    "accounts_per_address": {"signal": "accounts_per_address", "threshold": 20, "window": dt.timedelta(hours=1)},
    # An office upheld a NIK's owner against an application of the account and chose to flag it
    # (docs/nik-disputes.md): one is enough, and the review queue decides whether to block.
    "disputed_niks": {
        "signal": "disputed_niks",
        "threshold": 1,
        "window": dt.timedelta(days=90),
        "restrict_for": dt.timedelta(days=30),
    },
}
# A booked applicant not checked in this long after the session's end is a no-show.
NO_SHOW_GRACE_MINUTES = env.int("NO_SHOW_GRACE_MINUTES", default=30)
# Availability pages may be this stale (seconds); the claim never reads the cache. 0 = off.
AVAILABILITY_CACHE_SECONDS = env.float("AVAILABILITY_CACHE_SECONDS", default=2)
# A day is rebuilt at most this often (seconds) while claims keep changing it.
AVAILABILITY_REBUILD_SECONDS = env.float("AVAILABILITY_REBUILD_SECONDS", default=0.5)

# --- Payment gateway --------------------------------------------------------------------
# The shared secret for signed payment notices. No default outside debug: without it the
# notify endpoint refuses every notice (503) instead of trusting an unsigned one.
PAYMENT_GATEWAY_SECRET = env("PAYMENT_GATEWAY_SECRET", default="insecure-development-payment-secret" if DEBUG else "")
PAYMENT_NOTICE_MAX_AGE_SECONDS = env.int("PAYMENT_NOTICE_MAX_AGE_SECONDS", default=300)
# The development gateway (a page where the applicant "pays"): debug only unless switched on.
PAYMENT_DEV_GATEWAY = env.bool("PAYMENT_DEV_GATEWAY", default=DEBUG)

# --- Notifications ----------------------------------------------------------------------
PHONE_GATEWAY_BACKEND = env(
    "PHONE_GATEWAY_BACKEND",
    default="notifications.messaging.HttpPhoneGateway"
    if env("PHONE_GATEWAY_URL", default="")
    else "notifications.messaging.LoggingPhoneGateway",
)
PHONE_GATEWAY_URL = env("PHONE_GATEWAY_URL", default="")
PHONE_GATEWAY_TOKEN = env("PHONE_GATEWAY_TOKEN", default="")
NOTIFICATION_PHONE_CHANNEL = env("NOTIFICATION_PHONE_CHANNEL", default="sms")  # or "whatsapp"
# Messages also sent to the phone when the account has an e-mail address: a move to an earlier
# date may come the day before, and must be read in time.
NOTIFICATION_PHONE_TEMPLATES = env.list("NOTIFICATION_PHONE_TEMPLATES", default=["reminder", "moved_earlier"])
# The booking's confirmation (a copy of the codes the answer already shows) is left to the
# outbox sweep, which sends it once it is this many seconds old, so that a quota's opening rush
# is neither slowed by publishing nor by sending them: measured in `make bench`, deliveries
# during the burst cost the bookings a quarter of their throughput.
BOOKING_MESSAGE_DELAY_SECONDS = env.int("BOOKING_MESSAGE_DELAY_SECONDS", default=60)
NOTIFICATION_MAX_ATTEMPTS = 6
NOTIFICATION_RETRY_BASE_SECONDS = 60
# The day-before reminder goes out from this hour of the office's own zone.
REMINDER_HOUR = env.int("REMINDER_HOUR", default=9)

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = BASE_DIR / ".celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(BASE_DIR / ".celery" / "processed"),
        "store_processed": False,
        # The exchange tables: kombu's default is "control" in the working directory.
        "control_folder": str(BASE_DIR / ".celery" / "control"),
    }
else:
    # With acks_late, a message whose worker died unacknowledged is given back by Redis after
    # this long (Redis' default is an hour). Tasks are short and idempotent, so a redelivery
    # of a task still running is harmless; a lost one is not.
    # The scan for such messages runs every `unacked_restore_interval` s (throttle 1: each time).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
    }
# Queues by urgency. "urgent": what a person is waiting for (offers and draw results of
# allocation, every message of the outbox: a booking's, an e-mail code); "default": the minute
# jobs that keep places right; "bulk": what may wait (reminders of tomorrow's visits, reports,
# slot generation, purges). Production runs a worker that consumes only "urgent", so bulk work
# never delays it (deploy/); `make run`'s one worker names all three (-Q urgent,default,bulk).
# A worker consumes what its -Q names (Celery creates the queues as routes name them), and
# without -Q the default queue alone.
CELERY_QUEUE_NAMES = ["urgent", "default", "bulk"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "allocation.*": {"queue": "urgent"},
    "notifications.*": {"queue": "urgent"},
    "appointments.tasks.queue_reminders_task": {"queue": "bulk"},
    "appointments.alert_low_stock": {"queue": "bulk"},
    "reports.*": {"queue": "bulk"},
    "quotas.generate_*": {"queue": "bulk"},
    "accounts.purge_idempotency_keys": {"queue": "bulk"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
# django-celery-beat's DatabaseScheduler, where each run first takes a Redis lock named after its
# task (mpaspor/beat.py): a second beat started by mistake, or during a hand-over, sends nothing twice.
CELERY_BEAT_SCHEDULER = "mpaspor.beat:LockedDatabaseScheduler"
# A short wait on an unreachable broker: the outbox sweep sends what was not enqueued.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# Read only by the worker's and beat's reconnect after a broker outage (publishing never reads
# it): None retries for ever. 0 is not "for ever" but "give up at the first refused connection",
# which made the worker exit when Redis went away (celery/celery#8626).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing (kombu's default_channel) has its own retry loop: without these it sleeps ~2 s
# on a refused connection before giving up, on the booking's request path.
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.1,
    }
# The periodic jobs. DatabaseScheduler copies these into django-celery-beat's tables at
# start, where staff can change or pause them in the admin. Minute jobs expire rather than
# pile up while no worker runs (the next run does the same work); `expire_seconds` is the
# option name DatabaseScheduler understands.
CELERY_BEAT_SCHEDULE: dict = {
    "generate-slots-for-horizon": {
        "task": "quotas.generate_slots_for_horizon",
        "schedule": crontab(hour=17, minute=5),  # 00:05 WIB, 01:05 WITA, 02:05 WIT
    },
    "release-expired-holds": {
        "task": "appointments.release_expired_holds",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "give-back-priority-places": {
        "task": "quotas.give_back_priority_places",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    # Releases in draw mode: entry windows opened (their seeds committed), and any draw whose
    # window has closed but that has not run (its task is scheduled at the close).
    "allocation-sweep-releases": {
        "task": "allocation.sweep_releases",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "allocation-apply-incidents": {
        "task": "allocation.apply_incidents",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "mark-no-shows": {
        "task": "appointments.mark_no_shows",
        "schedule": crontab(minute="*/5"),
        "options": {"expire_seconds": 280},
    },
    "reconcile-slot-counts": {
        "task": "appointments.reconcile_slot_counts",
        "schedule": crontab(minute=17),
        "options": {"expire_seconds": 3000},
    },
    # The outbox sweep (every app's messages): bookings' confirmations, what the broker never got,
    # retries that are due.
    # Offices late with a capacity evaluation: their heads get one reminder a day.
    "planning-remind-late-offices": {
        "task": "planning.remind_late_offices",
        "schedule": crontab(hour=2, minute=0),  # 09:00 WIB
        "options": {"expire_seconds": 3000},
    },
    "notifications-sweep-outboxes": {"task": "notifications.sweep_outboxes", "schedule": 15.0},
    # The waiting list: offers past their deadline lapse and pass on, held places no offer covers
    # are offered (or go back to the pool), waiting rows past their dates end.
    "allocation-sweep-offers": {
        "task": "allocation.sweep_offers",
        "schedule": 15.0,
        "options": {"expire_seconds": 14},
    },
    # The waiting list's counts per session recounted, after the night's new slots (17:05 UTC):
    # the repair of what each join and leave keeps by one (docs/waiting-list.md).
    "allocation-recount-waiting": {
        "task": "allocation.recount_waiting",
        "schedule": crontab(hour=17, minute=35),  # 00:35 WIB, 01:35 WITA, 02:35 WIT
        "options": {"expire_seconds": 3000},
    },
    # Hourly; each office zone's reminders go out once its clock passes REMINDER_HOUR.
    "appointments-queue-reminders": {
        "task": "appointments.tasks.queue_reminders_task",
        "schedule": crontab(minute=5),
    },
    # Hoarding signals counted against HOARDING_RULES: flags and restrictions.
    "appointments-evaluate-hoarding": {
        "task": "appointments.evaluate_hoarding",
        "schedule": crontab(minute="*/5"),
        "options": {"expire_seconds": 280},
    },
    # Answers stored for the API's Idempotency-Key are kept 24 hours: an hour more at most.
    "accounts-purge-idempotency-keys": {
        "task": "accounts.purge_idempotency_keys",
        "schedule": crontab(minute=41),
        "options": {"expire_seconds": 3000},
    },
    # Supporting documents past their retention (DOCUMENTS_KEEP_DAYS_*): 18:10 UTC is 01:10 WIB.
    "appointments-purge-documents": {
        "task": "appointments.purge_documents",
        "schedule": crontab(hour=18, minute=10),
        "options": {"expire_seconds": 3000},
    },
    # Blank passport books: every outlook counted again (cancellations, expiries and moves change
    # the bookings ahead without a refresh of their own), then the low-stock alerts, once a day
    # per office and type, at 08:00 WIB on the first run of the day.
    "appointments-refresh-stock-outlooks": {
        "task": "appointments.refresh_stock_outlooks",
        "schedule": crontab(minute="*/5"),
        "options": {"expire_seconds": 280},
    },
    "appointments-alert-low-stock": {
        "task": "appointments.alert_low_stock",
        "schedule": crontab(hour=1, minute=0),  # 08:00 WIB
        "options": {"expire_seconds": 3000},
    },
    # 17:30 UTC is 00:30 WIB, 01:30 WITA, 02:30 WIT: every office's day has ended.
    "reports-office-days-nightly": {
        "task": "reports.tasks.refresh_recent_office_days_task",
        "schedule": crontab(hour=17, minute=30),
        "kwargs": {"days_back": 7},
    },
}
# The worker keeps LOGGING above (and its NIK mask) instead of installing its own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What a task prints stays on the worker's stdout instead of becoming log lines: under `make run`
# the e-mails of the console backend reach the console while the log (stderr) goes to a file.
CELERY_WORKER_REDIRECT_STDOUTS = False

# --- REST API ---------------------------------------------------------------------------
# API tokens (`Authorization: Token <key>`) expire this many days after login or sign-up.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
# Rate limits, counted in the default cache (Redis). Per IP address for every API request,
# per account for signed-in requests, and a stricter one per IP for sign-up, login and the
# e-mail code. Mobile carriers put many phones behind one address (CGNAT): the IP rate is wide.
API_THROTTLE_RATES = {
    "ip": env("API_RATE_IP", default="600/min"),
    "account": env("API_RATE_ACCOUNT", default="60/min"),
    "auth": env("API_RATE_AUTH", default="20/min"),
    # Entering a draw (POST releases/{id}/entries/), per account, on top of "account".
    "draw_entry": env("API_RATE_DRAW_ENTRY", default="10/min"),
}
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["mpaspor.api.IpRateThrottle", "mpaspor.api.AccountRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mpaspor.api.JSONParser"],
    "EXCEPTION_HANDLER": "mpaspor.api.exception_handler",
    # Behind N reverse proxies the client is the Nth address from the right of
    # X-Forwarded-For; with 0 only REMOTE_ADDR counts, so a client cannot pick its own IP.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mpaspor API",
    "DESCRIPTION": "Passport appointments at Indonesia's immigration offices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Logging ----------------------------------------------------------------------------
# "json": one object per line with the request's id (mpaspor/json_logs.py), for production's log
# collector; "text": lines a person reads on a console (`make run`).
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # On the handler, so it also masks records propagated from every library's logger.
    "filters": {
        "mask_nik": {"()": "mpaspor.log_filters.MaskNikFilter"},
        "request_id": {"()": "mpaspor.json_logs.RequestIdFilter"},
    },
    "formatters": {
        "json": {"()": "mpaspor.json_logs.JsonFormatter"},
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_nik", "request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
