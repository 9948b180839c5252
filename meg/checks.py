"""System checks: production refuses to start without its secrets, or with development ones.

The secrets' checks are not deploy-only: they run with every command that checks (``check``,
``runserver``, ``migrate``). gunicorn and Celery run no system checks, so ``meg.wsgi``,
``meg.asgi`` and ``meg.celery`` call ``refuse_to_start_without_secrets`` before serving.
"""

import base64
import binascii
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

HINT = "Set it in the environment: the README's « Production » section says how to generate it."


def _secret_key():
    try:
        return settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to read an empty SECRET_KEY
        return ""


def _fernet_problem(key):
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except (ValueError, binascii.Error):
        return "is not a list of Fernet keys (32 url-safe base64-encoded bytes each)"
    return None


def _webhook_problem(secret):
    try:
        raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (ValueError, binascii.Error):
        return "is not a Standard Webhooks secret (whsec_ followed by base64)"
    if len(raw) < 24:
        return "is too short: a webhook secret has at least 24 random bytes"
    return None


def _rsa_problem(pem):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return "is not an unencrypted PEM private key"
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        return "is not an RSA key of at least 2048 bits"
    return None


def _development_rsa_key():
    path = settings.MEG_OIDC_DEVELOPMENT_KEY_PATH
    return path.read_text().strip() if path.exists() else None


# Every secret: (its variable, the value MEG uses (a list for MEG_FERNET_KEYS), its development
# value(s), what is wrong with a value of the wrong shape, the check id when it is missing).
def _secrets():
    development = settings.MEG_DEVELOPMENT_SECRETS
    return [
        ("DJANGO_SECRET_KEY", _secret_key(), [development["DJANGO_SECRET_KEY"]], None,
         "meg.E003"),
        ("MEG_FERNET_KEYS", settings.MEG_FERNET_KEYS, [development["MEG_FERNET_KEYS"]],
         _fernet_problem, "meg.E001"),
        ("PROGBAT_CLIENT_SECRET", settings.PROGBAT_CLIENT_SECRET,
         [development["PROGBAT_CLIENT_SECRET"]], None, "meg.E003"),
        ("PROGBAT_WEBHOOK_SECRET", settings.PROGBAT_WEBHOOK_SECRET,
         [development["PROGBAT_WEBHOOK_SECRET"]], _webhook_problem, "meg.E003"),
        ("LIBEO_OIDC_CLIENT_SECRET", settings.LIBEO_OIDC_CLIENT_SECRET,
         [development["LIBEO_OIDC_CLIENT_SECRET"]], None, "meg.E003"),
        ("MEG_OIDC_RSA_PRIVATE_KEY", settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY", ""),
         [_development_rsa_key()], _rsa_problem, "meg.E002"),
    ]


def _as_list(value):
    return list(value) if isinstance(value, list | tuple) else [value]


@register(Tags.security)
def production_secrets(app_configs, **kwargs):
    """meg.E001–E003: a secret is missing; meg.E004: it is a development value; meg.E005: it
    cannot be what it stands for (not a Fernet key, not an RSA key…)."""
    if not settings.PRODUCTION:
        return []
    errors = []
    for name, value, development_values, problem_of, missing_id in _secrets():
        values = [item.strip() for item in _as_list(value) if item and item.strip()]
        if not values:
            errors.append(Error(
                f"{name} is not set: with MEG_ENV=production every secret comes from the "
                "environment.", hint=HINT, id=missing_id))
        elif any(item in development_values for item in values):
            errors.append(Error(
                f"{name} is a development value, public in MEG's sources and README: "
                "generate a new one.", hint=HINT, id="meg.E004"))
        elif problem_of and (problem := next(filter(None, map(problem_of, values)), None)):
            errors.append(Error(f"{name} {problem}.", hint=HINT, id="meg.E005"))
    return errors


def refuse_to_start_without_secrets():
    """For the servers that run no system checks: raise as ``check`` would fail."""
    errors = production_secrets(None)
    if errors:
        raise ImproperlyConfigured(
            "MEG refuses to start (MEG_ENV=production):\n" + "\n".join(
                f"{error.id}: {error.msg}" for error in errors))


def _loopback(url):
    return (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


@register(Tags.security, deploy=True)
def production_partners(app_configs, **kwargs):
    """meg.W001: production still talks to the loopback sandboxes, or as their client ids."""
    if not settings.PRODUCTION:
        return []
    sandbox_values = {
        "PROGBAT_BASE_URL": _loopback(settings.PROGBAT_BASE_URL),
        "PROGBAT_CLIENT_ID": settings.PROGBAT_CLIENT_ID == "meg-dev",
        "LIBEO_BASE_URL": _loopback(settings.LIBEO_BASE_URL),
        "LIBEO_OIDC_CLIENT_ID": settings.LIBEO_OIDC_CLIENT_ID == "libeo-sandbox",
        "LIBEO_OIDC_REDIRECT_URIS": any(
            _loopback(uri) for uri in settings.LIBEO_OIDC_REDIRECT_URIS.split()),
    }
    return [Warning(f"{name} is still the development sandbox's.",
                    hint="Set the partner's production value in the environment.",
                    id="meg.W001")
            for name, is_sandbox in sandbox_values.items() if is_sandbox]
