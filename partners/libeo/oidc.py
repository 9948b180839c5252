"""MEG as an OpenID Connect provider (django-oauth-toolkit), for "Me connecter avec MEG".

The ID token tells Libeo who the user is and which company they were paying for, so that
Libeo can create that company's account. A claim goes out only under the scope that names it,
and an authorization code presented twice revokes what it gave the first time.
"""

import datetime
import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
    revoke_access_token,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from .models import LibeoConnectIntent, RedeemedAuthorizationCode

logger = logging.getLogger(__name__)

INTENT_LIFETIME = datetime.timedelta(minutes=30)

# The scope Libeo asks for to learn the company (settings.OAUTH2_PROVIDER["SCOPES"]).
COMPANY_SCOPE = "meg_company"


def _digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def user_claims(user):
    """Every claim MEG can say about ``user``; the validator keeps those of granted scopes."""
    claims = {"email": user.email, "email_verified": True, "given_name": user.first_name,
              "family_name": user.last_name, "name": user.display_name}
    with scopes_disabled():
        intent = (LibeoConnectIntent.objects.select_related("company")
                  .filter(user=user, created_at__gte=timezone.now() - INTENT_LIFETIME)
                  .first())
    if intent is not None:
        claims.update(meg_company_siren=intent.company.siren,
                      meg_company_name=intent.company.name)
    return claims


def _revoke(*, access_token_id, token_family):
    """Revoke the access token, the refresh tokens of its family (rotated ones included) and
    their access tokens."""
    if token_family:
        get_refresh_token_model().revoke_family(token_family)
    access_token = get_access_token_model().objects.filter(pk=access_token_id).first()
    if access_token is not None:
        revoke_access_token(access_token)


@transaction.atomic
def redeemed_code_replayed(*, redeemed):
    """The code of ``redeemed`` came back: revoke every token it gave (RFC 6749 §4.1.2)."""
    _revoke(access_token_id=redeemed.access_token_id, token_family=redeemed.token_family)
    RedeemedAuthorizationCode.objects.filter(pk=redeemed.pk).update(replayed_at=timezone.now())
    logger.warning("OIDC authorization code replayed: tokens of client %s for user %s revoked",
                   redeemed.client_id, redeemed.user_id)


class MegOIDCValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "meg_company_siren": COMPANY_SCOPE,
        "meg_company_name": COMPANY_SCOPE,
    }

    def get_additional_claims(self, request):
        return user_claims(request.user)

    def get_discovery_claims(self, request):
        return ["sub", "email", "email_verified", "name", "given_name", "family_name",
                "meg_company_siren", "meg_company_name"]

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        # Tokens are for people who consented: never for a client on its own behalf
        # (client credentials), whatever grant type an application was given.
        return (grant_type in ("authorization_code", "refresh_token")
                and super().validate_grant_type(client_id, grant_type, client, request,
                                                *args, **kwargs))

    # RFC 6749 §4.1.2: a code used twice is refused, and what it gave is revoked.

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        redeemed = RedeemedAuthorizationCode.objects.filter(
            code_digest=_digest(code), client_id=client.client_id).first()
        if redeemed is not None:
            redeemed_code_replayed(redeemed=redeemed)
        return False

    def save_bearer_token(self, token, request, *args, **kwargs):
        result = super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            # Remembered until the code is invalidated, just after (oauthlib's order).
            request.meg_issued = {
                "access_token_id": get_access_token_model().objects.filter(
                    token_checksum=_digest(token["access_token"])).values_list(
                    "pk", flat=True).first(),
                "token_family": get_refresh_token_model().objects.filter(
                    token_checksum=_digest(token["refresh_token"])).values_list(
                    "token_family", flat=True).first() if token.get("refresh_token") else None,
            }
        return result

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        issued = getattr(request, "meg_issued", None) or {}
        with transaction.atomic():
            deleted, _ = get_grant_model().objects.filter(
                code=code, application=request.client).delete()
            if deleted:
                RedeemedAuthorizationCode.objects.create(
                    code_digest=_digest(code), client_id=request.client.client_id,
                    user=request.user, access_token_id=issued.get("access_token_id"),
                    token_family=issued.get("token_family"))
        if deleted:
            return
        # Another exchange of the same code got there first (a concurrent replay): neither
        # this request's tokens nor that one's may stay valid.
        _revoke(access_token_id=issued.get("access_token_id"),
                token_family=issued.get("token_family"))
        first = RedeemedAuthorizationCode.objects.filter(
            code_digest=_digest(code), client_id=request.client.client_id).first()
        if first is not None:
            redeemed_code_replayed(redeemed=first)
        raise errors.InvalidGrantError(request=request)
