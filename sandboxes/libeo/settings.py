"""Settings of the Libeo sandbox, driven only by ``LIBEO_*`` and ``MEG_OIDC_*`` variables; what
both sandboxes share is in ``sandboxes.common.settings``."""

import os

from sandboxes.common import settings as common
from sandboxes.common.settings import *  # noqa: F403 (the skeleton, completed below)

SANDBOX_NAME = "Libeo"
SANDBOX_BASE_TEMPLATE = "libeo/base.html"
SECRET_KEY = "libeo-sandbox-not-a-secret"

INSTALLED_APPS = common.installed_apps("sandboxes.libeo.apps.LibeoSandboxConfig")
MIDDLEWARE = common.middleware("sandboxes.libeo.control.FaultInjectionMiddleware")
ROOT_URLCONF = "sandboxes.libeo.urls"
DATABASES = common.sqlite_database("LIBEO_SANDBOX_DB", "var/libeo-sandbox.sqlite3")

LOGIN_REDIRECT_URL = "companies"
# Browsers share cookies across ports of one host: MEG on :8000, ProGBat on :8100 and Libeo
# on :8200 must not overwrite each other's session and CSRF cookies.
SESSION_COOKIE_NAME = "libeo_sessionid"
CSRF_COOKIE_NAME = "libeo_csrftoken"

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
# Fast mode: scheduled payments are paid this many seconds after they were made (unset: at
# their execution date, as at Libeo). ``POST /_sandbox/clock`` changes it at run time.
LIBEO_SANDBOX_PAY_AFTER_SECONDS = (
    float(os.environ["LIBEO_SANDBOX_PAY_AFTER_SECONDS"])
    if os.environ.get("LIBEO_SANDBOX_PAY_AFTER_SECONDS") else None)

REST_FRAMEWORK = common.rest_framework(
    authentication="sandboxes.libeo.api.auth.ApiKeyAuthentication",
    permission="sandboxes.libeo.api.auth.HasApiKey",
    exception_handler="sandboxes.libeo.api.errors.exception_handler")

LOGGING = common.logging_for("sandboxes.libeo")
