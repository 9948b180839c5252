"""The skeleton of the sandboxes' settings: each ``settings.py`` star-imports it, then says what
is its own (name, app, database variable, cookies, REST framework classes).

The sandboxes are stand-ins run on loopback by developers and test suites, never production
services: hence their fixed secret keys and the absence of HTTPS settings.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The shared layout, login form and error pages, under each sandbox's own templates.
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sandboxes.common.views.sandbox_context",
            ],
        },
    },
]

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "login"
CSRF_FAILURE_VIEW = "sandboxes.common.views.csrf_failure"


def installed_apps(app, *after):
    """Django's apps, the sandbox's ``app``, then ``after`` (whose templates ``app``
    overrides), then the REST framework."""
    return ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
            "django.contrib.messages", app, *after, "rest_framework"]


def middleware(fault_injection):
    """Django's usual stack behind the sandbox's fault injection, which answers first."""
    return [
        fault_injection,
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]


def sqlite_database(variable, default):
    """The sandbox's own SQLite file: ``$variable``, a relative path being taken from the
    repository root.

    Request threads (and ProGBat's webhook worker) write concurrently: WAL lets readers run
    beside the writer, IMMEDIATE takes the write lock at BEGIN (no deadlock on lock upgrade, and
    concurrent requests with one idempotency key run one after the other) and the timeout makes
    a writer wait for the lock instead of failing with "database is locked".
    """
    path = Path(os.environ.get(variable, default))
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if path.is_absolute() else REPO_ROOT / path,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    }


def rest_framework(*, authentication, permission, exception_handler):
    """JSON in and out only, the sandbox's own authentication, errors in the contract's shape."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [authentication],
        "DEFAULT_PERMISSION_CLASSES": [permission],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "EXCEPTION_HANDLER": exception_handler,
        "UNAUTHENTICATED_USER": None,
    }


def logging_for(logger):
    """The sandbox's ``logger`` at INFO on the console."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "loggers": {
            logger: {"handlers": ["console"], "level": "INFO"},
            # With DEBUG off, Django would only mail server errors: print them in the sandbox log.
            "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        },
    }
