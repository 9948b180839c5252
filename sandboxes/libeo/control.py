"""Test controls, mounted under ``/_sandbox/`` only when LIBEO_SANDBOX_CONTROL=1.

They let integration tests and benchmarks break Libeo on purpose (a share of API calls failing
in chosen ways), read what MEG did to it, create companies with keys, and start again from the
seed. JSON in and out, no authentication.
"""

import random
import threading
import time
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from stdnum.fr import siren as siren_number

from sandboxes.common.errors import invalid_request, json_error
from sandboxes.common.formats import iso_utc
from sandboxes.common.views import json_body

from . import services
from .models import (
    ApiKey,
    Company,
    ExchangeCode,
    Invoice,
    Membership,
    Payment,
    Plan,
    secret_digest,
)
from .seed import seed

FAULT_KINDS = ("500", "500_after", "timeout", "timeout_after", "slow", "429")
TIMEOUT_SECONDS = 30
SLOW_SECONDS = 2
ME_PATHS = ("/api/v1/me", "/api/v1/me/")


class Faults:
    """The fault plan: which share of ``/api/v1`` calls fail, and how. One process, in memory.

    Draws come from one seeded generator under a lock, so a sequential client sees the same
    sequence of faults for the same seed.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.configure()

    def configure(self, rate=0.0, kinds=("500",), seed=None, except_me=False, retry_after=1):
        with self.lock:
            self.rate, self.kinds, self.seed, self.except_me = rate, list(kinds), seed, except_me
            self.retry_after = retry_after
            self.random = random.Random(seed)  # noqa: S311 (test fault draws, not secrets)
            self.injected = Counter()

    def draw(self, request_path):
        """The fault kind for this call, or None."""
        with self.lock:
            if self.rate <= 0 or (self.except_me and request_path in ME_PATHS):
                return None
            if self.random.random() >= self.rate:
                return None
            kind = self.random.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def as_dict(self):
        with self.lock:
            return {"rate": self.rate, "kinds": self.kinds, "seed": self.seed,
                    "except_me": self.except_me, "retry_after": self.retry_after,
                    "injected": dict(self.injected)}


faults = Faults()


def _server_error():
    response = json_error("server_error", "Panne simulée de Libeo.", 500)
    response._has_been_logged = True  # an injected fault is not an error of the sandbox
    return response


class FaultInjectionMiddleware:
    """Applies the fault plan to ``/api/v1`` calls.

    ``500`` answers 500 without doing anything; ``500_after`` does the work (the payment is
    made) and then answers 500, a lost answer; ``timeout`` waits 30 s and answers 504 without
    doing anything (the client gave up long before); ``timeout_after`` does the work and then
    waits 30 s before answering; ``slow`` waits 2 s and answers normally; ``429`` answers
    429 ``rate_limited`` with ``Retry-After`` (the plan's ``retry_after`` seconds) without doing
    anything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        kind = faults.draw(request.path)
        if kind is None:
            return self.get_response(request)
        if kind == "500":
            return _server_error()
        if kind == "429":
            response = json_error("rate_limited", "Trop de requêtes : réessayez plus tard.",
                                  429)
            response["Retry-After"] = str(faults.retry_after)
            response._has_been_logged = True
            return response
        if kind == "timeout":
            time.sleep(TIMEOUT_SECONDS)
            response = json_error("timeout", "Délai simulé dépassé.", 504)
            response._has_been_logged = True
            return response
        if kind == "slow":
            time.sleep(SLOW_SECONDS)
            return self.get_response(request)
        response = self.get_response(request)
        if kind == "500_after":
            return _server_error()
        time.sleep(TIMEOUT_SECONDS)  # timeout_after
        return response


@csrf_exempt
@require_POST
def faults_view(request):
    data = json_body(request)
    kinds = (data or {}).get("kinds", ["500"])
    rate = (data or {}).get("rate")
    seed_value = (data or {}).get("seed")
    retry_after = (data or {}).get("retry_after", 1)
    if (data is None or isinstance(rate, bool) or not isinstance(rate, int | float)
            or not 0 <= rate <= 1 or not isinstance(kinds, list) or not kinds
            or not set(kinds) <= set(FAULT_KINDS)
            or not (seed_value is None or isinstance(seed_value, int))
            or not isinstance(data.get("except_me", False), bool)
            or isinstance(retry_after, bool) or not isinstance(retry_after, int)
            or retry_after < 0):
        return invalid_request('Attendu : {"rate": 0..1, "kinds": [' + ", ".join(
            f'"{kind}"' for kind in FAULT_KINDS) + '], "seed": entier, "except_me": booléen, '
            '"retry_after": secondes (fautes 429)}.')
    faults.configure(rate=float(rate), kinds=kinds, seed=seed_value,
                     except_me=data.get("except_me", False), retry_after=retry_after)
    return JsonResponse(faults.as_dict())


def _company_data(company):
    keys = [key for key in company.api_keys.all() if key.revoked_at is None]
    return {
        "siren": company.siren, "name": company.name, "plan": company.plan,
        "api_key_prefix": keys[-1].prefix if keys else None,
        "api_key_prefixes": [key.prefix for key in keys],
        "users": [{"email": m.user.email, "role": m.role}
                  for m in sorted(company.memberships.all(), key=lambda m: m.role != "owner")],
    }


def _payment_state(payment, now):
    status, executed_at = services.clock.state(payment, now)
    return {"status": status, "executed_at": iso_utc(executed_at),
            "failure_reason": payment.failure_reason or None}


@require_GET
def state(request):
    invoices = Invoice.objects.select_related("company").order_by("created_at", "pk")
    payments = Payment.objects.select_related("invoice", "company").order_by("created_at", "pk")
    now = timezone.now()
    by_invoice = Counter(payment.invoice.external_id for payment in payments)
    return JsonResponse({
        "companies": [_company_data(company) for company in Company.objects.order_by(
            "created_at", "pk").prefetch_related("memberships__user", "api_keys")],
        "invoices": [{"external_id": invoice.external_id, "company_siren": invoice.company.siren,
                      "versions": invoice.versions, "last_body": invoice.last_body}
                     for invoice in invoices],
        "payments": [{"id": payment.id, "invoice_external_id": payment.invoice.external_id,
                      "company_siren": payment.company.siren,
                      "amount": f"{payment.amount:.2f}",
                      **_payment_state(payment, now),
                      "execution_date": payment.execution_date.isoformat(),
                      "idempotency_key": payment.idempotency_key}
                     for payment in payments],
        "payments_by_invoice": dict(by_invoice),
        "faults": faults.as_dict(),
    })


@csrf_exempt
@require_POST
def reset(request):
    """Back to the seed: every company (with its invoices, payments, keys) and login goes."""
    with transaction.atomic():
        Company.objects.all().delete()
        get_user_model().objects.all().delete()
        Session.objects.all().delete()
        seed()
    faults.configure()
    services.clock.reset()
    return JsonResponse({"reset": True})


def _users(value):
    """The ``users`` of a company to create, or None when malformed."""
    if not isinstance(value, list):
        return None
    users = []
    for entry in value:
        if not (isinstance(entry, dict) and isinstance(entry.get("email"), str)
                and "@" in entry["email"] and entry.get("role") in Membership.Role.values
                and isinstance(entry.get("password", ""), str)):
            return None
        users.append({"email": entry["email"], "role": entry["role"],
                      "password": entry.get("password") or None})
    return users


@csrf_exempt
@require_POST
def companies(request):
    """A company account for a test, with a fresh API key (the only time it is shown);
    ``another_account: true`` opens a second account for a SIREN that has one (both live)."""
    data = json_body(request) or {}
    users = _users(data.get("users", []))
    if not (isinstance(data.get("siren"), str) and isinstance(data.get("name"), str)
            and data["name"].strip() and data.get("plan", Plan.FREE) in Plan.values
            and users is not None and isinstance(data.get("another_account", False), bool)):
        return invalid_request('Attendu : {"siren", "name", "plan": "free"|"partnerships", '
                               '"users": [{"email", "role": "owner"|"accountant", "password"?}], '
                               '"another_account"?: true}.')
    try:
        company = services.company_create(siren=data["siren"], name=data["name"].strip(),
                                          plan=data.get("plan", Plan.FREE),
                                          origin=Company.Origin.CONTROL, users=users,
                                          another_account=data.get("another_account", False))
    except services.Refused as refusal:
        return json_error(refusal.code, refusal.detail,
                          409 if refusal.code == "company_exists" else 400)
    api_key = services.api_key_issue(company=company, origin=ApiKey.Origin.CONTROL)
    return JsonResponse({"api_key": api_key, "siren": company.siren, "name": company.name,
                         "plan": company.plan, "account_id": company.account_id}, status=201)


@csrf_exempt
@require_POST
def exchange_codes(request):
    """A one-time code for a company's owner, as « Me connecter avec MEG » would issue it.

    ``expires_in`` (seconds, default 300) lets a test get an already expired code with 0.
    """
    data = json_body(request) or {}
    expires_in = data.get("expires_in", 300)
    company = Company.objects.filter(siren=data.get("siren") or "").first()
    if (company is None or isinstance(expires_in, bool) or not isinstance(expires_in, int)
            or not siren_number.is_valid(company.siren)):
        return invalid_request('Attendu : {"siren" d\'une entreprise connue, "expires_in": '
                               'secondes}.')
    owner = company.memberships.filter(role=Membership.Role.OWNER).select_related("user").first()
    if owner is None:
        return invalid_request("Cette entreprise n'a pas d'utilisateur principal.")
    code = services.exchange_code_issue(company=company, user=owner.user)
    ExchangeCode.objects.filter(digest=secret_digest(code)).update(
        expires_at=timezone.now() + timedelta(seconds=expires_in))
    return JsonResponse({"code": code}, status=201)


def _moment(value):
    """``(aware datetime or None, readable)`` of an optional ISO 8601 string."""
    if value is None:
        return None, True
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        return None, False
    return (timezone.make_aware(moment) if timezone.is_naive(moment) else moment), True


@csrf_exempt
@require_POST
def payment_status(request, payment_id):
    """What the bank did with a transfer, or the user in Libeo: ``paid`` (when the money left:
    now, or ``executed_at``), ``failed`` or ``cancelled`` (both free the invoice; with a
    ``failure_reason``), or back to ``scheduled``."""
    data = json_body(request) or {}
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        return json_error("payment_not_found", "Paiement introuvable.", 404)
    executed_at, readable = _moment(data.get("executed_at"))
    if (data.get("status") not in Payment.Status.values
            or not isinstance(data.get("failure_reason", ""), str) or not readable):
        return invalid_request('Attendu : {"status": "scheduled"|"paid"|"failed"|"cancelled", '
                               '"failure_reason"?: texte, "executed_at"?: ISO 8601}.')
    services.payment_set_status(payment=payment, status=data["status"],
                                failure_reason=data.get("failure_reason", ""),
                                executed_at=executed_at)
    return JsonResponse({"id": payment.id, **_payment_state(payment, timezone.now())})


@csrf_exempt
@require_POST
def clock_view(request):
    """Fast mode: ``{"pay_after_seconds": N}`` pays scheduled payments N seconds after they were
    made; ``null`` goes back to paying them at their execution date."""
    data = json_body(request)
    value = (data or {}).get("pay_after_seconds")
    if (data is None or "pay_after_seconds" not in data or isinstance(value, bool)
            or not (value is None or (isinstance(value, int | float) and value >= 0))):
        return invalid_request('Attendu : {"pay_after_seconds": secondes ≥ 0, ou null}.')
    services.clock.pay_after_seconds = None if value is None else float(value)
    return JsonResponse({"pay_after_seconds": services.clock.pay_after_seconds})


urlpatterns = [
    path("faults", faults_view),
    path("state", state),
    path("reset", reset),
    path("companies", companies),
    path("exchange_codes", exchange_codes),
    path("payments/<str:payment_id>", payment_status),
    path("clock", clock_view),
]
