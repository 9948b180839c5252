"""The only module that speaks HTTP to Libeo (DESIGN §6). Data flows MEG → Libeo only."""

import datetime
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils.dateparse import parse_datetime

from partners.common.http import json_call


@dataclass(frozen=True)
class Me:
    siren: str
    name: str
    plan: str
    users: list
    payments_this_month: int
    payments_limit: int | None
    account_id: str = ""  # the Libeo account the key belongs to


@dataclass(frozen=True)
class PaymentState:
    """What Libeo says of a payment: ``scheduled``, ``paid`` (``executed_at``: when the money
    left), ``failed`` or ``cancelled`` (``failure_reason``, Libeo's words)."""

    id: str
    status: str
    executed_at: datetime.datetime | None
    failure_reason: str


def _request(method, path, *, api_key=None, json=None, headers=None):
    headers = dict(headers or {})
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return json_call("Libeo", method, f"{settings.LIBEO_BASE_URL}{path}", json=json,
                     headers=headers, timeout=settings.LIBEO_TIMEOUT_SECONDS)


def me(api_key) -> Me:
    _status, body = _request("GET", "/api/v1/me", api_key=api_key)
    return Me(siren=body["company"]["siren"], name=body["company"]["name"], plan=body["plan"],
              users=body.get("users", []), payments_this_month=body.get("payments_this_month", 0),
              payments_limit=body.get("payments_limit"),
              account_id=str(body.get("account_id") or ""))


def upsert_invoice(api_key, *, external_id, invoice) -> bool:
    """Create or update the invoice at Libeo; True when it was created."""
    status, _body = _request("PUT", f"/api/v1/invoices/{external_id}", api_key=api_key,
                             json=invoice)
    return status == 201


def create_payment(api_key, *, idempotency_key, invoice_external_id, amount, execution_date):
    _status, body = _request("POST", "/api/v1/payments", api_key=api_key,
                             headers={"Idempotency-Key": idempotency_key},
                             json={"invoice_external_id": invoice_external_id,
                                   "amount": amount, "execution_date": execution_date})
    return body


def payment_state(body) -> PaymentState:
    """A payment as Libeo answers it (``POST /payments`` or ``GET /payments/{id}``)."""
    try:
        executed_at = parse_datetime(body.get("executed_at") or "")
    except ValueError:
        executed_at = None
    return PaymentState(id=str(body.get("id", "")), status=str(body.get("status", "")),
                        executed_at=executed_at,
                        failure_reason=str(body.get("failure_reason") or ""))


def payment_status(api_key, payment_id) -> PaymentState:
    """``GET /api/v1/payments/{id}``: what became of a payment (DESIGN §6, 2026-11-30)."""
    _status, body = _request("GET", f"/api/v1/payments/{quote(payment_id, safe='')}",
                             api_key=api_key)
    return payment_state(body)


def exchange_code(code) -> str:
    """The API key of an account created through "Me connecter avec MEG"."""
    _status, body = _request("POST", "/api/v1/meg/connections/exchange", json={"code": code})
    return body["api_key"]


def connect_url(return_to) -> str:
    return f"{settings.LIBEO_BASE_URL}/connect/meg?{urlencode({'return_to': return_to})}"
