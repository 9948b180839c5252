"""Settings of the Libeo sandbox, driven only by ``LIBEO_*`` and ``MEG_OIDC_*`` variables.

This is a stand-in run on loopback by developers and test suites, never a production service:
hence the fixed secret key and the absence of HTTPS settings.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _database_path():
    """LIBEO_SANDBOX_DB, a relative path being taken from the repository root."""
    path = Path(os.environ.get("LIBEO_SANDBOX_DB", "var/libeo-sandbox.sqlite3"))
    return path if path.is_absolute() else REPO_ROOT / path


SECRET_KEY = "libeo-sandbox-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "sandboxes.libeo.apps.LibeoSandboxConfig",
    "rest_framework",
]

MIDDLEWARE = [
    "sandboxes.libeo.control.FaultInjectionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sandboxes.libeo.urls"
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

# Request threads write concurrently: WAL lets readers run beside the writer, IMMEDIATE takes
# the write lock at BEGIN (no deadlock on lock upgrade, and concurrent payments with one
# idempotency key run one after the other) and the timeout makes a writer wait for the lock
# instead of failing with "database is locked".
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
LOGIN_REDIRECT_URL = "companies"
LOGOUT_REDIRECT_URL = "login"
# Browsers share cookies across ports of one host: MEG on :8000, ProGBat on :8100 and Libeo
# on :8200 must not overwrite each other's session and CSRF cookies.
SESSION_COOKIE_NAME = "libeo_sessionid"
CSRF_COOKIE_NAME = "libeo_csrftoken"
CSRF_FAILURE_VIEW = "sandboxes.libeo.views.csrf_failure"

# "Me connecter avec MEG": MEG is the OpenID Connect provider, Libeo its client.
MEG_OIDC_ISSUER = os.environ.get("MEG_OIDC_ISSUER", "http://127.0.0.1:8000/o").rstrip("/")
MEG_OIDC_CLIENT_ID = os.environ.get("MEG_OIDC_CLIENT_ID", "libeo-sandbox")
MEG_OIDC_CLIENT_SECRET = os.environ.get("MEG_OIDC_CLIENT_SECRET", "libeo-sandbox-secret")
MEG_OIDC_SCOPES = os.environ.get("MEG_OIDC_SCOPES", "openid email profile meg_company")
# Where the account-creation flow may send the browser back with its one-time code.
LIBEO_ALLOWED_RETURN_ORIGINS = os.environ.get(
    "LIBEO_ALLOWED_RETURN_ORIGINS", "http://127.0.0.1:8000 http://localhost:8000"
).split()

LIBEO_SANDBOX_CONTROL = os.environ.get("LIBEO_SANDBOX_CONTROL", "0") == "1"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["sandboxes.libeo.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["sandboxes.libeo.api.auth.HasApiKey"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "sandboxes.libeo.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "sandboxes.libeo": {"handlers": ["console"], "level": "INFO"},
        # With DEBUG off, Django would only mail server errors: print them in the sandbox log.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
