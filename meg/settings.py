"""MEG settings: one module, every value from the environment.

The defaults give the embedded mode (`make run`: SQLite, eager Celery, console e-mail); production
sets ``MEG_ENV=production`` and the variables listed in the README.
"""

import base64
import hashlib
import json
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


MEG_ENV = env("MEG_ENV", "development")
PRODUCTION = MEG_ENV == "production"


def development_fernet_key(secret_key):
    """The embedded mode's Fernet key, derived from its secret key (no variable to set)."""
    return base64.urlsafe_b64encode(
        hashlib.sha256(f"{secret_key}:fernet".encode()).digest()).decode()


# The secrets' development values are public (this file, the README, the sandboxes): production
# never falls back to them, and refuses to start when one is set anyway (meg/checks.py).
MEG_DEVELOPMENT_SECRETS = {
    "DJANGO_SECRET_KEY": "meg-insecure-development-key-only",
    "PROGBAT_CLIENT_SECRET": "meg-dev-secret",
    "PROGBAT_WEBHOOK_SECRET": "whsec_bWVnLXByb2diYXQtZGV2ZWxvcG1lbnQtc2VjcmV0ISE=",
    "LIBEO_OIDC_CLIENT_SECRET": "libeo-sandbox-secret",
}
MEG_DEVELOPMENT_SECRETS["MEG_FERNET_KEYS"] = development_fernet_key(
    MEG_DEVELOPMENT_SECRETS["DJANGO_SECRET_KEY"])


def secret(name):
    """A secret from the environment; without it, its development value, or "" in production."""
    return env(name, "" if PRODUCTION else MEG_DEVELOPMENT_SECRETS[name])


DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
# Empty in production when unset: the check meg.E003 then names the variable.
SECRET_KEY = secret("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "csp",
    "meg",
    "users",
    "firms",
    "audit",
    "companies",
    "accounting",
    "purchases",
    "bridges",  # after accounting and purchases: it joins them (DESIGN §2)
    "partners.common",
    "partners.progbat",
    "partners.libeo",
    "notifications",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "meg.csp.ContentSecurityPolicyMiddleware",
    "meg.middleware.NulGuardMiddleware",
    # Partners' signed webhooks skip sessions, users, tenancy and messages (meg/lean.py).
    "meg.lean.LeanPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # The user's language, else French: never the browser's (meg/locale.py).
    "meg.locale.ChosenLanguageMiddleware",
    "meg.tenancy.TenantScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "meg.mfa.MFAPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if PRODUCTION:  # gunicorn serves the collected static files itself
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "meg.urls"
WSGI_APPLICATION = "meg.wsgi.application"

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
                "meg.context_processors.navigation",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'meg.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded mode's web server and worker share one file: wait for locks, never fail.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail login, no public sign-up (firms create their users), rate limits on.
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "users.adapters.user_display"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_RATE_LIMITS = {
    # Every login attempt of one client address: generous, an office may sit behind one NAT.
    "login": "60/m/ip",
    # Failures count per account *and* client address (users.adapters): five wrong passwords
    # lock that client out of that account for 5 minutes, and nobody else out of anything.
    "login_failed": "5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
# The client address behind MEG's reverse proxy (meg.client_ip), for the rate limits above.
# The header (e.g. "X-Forwarded-For", "X-Real-IP") is read only on requests that come from one
# of MEG_TRUSTED_PROXIES (addresses or networks); without a header, REMOTE_ADDR is the client.
MEG_TRUSTED_PROXY_HEADER = env("MEG_TRUSTED_PROXY_HEADER", "")
MEG_TRUSTED_PROXIES = env_list("MEG_TRUSTED_PROXIES", "127.0.0.1,::1")

# Multi-factor authentication (allauth.mfa): TOTP apps, recovery codes, WebAuthn keys and
# passkeys. Who must have it is MEG's policy (meg/mfa.py): the firm users of a firm that
# requires it, and the Django admin's staff in production.
MFA_ADAPTER = "meg.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "MEG"
MFA_TOTP_TOLERANCE = 1  # one 30 s step either side: phones' clocks drift
# allauth refuses MFA to unverified addresses against squatting at sign-up; MEG has no sign-up
# (firms create the accounts), and it verifies no address, so this would lock everyone out.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Browsers allow WebAuthn on http://localhost and 127.0.0.1; production is https only.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("MEG_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Private documents (invoices' PDFs, pièces, exports with their pièces): no URL, served
    # by views that check access. Local files by default; in production an S3-compatible
    # bucket through django-storages (README, « Documents in production »).
    "documents": {"BACKEND": env("MEG_DOCUMENTS_STORAGE", "meg.storage.PrivateStorage"),
                  "OPTIONS": json.loads(env("MEG_DOCUMENTS_STORAGE_OPTIONS", "") or "{}")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEG_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Empty: "documents" next to MEDIA_ROOT (never under it, whatever serves /media/).
MEG_DOCUMENTS_ROOT = env("MEG_DOCUMENTS_ROOT", "")
# Uploaded documents (an invoice's PDF) larger than this are refused.
MEG_MAX_UPLOAD_MB = int(env("MEG_MAX_UPLOAD_MB", "20"))

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "MEG <no-reply@meg.test>")
# The address people reach MEG at, for the links in e-mails.
MEG_BASE_URL = env("MEG_BASE_URL", "http://127.0.0.1:8000")

# REST API tokens (django-rest-knox, our model users.ApiToken): only a digest is stored.
KNOX_TOKEN_MODEL = "users.ApiToken"
# knox's migrations would create its own table even though our model replaces it (and a table
# Django does not know of breaks `flush`): knox has no table at all.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": None,  # no expiry unless the token's creator chose one
    "TOKEN_PREFIX": "meg_",  # recognisable by secret scanners
    "AUTH_HEADER_PREFIX": "Token",  # `Authorization: Token <token>`, as before (DESIGN §11)
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MEG API",
    "DESCRIPTION": "API REST de MEG, restreinte à ce que l'utilisateur du jeton peut voir.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a ``status``: each enum has a name of its own in the schema (the
    # exports' keeps the one it had before payments were listed).
    "ENUM_NAME_OVERRIDES": {"PaymentStatusEnum": "purchases.models.PaymentStatus",
                            "StatusEnum": "accounting.models.ExportBatch.Status"},
}

# Celery: a real broker when CELERY_BROKER_URL is set, else tasks run in-process (embedded mode).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# An outbox delivery's lease (partners/common/outbox.py): no shorter than a task may run, so
# that another worker never takes over a message whose worker is still calling the partner.
OUTBOX_LEASE_SECONDS = int(env("OUTBOX_LEASE_SECONDS", str(CELERY_TASK_TIME_LIMIT)))
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "inbox-sweep": {"task": "accounting.tasks.inbox_sweep", "schedule": 30.0},
    "outbox-sweep": {"task": "partners.common.tasks.outbox_sweep", "schedule": 60.0},
    "export-sweep": {"task": "accounting.tasks.export_sweep", "schedule": 60.0},
    "batch-export-sweep": {"task": "accounting.tasks.batch_export_sweep", "schedule": 60.0},
    # Cheap when nothing is due (one indexed query); each payment has its own next check.
    "libeo-payments-poll": {"task": "partners.libeo.tasks.libeo_payments_poll",
                            "schedule": 5.0, "options": {"expires": 5.0}},
    "journals-verify": {"task": "accounting.tasks.journals_verify",
                        "schedule": crontab(hour=3, minute=17)},
    "notifications-digest": {"task": "notifications.tasks.notifications_digest",
                             "schedule": crontab(hour=7, minute=0)},
    "events-refused-notify": {"task": "accounting.tasks.events_refused_notify",
                              "schedule": crontab(minute=5)},
    "closing-reminders": {"task": "accounting.tasks.closing_reminders",
                          "schedule": crontab(hour=6, minute=30)},
    "progbat-trials-remind": {"task": "partners.progbat.tasks.trials_remind",
                              "schedule": crontab(hour=8, minute=0)},
    "progbat-backfill-sweep": {"task": "partners.progbat.tasks.progbat_backfill_sweep",
                               "schedule": 60.0},
}
if CELERY_BROKER_URL.startswith("redis"):
    # A task whose worker died unacknowledged is redelivered after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))}
elif CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded mode's real worker: a broker in plain files, no server to install.
    _broker_dir = BASE_DIR / "var" / "celery"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(_broker_dir / "queue"),
                                       "data_folder_out": str(_broker_dir / "queue"),
                                       "processed_folder": str(_broker_dir / "processed"),
                                       "control_folder": str(_broker_dir / "control"),
                                       "store_processed": False}
    CELERY_BEAT_SCHEDULE_FILENAME = str(_broker_dir / "beat-schedule")

# Production hardening (checked by `manage.py check --deploy` in the test suite).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp), the same in every mode so that development and the
# browser tests live under it: scripts and styles only from MEG's own static files (no inline
# script, style or event handler: static/js/meg.js does what they did), nothing embedded, no
# framing. meg.csp adds the partners' origins that forms redirect to.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Pico CSS draws its icons as data: SVGs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Dashboard: a licence ending within this many days counts as "à expiration".
MEG_LICENCE_EXPIRY_WARNING_DAYS = 30

# Invitations (companies.invitations): how long a link stays valid, and the address that starts
# links in e-mails sent outside a request (pages use their own).
MEG_INVITATION_DAYS = int(env("MEG_INVITATION_DAYS", "14"))
MEG_BASE_URL = env("MEG_BASE_URL", "http://127.0.0.1:8000")

# Secrets at rest (partner tokens, API keys): Fernet keys, newest first, comma-separated.
MEG_FERNET_KEYS = env_list("MEG_FERNET_KEYS")
if not MEG_FERNET_KEYS and not PRODUCTION:
    MEG_FERNET_KEYS = [development_fernet_key(SECRET_KEY)]

# ProGBat (DESIGN §5). The defaults talk to the sandbox started by `make run`.
PROGBAT_BASE_URL = env("PROGBAT_BASE_URL", "http://127.0.0.1:8100").rstrip("/")
PROGBAT_CLIENT_ID = env("PROGBAT_CLIENT_ID", "meg-dev")
PROGBAT_CLIENT_SECRET = secret("PROGBAT_CLIENT_SECRET")
# The OAuth redirect URI registered at ProGBat; empty: built from the request's host.
PROGBAT_REDIRECT_URI = env("PROGBAT_REDIRECT_URI", "")
PROGBAT_WEBHOOK_SECRET = secret("PROGBAT_WEBHOOK_SECRET")
PROGBAT_TIMEOUT_SECONDS = float(env("PROGBAT_TIMEOUT_SECONDS", "10"))
PROGBAT_TRIAL_DAYS = int(env("PROGBAT_TRIAL_DAYS", "30"))

# Libeo (DESIGN §6). The defaults talk to the sandbox started by `make run`.
LIBEO_BASE_URL = env("LIBEO_BASE_URL", "http://127.0.0.1:8200").rstrip("/")
LIBEO_TIMEOUT_SECONDS = float(env("LIBEO_TIMEOUT_SECONDS", "10"))


# Development's OpenID signing key, generated once; production refuses it (meg/checks.py).
MEG_OIDC_DEVELOPMENT_KEY_PATH = BASE_DIR / "var" / "oidc-dev-key.pem"


def _oidc_private_key():
    """MEG's OpenID signing key (PEM). Development keeps a generated one under var/."""
    key = env("MEG_OIDC_RSA_PRIVATE_KEY", "")
    if key or PRODUCTION:
        return key.replace("\\n", "\n")
    path = MEG_OIDC_DEVELOPMENT_KEY_PATH
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        path.parent.mkdir(parents=True, exist_ok=True)
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        path.write_bytes(pem)
    return path.read_text()


# MEG as an OpenID Connect provider (django-oauth-toolkit): issuer <MEG>/o
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "partners.libeo.oidc.MegOIDCValidator",
    # What the consent screen lists; each claim goes out only under its scope
    # (partners.libeo.oidc.MegOIDCValidator.oidc_claim_scope).
    "SCOPES": {"openid": _("Un identifiant de votre compte MEG (un numéro, sans autre donnée)"),
               "email": _("Votre adresse e-mail"), "profile": _("Votre nom"),
               "meg_company": _("Le SIREN et le nom de l'entreprise pour laquelle vous vous "
                                "connectez")},
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "REQUEST_APPROVAL_PROMPT": "force",
    # RFC 9700 (OAuth 2.0 security best practice), ahead of django-oauth-toolkit 4.0.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Loopback http redirects exist only in development (the sandboxes).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
}
# Client ids of the resource servers allowed to introspect tokens at /o/introspect/ (with their
# client credentials); empty: nobody.
MEG_OIDC_INTROSPECTION_CLIENTS = env_list("MEG_OIDC_INTROSPECTION_CLIENTS")
LIBEO_OIDC_CLIENT_ID = env("LIBEO_OIDC_CLIENT_ID", "libeo-sandbox")
LIBEO_OIDC_CLIENT_SECRET = secret("LIBEO_OIDC_CLIENT_SECRET")
LIBEO_OIDC_REDIRECT_URIS = env(
    "LIBEO_OIDC_REDIRECT_URIS",
    "http://127.0.0.1:8200/connect/meg/callback http://localhost:8200/connect/meg/callback")
