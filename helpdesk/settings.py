"""Switchboard settings: everything comes from the environment (see .env.example).

Unset variables give the embedded default: a SQLite file, eager Celery and an in-memory
channel layer, so ``make run`` needs no other service. Setting ``DATABASE_URL`` and
``REDIS_URL`` gives the production shape.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SWITCHBOARD_VAR_DIR", str(BASE_DIR / "var")))

TESTING = "pytest" in sys.modules or env_bool("SWITCHBOARD_TESTING", False)
DEBUG = env_bool("DEBUG", True)

# --- Secrets -------------------------------------------------------------------------------

INSECURE_SECRET_PREFIX = "django-insecure"  # noqa: S105 - refused, not used as a key


def _development_secret_key() -> str:
    """A key generated once per checkout and kept in an ignored file, so sessions survive
    restarts in development without any key ever being committed."""
    key_file = BASE_DIR / ".secret_key"
    try:
        # O_EXCL: when several processes start at once (pytest-xdist workers, the web server
        # and a management command) exactly one writes the key and the others read it.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        descriptor = None
    if descriptor is not None:
        key = secrets.token_urlsafe(50)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key
    for _attempt in range(100):
        existing = key_file.read_text(encoding="utf-8").strip()
        if existing:
            return existing
        time.sleep(0.01)  # the winner has created the file but not yet written it
    raise ImproperlyConfigured(f"{key_file} is empty; delete it to generate a new key.")


def _is_weak_secret(key: str) -> bool:
    """Django's own deploy check (security.W009), enforced so production cannot start."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith(INSECURE_SECRET_PREFIX)


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = _development_secret_key()
if not DEBUG and _is_weak_secret(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for production: use at least 50 random characters."
    )

# --- Hosts and URLs ------------------------------------------------------------------------

PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG:
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list the host names Switchboard is served on when DEBUG is off "
            "(a bare '*' is refused)."
        )
    if not PUBLIC_BASE_URL.startswith("https://"):
        raise ImproperlyConfigured(
            "PUBLIC_BASE_URL must be an https:// address when DEBUG is off: customers follow "
            "links to it and providers post webhooks to it."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

# --- Applications --------------------------------------------------------------------------

INSTALLED_APPS = [
    "channels",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "helpdesk",
    "customers",
    "tickets",
    "channels_inbox",
    "automation",
    "knowledge_base",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"
AUTH_USER_MODEL = "helpdesk.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:inbox"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "automation.navigation.settings_nav",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------

DEFAULT_SQLITE_PATH = VAR_DIR / "switchboard.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")


DATABASE_SCHEMES = ("postgres", "postgresql", "sqlite")


def _database(url: str) -> dict[str, Any]:
    scheme, separator, _rest = url.partition("://")
    if not separator or scheme.lower() not in DATABASE_SCHEMES:
        # Only the scheme is echoed: the rest of the URL may hold a password.
        raise ImproperlyConfigured(
            "DATABASE_URL must point at PostgreSQL (postgres://user:password@host:5432/name) "
            f"or SQLite (sqlite:////absolute/path.sqlite3); got a {scheme or 'malformed'} URL."
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL could not be parsed as a database URL.") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(config["NAME"])
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers run beside one writer; IMMEDIATE transactions take the write lock
        # up front, so two writers queue on the busy timeout instead of one failing with
        # "database is locked" when it upgrades a read lock.
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif engine == "django.db.backends.postgresql":
        # Persistent connections suit gunicorn and Celery processes (compose sets 60); under
        # ASGI Django must open one per request, so the default stays Django's own 0.
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must point at SQLite or PostgreSQL; got engine {engine}."
        )
    return config


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker, cache ---------------------------------------------

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "switchboard")
# Django's cache keys in Redis; apart from the rest only when processes must not share them.
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", REDIS_KEY_PREFIX)
# channels_redis opens one connection per concurrent WebSocket operation; redis-py's default
# pool of 100 fails at about 100 simultaneous connects.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 1000, minimum=10)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS}],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Values each process may keep for itself: keyed by what they are computed from (the inbox
# counts by the tickets' version), so a process's copy is as right as a shared one and costs
# no round trip to Redis.
CACHES["process"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "switchboard-process",
}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker every task runs in the calling process once the transaction commits.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Prefixes keep several installations (or CI runs) on one Redis apart.
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:"}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:"}
CELERY_RESULT_EXPIRES = 3600
# Tasks record their outcome on their own rows; storing every result in Redis costs a write
# per task that nothing reads. A task whose caller waits for it opts in (ignore_result=False).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"

# Dotted paths of Celery tasks that receive every domain event after commit (helpdesk.events).
EVENT_CONSUMER_TASKS: list[str] = [
    "channels_inbox.tasks.handle_events_task",
    "automation.tasks.handle_events_task",
]

# Dotted path of the callable tickets.services.add_reply asks, with the ticket locked,
# whether the ticket's channel takes a free-text reply now; it raises TicketError if not.
REPLY_CHECK = "channels_inbox.services.check_reply"
# Dotted path of the callable the agent workspace asks, before the agent types, what the
# ticket's channel allows now: it returns a SendCheck (allowed, reason, templates).
REPLY_SEND_CHECK = "channels_inbox.services.reply_send_check"

# Periodic jobs: run by `celery beat` in production and, without Redis, by the in-process
# scheduler of the ASGI server (helpdesk.scheduler). A schedule is seconds, a timedelta or
# a celery.schedules.crontab; a new job is one more entry here.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "sweep-inbound-events": {
        "task": "channels_inbox.sweep_inbound_events_task",
        "schedule": 60.0,
    },
    "sweep-queued-messages": {
        "task": "channels_inbox.sweep_queued_messages_task",
        "schedule": 60.0,
    },
    "poll-imap": {"task": "channels_inbox.email.poll_imap_task", "schedule": 60.0},
    "sla-sweep": {"task": "automation.sla_sweep_task", "schedule": 60.0},
    "record-abandoned-contact-forms": {
        "task": "knowledge_base.record_abandoned_contact_forms_task",
        "schedule": 300.0,
    },
    # Article views are counted in the cache; this writes them to Article.view_count.
    "flush-article-views": {"task": "knowledge_base.flush_view_counts_task", "schedule": 60.0},
    # Routing's safety net: queued tickets get an agent who has room even if an event was lost.
    "routing-queue": {"task": "automation.routing_queue_task", "schedule": 30.0},
    # Time-based rules (pending for 3 days ...) and rule webhooks whose retry is due.
    "time-rules": {"task": "automation.time_rules_task", "schedule": 60.0},
}

# --- Inbound and outbound pipeline (channels_inbox.tasks) ----------------------------------

# Exponential backoff with jitter: 30 s, 1 min, 2 min, ... up to an hour between attempts.
PIPELINE_RETRY_BASE_SECONDS = 30
PIPELINE_RETRY_MAX_DELAY_SECONDS = 3600
# Then the row is failed for good: up to about an hour of retries for an inbound event (a
# fix and `manage.py reprocess_inbound` bring it back), about three hours for a reply.
INBOUND_MAX_ATTEMPTS = 8
OUTBOUND_MAX_ATTEMPTS = 10
# How many worker processes may take new inbound events at once (each in batches): the
# Celery processes of every worker together, so a burst keeps each one busy and none idle.
INBOUND_BATCH_WORKERS = env_int("INBOUND_BATCH_WORKERS", 2, minimum=1)
# Batches a task threads before it queues its continuation behind the tasks they caused, so
# automation keeps pace with a long burst (a batch is 100 events).
INBOUND_BATCHES_PER_TASK = 2
# Added to the Celery worker's niceness when it starts (0 to 19). When web and worker share
# CPUs, a positive value keeps webhook and page answers fast through a burst: the worker
# takes the CPU the web server leaves and catches up in larger batches afterwards.
# docker-compose.yml runs it at 19; docs/architecture.md has the measurements.
WORKER_NICENESS = env_int("WORKER_NICENESS", 0, minimum=0, maximum=19)

# --- Auth ----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# How long a sign-in lasts, in seconds: a working day and a bit by default, so agents sign
# in once per shift and a forgotten session does not stay open for Django's two weeks.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60, minimum=300)

# --- Internationalisation ------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone.") from None
USE_I18N = True
USE_TZ = True
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "US").upper()

# --- Static files and uploads --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages from package-lock.json, installed by `make install` (npm ci); only
    # their built files are served, under vendor/<package>/.
    ("vendor/htmx.org", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MAX_ATTACHMENT_BYTES = env_int("MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024, minimum=1024)
MAX_ATTACHMENTS_PER_MESSAGE = env_int("MAX_ATTACHMENTS_PER_MESSAGE", 20, minimum=1)
# Request bodies Django holds in memory; attachments beyond it stream to temporary files.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)

# --- Help center (knowledge_base) -----------------------------------------------------------
# The public help center under /help/ wears the shop's name, logo and colour, not ours.

HELP_CENTER_NAME = env_str("HELP_CENTER_NAME", "Help Center")
# An absolute https:// address or a path on this site (e.g. /media/brand/logo.svg); empty
# shows the name alone.
HELP_CENTER_LOGO_URL = env_str("HELP_CENTER_LOGO_URL", "")
HELP_CENTER_BRAND_COLOR = env_str("HELP_CENTER_BRAND_COLOR", "#2f5bea")
if not re.fullmatch(r"#[0-9a-fA-F]{6}", HELP_CENTER_BRAND_COLOR):
    raise ImproperlyConfigured(
        f"HELP_CENTER_BRAND_COLOR must be a #rrggbb colour; got {HELP_CENTER_BRAND_COLOR!r}."
    )
if HELP_CENTER_LOGO_URL and not re.match(r"(https?://|/)[^\s\"'<>]*$", HELP_CENTER_LOGO_URL):
    raise ImproperlyConfigured(
        "HELP_CENTER_LOGO_URL must be an http(s):// address or a path starting with /; "
        f"got {HELP_CENTER_LOGO_URL!r}."
    )
# The locales articles are written in; the default one is the fallback when an article has
# no translation in the visitor's locale.
HELP_CENTER_LOCALES = env_list("HELP_CENTER_LOCALES", ["en", "de"])
HELP_CENTER_DEFAULT_LOCALE = env_str("HELP_CENTER_DEFAULT_LOCALE", "en")
if HELP_CENTER_DEFAULT_LOCALE not in HELP_CENTER_LOCALES:
    raise ImproperlyConfigured(
        f"HELP_CENTER_DEFAULT_LOCALE {HELP_CENTER_DEFAULT_LOCALE!r} must be one of "
        f"HELP_CENTER_LOCALES {HELP_CENTER_LOCALES!r}."
    )
# Images agents upload into articles (PNG, JPEG, GIF or WebP, checked by content).
KB_MAX_IMAGE_BYTES = env_int("KB_MAX_IMAGE_BYTES", 5 * 1024 * 1024, minimum=1024)
# The contact form opens its tickets on this email channel account (its slug), so agents
# answer by email; unset: the first active email account.
HELP_CENTER_CONTACT_CHANNEL_ACCOUNT = env_str("HELP_CENTER_CONTACT_CHANNEL_ACCOUNT", "")
# Minutes a customer portal sign-in link stays valid (it also works only once).
HELP_CENTER_PORTAL_LINK_MINUTES = env_int("HELP_CENTER_PORTAL_LINK_MINUTES", 30, minimum=5)

# --- Messaging providers -------------------------------------------------------------------
# The providers' API addresses: changed only to go through a proxy (or, in the tests, to a
# local fake provider).

META_GRAPH_API_URL = env_url(
    "META_GRAPH_API_URL", "https://graph.facebook.com/v21.0", schemes=("https", "http")
)
META_GRAPH_TIMEOUT_SECONDS = env_int("META_GRAPH_TIMEOUT_SECONDS", 20, minimum=1)
TWILIO_API_BASE_URL = env_url(
    "TWILIO_API_BASE_URL", "https://api.twilio.com", schemes=("https", "http")
)
TELEGRAM_API_BASE_URL = env_url(
    "TELEGRAM_API_BASE_URL", "https://api.telegram.org", schemes=("https", "http")
)

# --- Outgoing email ------------------------------------------------------------------------

EMAIL_URL = env_url("EMAIL_URL", schemes=("smtp", "smtps", "submission", "console", "locmem"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Switchboard <support@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)


def _email_settings(url: str) -> dict[str, Any]:
    from urllib.parse import unquote, urlsplit

    if not url:
        backend = "locmem" if TESTING else "console"
        return {"EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme in ("console", "locmem"):
        return {"EMAIL_BACKEND": f"django.core.mail.backends.{parts.scheme}.EmailBackend"}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or {"smtp": 25, "submission": 587, "smtps": 465}[parts.scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "submission",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": 30,
    }


globals().update(_email_settings(EMAIL_URL))

# --- REST API ------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.permissions.IsStaffMember"],
    # Strict: an unknown query parameter is a 400, never silently ignored.
    "DEFAULT_FILTER_BACKENDS": ["helpdesk.api.filters.StrictDjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Tickets, customers, orders and configuration of a Switchboard help desk.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from the installed package, never from a CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set that several fields share (drf-spectacular would
    # otherwise invent hashed names such as Status41aEnum and warn in `check --deploy`).
    "ENUM_NAME_OVERRIDES": {
        "ChannelKindEnum": "helpdesk.channel_kinds.ChannelKind",
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketPriorityEnum": "tickets.models.Ticket.Priority",
        "ReplyStatusEnum": "tickets.api.serializers.REPLY_STATUS_CHOICES",
    },
}

# --- Security (DEBUG off) ------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = []
    if not SECURE_SSL_REDIRECT:
        # A proxy in front terminates TLS and redirects; Django need not warn about it.
        SILENCED_SYSTEM_CHECKS.append("security.W008")
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole registered domain, not just the help desk's host, to
        # HTTPS for good; that is the shop owner's decision (SECURE_HSTS_PRELOAD=true), not a
        # default a help desk should make or nag about.
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- Logging -------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR; got {LOG_LEVEL}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
