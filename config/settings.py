"""Settings for the clinic intake system, configured from the environment.

Development defaults let `make run` work with no configuration at all: SQLite in the
project folder and the console mailer. Production sets DEBUG off and supplies
SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and the SMTP settings.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# The test suite runs with DEBUG off, as production does, but needs no secrets.
TESTING = "pytest" in sys.modules

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Set DEBUG=1 for development."
        )
    SECRET_KEY = "development-only-key-never-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Before the admin, whose forms it gives a field per language.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks_db",
    "simple_history",
    # Before intake, whose post_migrate gives the roles these apps' permissions.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "signin",
    "axes",
    "accounts",
    "audit",
    "conditions",
    "hl7v2",
    "interop",
    "intake",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "audit.actors.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "signin.middleware.StaffSessionMiddleware",
    "signin.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as axes asks: turns a refused or locking sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction starts, so two saves at once queue up
    # instead of one failing with "database is locked" halfway through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    database_options = DATABASES["default"].setdefault("OPTIONS", {})
    # libpq's own limit on opening a connection (it waits forever by default).
    database_options["connect_timeout"] = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
    if env_bool("DATABASE_PGBOUNCER"):
        # Through PgBouncer in transaction mode (docs/deploy.md), each transaction may run
        # on another server connection: PgBouncer does the pooling (a connection per
        # request here, CONN_MAX_AGE 0), and nothing may outlive a transaction on the
        # server: no server-side cursors, no server-side prepared statements.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        database_options["prepare_threshold"] = None
    else:
        from config.database import check_connection

        # psycopg's pool keeps connections open across requests; it requires
        # CONN_MAX_AGE = 0. It checks each connection before handing it out
        # (config/database.py), so those a database restart cut are replaced instead of
        # failing requests. While the database is down a request waits at most
        # DATABASE_POOL_TIMEOUT seconds for a connection, then gets the 503 page
        # (config.views.server_error).
        pool_timeout = float(os.environ.get("DATABASE_POOL_TIMEOUT", "3"))
        database_options["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")),
            "check": check_connection,
            "timeout": pool_timeout,
            # The pool retries a failed connection with growing pauses; dropping an
            # attempt after as long as a request waits keeps those pauses shorter than a
            # request's wait, so the first request after the database is back gets a
            # connection, and the next request starts a fresh attempt.
            "reconnect_timeout": pool_timeout,
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# axes' backend first: it refuses a sign-in while its user name or address is locked out,
# before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
# The patient pages speak these (intake/patient_language.py chooses, per page); the staff
# pages and the admin stay in English, so there is no LocaleMiddleware.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Condition content (conditions/translation.py) is written in English first; a text not
# translated yet reads in English.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Dates: one convention for the whole clinic (README, "Dates"). Shown with the month as a
# word, "12 Apr 1988", so that no reader takes the day for the month; typed as ISO
# (1988-04-12), in the clinic's order DATE_ORDER (DMY: 12/04/1988, the default; MDY:
# 04/12/1988) or as shown. Date pickers (type="date") show the browser's own order and send
# ISO. config/formats/en/ hands these to Django, whose own English formats would win.
DATE_ORDERS = {"DMY": "%d/%m/%Y", "MDY": "%m/%d/%Y"}
DATE_ORDER = os.environ.get("DATE_ORDER", "DMY")
if DATE_ORDER not in DATE_ORDERS:
    raise ImproperlyConfigured(f"DATE_ORDER must be one of {', '.join(DATE_ORDERS)}.")
DATE_FORMAT = SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j M Y H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d", DATE_ORDERS[DATE_ORDER], "%d %b %Y"]
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
# The photos and clips patients send (intake.Attachment): a private folder outside every
# served one, whose files have no address; staff and API clients get them only through views that
# check the role and audit each read.
STORAGES["attachments"] = {
    "BACKEND": "config.storage.PrivateFileSystemStorage",
    "OPTIONS": {
        "location": Path(os.environ.get("ATTACHMENTS_ROOT", BASE_DIR / "var" / "attachments")),
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
    },
}
if DEBUG or TESTING:
    # Served straight from the apps' static folders; nothing to collect.
    WHITENOISE_USE_FINDERS = True
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
else:
    STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

# Messages can name patients: keep them server-side rather than in a readable cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: the console mailer in development, SMTP from the environment in production.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@localhost")

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    # Patients' photos and clips, played on the staff pages from our own views.
    "media-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Staff sessions (signin/sessions.py): signed out after SESSION_IDLE_MINUTES without a
# request from the person, with a warning SESSION_WARNING_SECONDS before, and after
# SESSION_MAX_HOURS in any case; closing the browser ends them. Patient pages set their
# own expiry (intake/patient_views.py).
STAFF_SESSION_IDLE = datetime.timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "15")))
STAFF_SESSION_WARNING = datetime.timedelta(
    seconds=int(os.environ.get("SESSION_WARNING_SECONDS", "60"))
)
STAFF_SESSION_MAX_AGE = datetime.timedelta(hours=int(os.environ.get("SESSION_MAX_HOURS", "12")))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = int(STAFF_SESSION_MAX_AGE.total_seconds())

# The second factor (signin/second_factor.py): superusers and these roles must sign in
# with a code from an authenticator app (or a recovery code); other roles use a password.
SECOND_FACTOR_ROLES = env_list("SECOND_FACTOR_ROLES", "Provider,Clinic administrator")
OTP_TOTP_ISSUER = os.environ.get("CLINIC_NAME", "Riverside Neurology Clinic")
# django-otp's throttle: after n wrong codes in a row, wait 2^(n-1) seconds to try again.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# The admin never shows an authenticator's key or a recovery code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Lockout after failed sign-ins (accounts/lockout.py, on django-axes): a user name after
# SIGNIN_USERNAME_FAILURE_LIMIT failures from any addresses, an address after
# SIGNIN_ADDRESS_FAILURE_LIMIT on any user names (higher: a clinic's staff may share one),
# each for SIGNIN_LOCKOUT_MINUTES after the failures that locked it, or until a clinic
# administrator lifts it. Tries while locked out are refused unchecked and not counted.
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_USERNAME_FAILURE_LIMIT", "5"))
SIGNIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("SIGNIN_ADDRESS_FAILURE_LIMIT", "20"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("SIGNIN_LOCKOUT_MINUTES", "15")))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "audit.actors.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Sign-ins are on the audit trail already; accounts.admin shows the failed ones.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# Password reset (accounts/passwords.py): a link lasts PASSWORD_RESET_MINUTES, and one
# account gets at most PASSWORD_RESET_EMAILS_PER_HOUR of them. Links start with
# STAFF_BASE_URL (never taken from a request).
PASSWORD_RESET_TIMEOUT = 60 * int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
PASSWORD_RESET_EMAILS_PER_HOUR = int(os.environ.get("PASSWORD_RESET_EMAILS_PER_HOUR", "3"))

# How many reverse proxies stand in front of the app and append to X-Forwarded-For; the
# client address (for the audit trail and the pre-visit throttle) is taken from there.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

# Load balancers probe the health check over plain HTTP; it answers rather than redirects.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

if not (DEBUG or TESTING):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    if TRUSTED_PROXIES:
        # Only a proxy of ours may say that the client's connection was HTTPS.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "filters": {"redact_tokens": {"()": "config.log_filters.RedactTokensAndSearches"}},
    "loggers": {
        # Replaces Django's own handlers for its loggers, which would print request paths
        # (with pre-visit tokens) unfiltered, and mail them to ADMINS.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Request lines can carry a pre-visit token; the runserver access log is kept quiet.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Background tasks: run at once by default; set TASKS_BACKEND=database in production and
# run `manage.py db_worker` beside the web processes.
if os.environ.get("TASKS_BACKEND") == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# HL7 v2 orders and results (hl7v2): how long sending an order waits to connect and for
# the performer's ACK, how many tries it makes (the wait between them doubling from
# HL7_RETRY_SECONDS), and where `manage.py hl7_listener` listens for results.
HL7_CONNECT_TIMEOUT = float(os.environ.get("HL7_CONNECT_TIMEOUT", "5"))
HL7_ACK_TIMEOUT = float(os.environ.get("HL7_ACK_TIMEOUT", "30"))
HL7_SEND_ATTEMPTS = int(os.environ.get("HL7_SEND_ATTEMPTS", "6"))
HL7_RETRY_SECONDS = int(os.environ.get("HL7_RETRY_SECONDS", "60"))
HL7_LISTENER_HOST = os.environ.get("HL7_LISTENER_HOST", "127.0.0.1")
HL7_LISTENER_PORT = int(os.environ.get("HL7_LISTENER_PORT", "2575"))
# A sender's connection that stays silent this long is closed (it reconnects to send more).
HL7_LISTENER_IDLE_SECONDS = int(os.environ.get("HL7_LISTENER_IDLE_SECONDS", "300"))

# Pre-visit links: the address patients are sent (never taken from a request's Host
# header), and how long a link lasts at most.
PREVISIT_BASE_URL = os.environ.get("PREVISIT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The address staff password reset links start with (default: the same as patients').
STAFF_BASE_URL = os.environ.get("STAFF_BASE_URL", PREVISIT_BASE_URL).rstrip("/")
# The FHIR API (interop): the address its links and references start with (never taken
# from a request), and the identifier system its Patient resources give record numbers.
FHIR_BASE_URL = os.environ.get("FHIR_BASE_URL", f"{STAFF_BASE_URL}/fhir").rstrip("/")
FHIR_RECORD_NUMBER_SYSTEM = os.environ.get(
    "FHIR_RECORD_NUMBER_SYSTEM", f"{STAFF_BASE_URL}/record-number"
)
# Bulk exports ($export) are written here, outside every served folder, and handed out
# only through the API; an export reads this many rows per query.
FHIR_EXPORT_ROOT = Path(
    os.environ.get("FHIR_EXPORT_ROOT", BASE_DIR / "media" / "private" / "fhir-exports")
)
FHIR_EXPORT_BATCH_SIZE = int(os.environ.get("FHIR_EXPORT_BATCH_SIZE", "500"))
PREVISIT_LINK_DAYS = int(os.environ.get("PREVISIT_LINK_DAYS", "7"))
# An unfinished pre-visit link's patient is e-mailed one reminder this long before the
# visit (by `manage.py send_previsit_reminders`, run from a timer).
PREVISIT_REMINDER_HOURS = int(os.environ.get("PREVISIT_REMINDER_HOURS", "48"))
# Failed link or date-of-birth tries one client address may make in a window.
PREVISIT_MAX_FAILURES = int(os.environ.get("PREVISIT_MAX_FAILURES", "20"))
PREVISIT_FAILURE_WINDOW_MINUTES = int(os.environ.get("PREVISIT_FAILURE_WINDOW_MINUTES", "15"))
# Photos and clips on the pre-visit link: the most bytes one file may have, the longest
# clip in seconds, and how many files a visit keeps. An upload stops being read once it
# passes the size (intake.attachments.SizeLimitedUploadHandler).
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(50 * 1024 * 1024)))
ATTACHMENT_MAX_SECONDS = int(os.environ.get("ATTACHMENT_MAX_SECONDS", "60"))
ATTACHMENTS_PER_VISIT = int(os.environ.get("ATTACHMENTS_PER_VISIT", "3"))
FILE_UPLOAD_HANDLERS = [
    "intake.attachments.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o600
# Condition pages (and JSON exports) larger than this are refused before they are read.
CONDITION_IMPORT_MAX_BYTES = int(os.environ.get("CONDITION_IMPORT_MAX_BYTES", str(1024 * 1024)))
# The clinic as patients' pages, e-mails and printed summaries and requisitions name it.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Riverside Neurology Clinic")
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "1 River Road, Springfield, ST 00000")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "555-0100")
# What a patient who ticks an urgent warning sign is told to call first.
EMERGENCY_NUMBER = os.environ.get("EMERGENCY_NUMBER", "911")
