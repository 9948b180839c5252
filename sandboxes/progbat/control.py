"""Test controls, mounted under ``/_sandbox/`` only when PROGBAT_SANDBOX_CONTROL=1.

They let integration tests break ProGBat on purpose (API failures, slowness, dead tokens),
read what MEG did to it, and start again from the seed. JSON in and out, no authentication.
"""

import time

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from sandboxes.common.errors import invalid_request, json_error
from sandboxes.common.views import json_body

from . import documents
from .api.serializers import account_data
from .models import Account, AccountAccess, RefreshTokenUse, WebhookDelivery
from .seed import seed

SLOW_SECONDS = 15
API_FAULTS = (None, "500", "slow")

# One process serves the sandbox, so the current fault lives in memory.
_fault = {"api": None}
INVOICES_PAGE_SIZE = 100
_pages = {"invoices": INVOICES_PAGE_SIZE}


def invoices_page_size():
    """Invoices per page of ``GET /api/v1/invoices`` (tests make it small to see pages)."""
    return _pages["invoices"]


class FaultInjectionMiddleware:
    """While a fault is set, every ``/api/v1`` call answers 500 or first sleeps 15 s."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/v1/"):
            if _fault["api"] == "500":
                return json_error("server_error", "Panne simulée de ProGBat.", 500)
            if _fault["api"] == "slow":
                time.sleep(SLOW_SECONDS)
        return self.get_response(request)


@csrf_exempt
@require_POST
def faults(request):
    data = json_body(request)
    if data is None or data.get("api") not in API_FAULTS:
        return invalid_request('Attendu : {"api": null | "500" | "slow"}.')
    _fault["api"] = data["api"]
    return JsonResponse(_fault)


@csrf_exempt
@require_POST
def pages(request):
    data = json_body(request)
    size = data.get("invoices") if isinstance(data, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 1000:
        return invalid_request('Attendu : {"invoices": 1 à 1000}.')
    _pages["invoices"] = size
    return JsonResponse(_pages)


@csrf_exempt
@require_POST
def document_faults(request):
    """What ``GET /api/v1/invoices/{id}/document`` answers: the PDF (null), an HTML page
    sent as a PDF (``not_pdf``), a PDF padded beyond 20 MB (``too_big``) or a 500."""
    data = json_body(request)
    if data is None or data.get("document") not in documents.DOCUMENT_FAULTS:
        return invalid_request('Attendu : {"document": null | "not_pdf" | "too_big" | "500"}.')
    documents.set_fault(data["document"])
    return JsonResponse({"document": documents.current_fault()})


@csrf_exempt
@require_POST
def tokens_expire(request):
    """Every access token expires now; refresh tokens still work."""
    expired = get_access_token_model().objects.update(expires=timezone.now())
    return JsonResponse({"expired": expired})


@csrf_exempt
@require_POST
@transaction.atomic
def tokens_revoke(request):
    """Every access and refresh token dies: MEG's connections must ask to reconnect."""
    revoked = get_refresh_token_model().objects.filter(revoked__isnull=True).update(
        revoked=timezone.now())
    deleted, _ = get_access_token_model().objects.all().delete()
    return JsonResponse({"access_tokens": deleted, "refresh_tokens": revoked})


@require_GET
def state(request):
    grants = {}
    for access in AccountAccess.objects.select_related("user").order_by("account_id", "pk"):
        grants.setdefault(access.account_id, []).append(
            {"email": access.user.email, "role": access.role})
    refreshes = RefreshTokenUse.objects
    accounts = Account.objects.order_by("created_at", "pk")
    return JsonResponse({
        # the accounts themselves (as the API shows them): tests look theirs up by SIREN
        "accounts": [account_data(account) for account in accounts],
        "users": get_user_model().objects.count(),
        "access_grants": grants,
        # every refresh-token request; the refused ones are also counted apart
        "refresh_token_uses": refreshes.count(),
        "refresh_token_refused": refreshes.filter(succeeded=False).count(),
        "faults": _fault,
        "deliveries": [
            {"id": d.id, "type": d.type, "invoice_id": d.invoice_id, "version": d.version,
             "status": d.status, "attempts": d.attempts, "last_status": d.last_status}
            for d in WebhookDelivery.objects.all()
        ],
    })


@csrf_exempt
@require_POST
def reset(request):
    """Back to the seed: accounts (with invoices, accesses, deliveries) and tokens go.

    Logins stay, so those a test created with ``/_sandbox/users`` keep working.
    """
    with transaction.atomic():
        WebhookDelivery.objects.all().delete()  # account events have no invoice to go with
        Account.objects.all().delete()
        get_refresh_token_model().objects.all().delete()
        get_access_token_model().objects.all().delete()
        get_grant_model().objects.all().delete()
        RefreshTokenUse.objects.all().delete()
        seed()
    _fault["api"] = None
    _pages["invoices"] = INVOICES_PAGE_SIZE
    documents.set_fault(None)
    return JsonResponse({"reset": True})


@csrf_exempt
@require_POST
def users(request):
    """Create a ProGBat login for a test, or reset the password and e-mail of an existing one."""
    data = json_body(request) or {}
    if not (all(isinstance(data.get(key), str) and data[key] for key in ("username", "password"))
            and isinstance(data.get("email", ""), str)):
        return invalid_request('Attendu : {"username", "password", "email"}.')
    user, created = get_user_model().objects.get_or_create(username=data["username"])
    user.email = data.get("email", "")
    user.set_password(data["password"])
    user.save()
    return JsonResponse({"username": user.username, "email": user.email},
                        status=201 if created else 200)


urlpatterns = [
    path("faults", faults),
    path("pages", pages),
    path("documents", document_faults),
    path("tokens/expire", tokens_expire),
    path("tokens/revoke", tokens_revoke),
    path("state", state),
    path("reset", reset),
    path("users", users),
]
