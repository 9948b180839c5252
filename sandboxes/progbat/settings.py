"""Settings of the ProGBat sandbox, driven only by ``PROGBAT_*`` environment variables; what
both sandboxes share is in ``sandboxes.common.settings``."""

import os

from sandboxes.common import settings as common
from sandboxes.common.settings import *  # noqa: F403 (the skeleton, completed below)

SANDBOX_NAME = "ProGBat"
SANDBOX_BASE_TEMPLATE = "progbat/base.html"
SECRET_KEY = "progbat-sandbox-not-a-secret"

# Before oauth2_provider so that its French templates override the toolkit's.
INSTALLED_APPS = common.installed_apps("sandboxes.progbat.apps.ProgbatSandboxConfig",
                                       "oauth2_provider")
MIDDLEWARE = common.middleware("sandboxes.progbat.control.FaultInjectionMiddleware")
ROOT_URLCONF = "sandboxes.progbat.urls"
DATABASES = common.sqlite_database("PROGBAT_SANDBOX_DB", "var/progbat-sandbox.sqlite3")

LOGIN_REDIRECT_URL = "home"
# Browsers share cookies across ports of one host: MEG on :8000 and the sandbox on :8100 must
# not overwrite each other's session and CSRF cookies.
SESSION_COOKIE_NAME = "progbat_sessionid"
CSRF_COOKIE_NAME = "progbat_csrftoken"

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

REST_FRAMEWORK = common.rest_framework(
    authentication="oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    permission="rest_framework.permissions.IsAuthenticated",
    exception_handler="sandboxes.progbat.api.errors.exception_handler")

LOGGING = common.logging_for("sandboxes.progbat")
