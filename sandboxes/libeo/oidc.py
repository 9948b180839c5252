"""Libeo as an OpenID Connect client of MEG, for "Me connecter avec MEG" (DESIGN §6).

MEG is the provider. Authorization code flow with PKCE (S256), ``state`` and ``nonce``: authlib's
OAuth2Session builds the request and redeems the code; the ID token is checked with MEG's JWKS
(RS256 only) and authlib's OIDC claim rules (iss, aud, exp, iat, nonce, azp, at_hash). The
provider's metadata and keys are fetched on every login: they are two small local requests,
and MEG may have restarted with new keys since the last one.
"""

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
CLOCK_LEEWAY_SECONDS = 60
ID_TOKEN_ALGORITHMS = ["RS256"]


class OidcError(Exception):
    """The login with MEG cannot go on; the message is French, for the person."""


def _get_json(url):
    response = requests.get(url, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.json()


def provider_metadata():
    """MEG's discovery document, whose issuer must be the one Libeo was configured with."""
    issuer = settings.MEG_OIDC_ISSUER
    try:
        metadata = _get_json(f"{issuer}/.well-known/openid-configuration")
    except (requests.RequestException, ValueError) as error:
        logger.warning("MEG OIDC discovery failed: %s", error)
        raise OidcError(f"MEG ne répond pas ({issuer}). Réessayez dans un instant.") from error
    missing = [key for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
               if not isinstance(metadata.get(key), str)]
    if missing or metadata["issuer"].rstrip("/") != issuer:
        logger.warning("MEG OIDC discovery unusable: issuer=%r missing=%s",
                       metadata.get("issuer"), missing)
        raise OidcError("La configuration OpenID Connect publiée par MEG est inutilisable.")
    return metadata


def _client(redirect_uri):
    return OAuth2Session(
        settings.MEG_OIDC_CLIENT_ID, settings.MEG_OIDC_CLIENT_SECRET,
        scope=settings.MEG_OIDC_SCOPES, redirect_uri=redirect_uri,
        code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")


def authorization_request(redirect_uri):
    """The URL that sends the browser to MEG, and what the callback will need to check."""
    metadata = provider_metadata()
    verifier, nonce = generate_token(48), generate_token(24)
    url, state = _client(redirect_uri).create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    return url, {"state": state, "nonce": nonce, "code_verifier": verifier,
                 "redirect_uri": redirect_uri}


def authenticated_claims(flow, code):
    """Redeem the code at MEG and return the claims of a valid ID token, or raise OidcError."""
    metadata = provider_metadata()
    client = _client(flow["redirect_uri"])
    try:
        with client:
            token = client.fetch_token(metadata["token_endpoint"], code=code,
                                       code_verifier=flow["code_verifier"],
                                       timeout=TIMEOUT_SECONDS)
    except (requests.RequestException, AuthlibBaseError, ValueError) as error:
        logger.warning("MEG OIDC token request failed: %s", error)
        raise OidcError("MEG a refusé de confirmer votre identité (code invalide ou "
                        "expiré). Recommencez depuis MEG.") from error
    if not token.get("id_token"):
        raise OidcError("MEG n'a pas fourni de jeton d'identité (portée « openid »).")
    try:
        keys = KeySet.import_key_set(_get_json(metadata["jwks_uri"]))
        decoded = jwt.decode(token["id_token"], keys, algorithms=ID_TOKEN_ALGORITHMS)
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": settings.MEG_OIDC_CLIENT_ID},
                "sub": {"essential": True},
                "nonce": {"essential": True, "value": flow["nonce"]},
            },
            params={"nonce": flow["nonce"], "client_id": settings.MEG_OIDC_CLIENT_ID,
                    "access_token": token.get("access_token")})
        claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
    except (requests.RequestException, ValueError, JoseError) as error:
        logger.warning("MEG ID token refused: %r", error)
        raise OidcError("Le jeton d'identité reçu de MEG est invalide (signature, émetteur, "
                        "destinataire, nonce ou validité). Recommencez depuis MEG.") from error
    return dict(claims)
