"""The only module that speaks HTTP to ProGBat (DESIGN §5): OAuth2 with authlib, then the API.

Every call has a timeout; transport failures and 5xx become ``PartnerUnavailable``, a 401
``PartnerUnauthorized``, any other refusal ``PartnerRejected(code, detail)``. Tokens are never
logged.
"""

from dataclasses import dataclass
from datetime import datetime

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.utils.dateparse import parse_datetime

from partners.common.exceptions import PartnerRejected, PartnerUnavailable
from partners.common.http import Download, file_call, json_call

LOCK_BATCH_MAX = 1000  # invoices per POST /api/v1/invoices/lock (DESIGN §5.2)


@dataclass(frozen=True)
class Account:
    id: str
    siren: str
    name: str
    plan: str
    licence_status: str
    trial_ends_at: datetime | None

    @classmethod
    def from_json(cls, data):
        return cls(id=data["id"], siren=data["siren"], name=data["name"],
                   plan=data.get("plan") or "", licence_status=data.get("licence_status") or "",
                   trial_ends_at=parse_datetime(data["trial_ends_at"])
                   if data.get("trial_ends_at") else None)


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


def _oauth_session(redirect_uri=None, **kwargs):
    return OAuth2Session(settings.PROGBAT_CLIENT_ID, settings.PROGBAT_CLIENT_SECRET,
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_post", **kwargs)


def authorization_request(redirect_uri) -> AuthorizationRequest:
    """The ProGBat login URL, with a fresh ``state`` and PKCE S256 verifier to keep."""
    code_verifier = generate_token(64)
    session = _oauth_session(redirect_uri)
    url, state = session.create_authorization_url(
        f"{settings.PROGBAT_BASE_URL}/oauth/authorize", code_verifier=code_verifier)
    return AuthorizationRequest(url=url, state=state, code_verifier=code_verifier)


def _token_call(method, *args, **kwargs):
    try:
        return method(*args, timeout=settings.PROGBAT_TIMEOUT_SECONDS, **kwargs)
    except OAuthError as error:
        raise PartnerRejected(error.error or "oauth_error", error.description or "") from None
    except requests.RequestException as error:
        raise PartnerUnavailable(type(error).__name__) from None
    except ValueError as error:  # a non-JSON answer, e.g. a 500 page
        raise PartnerUnavailable(f"invalid token response: {type(error).__name__}") from None


def exchange_code(*, code, redirect_uri, code_verifier) -> dict:
    session = _oauth_session(redirect_uri)
    return _token_call(session.fetch_token, f"{settings.PROGBAT_BASE_URL}/oauth/token",
                       grant_type="authorization_code", code=code,
                       code_verifier=code_verifier)


def refresh(refresh_token) -> dict:
    """New tokens; ProGBat rotates refresh tokens, so the given one is spent after this."""
    session = _oauth_session()
    return _token_call(session.refresh_token, f"{settings.PROGBAT_BASE_URL}/oauth/token",
                       refresh_token=refresh_token)


class ProgbatClient:
    """The API of §5.2, called with the access token of a firm user's connection."""

    def __init__(self, access_token):
        self._access_token = access_token
        self.base_url = settings.PROGBAT_BASE_URL
        self.timeout = settings.PROGBAT_TIMEOUT_SECONDS

    def __repr__(self):
        return f"<ProgbatClient {self.base_url}>"

    def _call(self, method, path, *, json=None, params=None):
        return json_call("ProGBat", method, f"{self.base_url}/api/v1{path}", json=json,
                         params=params, timeout=self.timeout,
                         headers={"Authorization": f"Bearer {self._access_token}"})

    def find_accounts(self, *, siren) -> list[Account]:
        _status, body = self._call("GET", "/accounts", params={"siren": siren})
        return [Account.from_json(item) for item in body.get("results", [])]

    def create_account(self, *, siret, name, address, dirigeant, plan, trial_days) -> Account:
        _status, body = self._call("POST", "/accounts", json={
            "siret": siret, "name": name, "address": address, "dirigeant": dirigeant,
            "plan": plan, "trial_days": trial_days})
        return Account.from_json(body)

    def link_account(self, *, account_id, username, password) -> Account:
        _status, body = self._call("POST", f"/accounts/{account_id}/link",
                                   json={"username": username, "password": password})
        return Account.from_json(body)

    def add_user(self, *, account_id, email, role) -> bool:
        """Give ``email`` access to the account; False when it already had one."""
        status, _body = self._call("POST", f"/accounts/{account_id}/users",
                                   json={"email": email, "role": role})
        return status == 201

    def get_account(self, *, account_id) -> Account:
        _status, body = self._call("GET", f"/accounts/{account_id}")
        return Account.from_json(body)

    def sso_url(self, *, account_id, email) -> str:
        _status, body = self._call("POST", f"/accounts/{account_id}/sso", json={"email": email})
        return body["url"]

    def list_invoices(self, *, account_id, validated_from, validated_to,
                      cursor=None) -> tuple[list[dict], str | None]:
        """One page of the account's invoices validated between two days (inclusive), each
        as a webhook's ``data.invoice``; with the cursor of the next page (None on the last)."""
        params = {"account_id": account_id, "validated_from": validated_from.isoformat(),
                  "validated_to": validated_to.isoformat()}
        if cursor:
            params["cursor"] = cursor
        _status, body = self._call("GET", "/invoices", params=params)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise PartnerUnavailable("invalid invoice list")
        next_cursor = body.get("next_cursor")
        return results, next_cursor if isinstance(next_cursor, str) and next_cursor else None

    def lock_invoice(self, *, invoice_id, export_id) -> None:
        self._call("POST", f"/invoices/{invoice_id}/lock", json={"export_id": export_id})

    def resend_invoice(self, invoice_id) -> None:
        """ProGBat answers 202 and re-emits ``invoice.updated`` (a new version) by webhook."""
        self._call("POST", f"/invoices/{invoice_id}/resend")

    def lock_invoices(self, *, export_id, invoice_ids) -> dict:
        """Lock up to ``LOCK_BATCH_MAX`` invoices in one call (idempotent at ProGBat):
        ``{"locked": [...], "already_locked": [...], "unknown": [...]}``."""
        if len(invoice_ids) > LOCK_BATCH_MAX:
            raise ValueError(f"at most {LOCK_BATCH_MAX} invoices per lock call")
        _status, body = self._call("POST", "/invoices/lock", json={
            "export_id": export_id, "invoice_ids": list(invoice_ids)})
        return {key: body.get(key, []) for key in ("locked", "already_locked", "unknown")}

    def invoice_document(self, invoice_id, *, max_bytes) -> Download:
        """The invoice's PDF, the *pièce* (``GET /api/v1/invoices/{id}/document``), read up to
        ``max_bytes`` (beyond: ``too_large``, nothing kept)."""
        return file_call("ProGBat", "GET", f"{self.base_url}/api/v1/invoices/{invoice_id}/document",
                         timeout=self.timeout, max_bytes=max_bytes,
                         headers={"Authorization": f"Bearer {self._access_token}"})
