"""Settings shared by every deployment. Demo and production settings import from here."""

import os
from pathlib import Path

import dj_database_url

SRC_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = SRC_DIR.parent.parent
VAR_DIR = Path(os.environ.get("SAFERPRISONS_VAR_DIR", REPO_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
NODE_MODULES = Path(os.environ.get("SAFERPRISONS_NODE_MODULES", REPO_DIR / "node_modules"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "saferprisons.core",
    "saferprisons.audit",
    "saferprisons.accounts",
    "saferprisons.estate",
    "saferprisons.people",
    "saferprisons.jobs",
    "saferprisons.kiosk",
    "saferprisons.acct",
    "saferprisons.monitoring",
    "saferprisons.demo",
]

MIDDLEWARE = [
    "saferprisons.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "saferprisons.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "saferprisons.kiosk.middleware.KioskSessionMiddleware",
    "saferprisons.core.middleware.DeclaredPermissionMiddleware",
]

ROOT_URLCONF = "saferprisons.urls"
ASGI_APPLICATION = "saferprisons.asgi.application"
WSGI_APPLICATION = "saferprisons.wsgi.application"

TEMPLATES = [
    {
        # Our pages: Jinja2, so the GOV.UK Frontend macros come straight from govuk-frontend-jinja.
        "BACKEND": "saferprisons.core.jinja.Jinja2Templates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "saferprisons.core.jinja.environment",
            "context_processors": ["saferprisons.core.context_processors.layout"],
        },
    },
    {
        # Django admin and its widgets.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets readers carry on while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so two transactions cannot both read "one bed free" and then both write.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON;",
        },
    }


def database_from_env(default_sqlite: Path) -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60)
        if config["ENGINE"].endswith("sqlite3"):
            return sqlite_database(Path(config["NAME"]))
        return config
    return sqlite_database(default_sqlite)


DATABASES = {"default": database_from_env(VAR_DIR / "saferprisons.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["saferprisons.accounts.backends.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "core:home"

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("govuk", NODE_MODULES / "govuk-frontend" / "dist" / "govuk"),
    ("moj", NODE_MODULES / "@ministryofjustice" / "frontend" / "moj"),
    ("htmx", NODE_MODULES / "htmx.org" / "dist"),
]
WHITENOISE_USE_FINDERS = True
# GOV.UK Frontend's stylesheet asks for fonts and images under /assets/.
GOVUK_ASSETS_DIR = NODE_MODULES / "govuk-frontend" / "dist" / "govuk" / "assets"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one shift
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Policy timings and security limits (named after their source; shown on /admin-settings/) ---
# Failed sign-ins before an account is locked, and for how long (NCSC password guidance).
STAFF_SIGN_IN_MAX_FAILURES = 5
STAFF_SIGN_IN_LOCKOUT_MINUTES = 15
KIOSK_PIN_MAX_FAILURES = 3
KIOSK_PIN_LOCKOUT_MINUTES = 30
# Kiosks are shared terminals on a wing: a short idle timeout protects the next person in line.
KIOSK_IDLE_TIMEOUT_SECONDS = 120
# Audit records of access to personal data are kept at least 7 years (MoJ retention floor).
AUDIT_RETENTION_YEARS = 7
# Worker timing.
# A quarter-second poll keeps monitoring escalation steps within 1 s of due at p99 (ADR 0011).
WORKER_POLL_SECONDS = 0.25
WORKER_HEARTBEAT_SECONDS = 5
WORKER_STALE_AFTER_SECONDS = 30
JOB_DEFAULT_MAX_ATTEMPTS = 5
API_PAGE_SIZE = 50

# --- ACCT (PSI 64/2011, ACCT v6). Sources and confirmation: acct/policy.py, docs/adr/0009. ---
ACCT_IAP_HOURS = 1  # Immediate Action Plan within 1 hour of opening (v5, confirmed)
ACCT_ASSESSMENT_HOURS = 24  # assessment interview within 24 hours of the concern (v5, confirmed)
ACCT_FIRST_REVIEW_HOURS = 24  # first case review within 24 hours of opening (v5, confirmed)
ACCT_UNSCHEDULED_REVIEW_HOURS = 24  # a demanded review within 24 hours (local choice)
ACCT_POST_CLOSURE_DAYS = 7  # post-closure review after closure (common practice, NOT confirmed)
ACCT_DAY_STARTS = "08:00"  # Europe/London; day observation and conversation levels from here
ACCT_NIGHT_STARTS = "20:00"  # Europe/London; night levels from here
ACCT_DUE_SOON_MINUTES = 15  # wing board: "due soon" window
ACCT_NEW_CONCERN_HOURS = 24  # wing board: a concern this recent is shown as new
# Safer custody e-mail addresses per prison code, e.g. {"ZNA": ["safer.custody@example.org"]}.
ACCT_SAFER_CUSTODY_EMAILS: dict[str, list[str]] = {}
