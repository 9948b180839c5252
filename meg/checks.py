"""System checks for settings that `check --deploy` should refuse in production."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secrets_at_rest_keys(app_configs, **kwargs):
    if settings.PRODUCTION and not settings.MEG_FERNET_KEYS:
        return [Error("MEG_FERNET_KEYS is empty: partner tokens and API keys cannot be "
                      "encrypted at rest.", hint="Generate one with Fernet.generate_key().",
                      id="meg.E001")]
    return []


@register(Tags.security, deploy=True)
def openid_signing_key(app_configs, **kwargs):
    if settings.PRODUCTION and not settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY"):
        return [Error("MEG_OIDC_RSA_PRIVATE_KEY is empty: MEG cannot sign OpenID ID tokens "
                      "(\"Me connecter avec MEG\").", id="meg.E002")]
    return []
