"""Settings of the ProGBat sandbox, driven only by ``PROGBAT_*`` environment variables.

This is a stand-in run on loopback by developers and test suites, never a production service:
hence the fixed secret key and the absence of HTTPS settings.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _database_path():
    """PROGBAT_SANDBOX_DB, a relative path being taken from the repository root."""
    path = Path(os.environ.get("PROGBAT_SANDBOX_DB", "var/progbat-sandbox.sqlite3"))
    return path if path.is_absolute() else REPO_ROOT / path


SECRET_KEY = "progbat-sandbox-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before oauth2_provider so that its French templates override the toolkit's.
    "sandboxes.progbat.apps.ProgbatSandboxConfig",
    "oauth2_provider",
    "rest_framework",
]

MIDDLEWARE = [
    "sandboxes.progbat.control.FaultInjectionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sandboxes.progbat.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Request threads and the webhook worker write concurrently: WAL lets readers run beside the
# writer, IMMEDIATE takes the write lock at BEGIN (no deadlock on lock upgrade) and the timeout
# makes a writer wait for the lock instead of failing with "database is locked".
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _database_path(),
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Browsers share cookies across ports of one host: MEG on :8000 and the sandbox on :8100 must
# not overwrite each other's session and CSRF cookies.
SESSION_COOKIE_NAME = "progbat_sessionid"
CSRF_COOKIE_NAME = "progbat_csrftoken"
CSRF_FAILURE_VIEW = "sandboxes.progbat.views.csrf_failure"

# The OAuth application registered for MEG (updated from these on every start).
PROGBAT_CLIENT_ID = os.environ.get("PROGBAT_CLIENT_ID", "meg-dev")
PROGBAT_CLIENT_SECRET = os.environ.get("PROGBAT_CLIENT_SECRET", "meg-dev-secret")
PROGBAT_REDIRECT_URIS = os.environ.get(
    "PROGBAT_REDIRECT_URIS", "http://127.0.0.1:8000/partners/progbat/oauth/callback/"
).split()

PROGBAT_WEBHOOK_URL = os.environ.get(
    "PROGBAT_WEBHOOK_URL", "http://127.0.0.1:8000/partners/progbat/webhooks/"
)
PROGBAT_WEBHOOK_SECRET = os.environ.get(
    "PROGBAT_WEBHOOK_SECRET", "whsec_bWVnLXByb2diYXQtZGV2ZWxvcG1lbnQtc2VjcmV0ISE="
)
PROGBAT_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("PROGBAT_WEBHOOK_BACKOFF_SECONDS", "1"))
PROGBAT_SANDBOX_CONTROL = os.environ.get("PROGBAT_SANDBOX_CONTROL", "0") == "1"

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("PROGBAT_ACCESS_TOKEN_SECONDS", "3600")),
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only: "plain" challenges are refused
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # Bearer header only, never the URL
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # a used refresh token never works twice
    "OAUTH2_VALIDATOR_CLASS": "sandboxes.progbat.oauth.ExactRedirectUriValidator",
    "SCOPES": {"read": "Consulter vos comptes", "write": "Gérer vos comptes et factures"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "sandboxes.progbat.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "sandboxes.progbat": {"handlers": ["console"], "level": "INFO"},
        # With DEBUG off, Django would only mail server errors: print them in the sandbox log.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
