"""Reads of the sandbox.

The API acts for a partner firm (its convention login), so it sees every account; the pages
act for a person, who only sees the accounts they have an access to.
"""

import json

from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import Http404

from sandboxes.common.errors import Refused

from .models import Account, AccountAccess, Invoice, WebhookDelivery


def get_account(account_id):
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise Refused("account_not_found", f"Aucun compte ProGBat « {account_id} ».")
    return account


def get_invoice(invoice_id):
    invoice = Invoice.objects.select_related("account").filter(pk=invoice_id).first()
    if invoice is None:
        raise Refused("invoice_not_found", f"Aucune facture ProGBat « {invoice_id} ».")
    return invoice


def accounts_search(*, siren):
    return Account.objects.filter(siren=siren)


def account_check_credentials(*, account, username, password):
    """The link proof: these credentials belong to a ProGBat user who can open this account."""
    user = authenticate(username=username, password=password)
    if user is None or not AccountAccess.objects.filter(account=account, user=user).exists():
        raise Refused("bad_credentials",
                      "Identifiant ou mot de passe ProGBat incorrect pour ce compte.")
    return account


def accesses_for(user):
    return AccountAccess.objects.filter(user=user).select_related("account")


def get_access_for(user, account_id):
    """The user's access to that account; 404 alike for a missing account and someone else's."""
    access = accesses_for(user).filter(account_id=account_id).first()
    if access is None:
        raise Http404("Compte introuvable.")
    return access


def get_account_invoice(account, invoice_id):
    invoice = account.invoices.filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404("Facture introuvable.")
    return invoice


def accounts_all():
    """Every account, for the back-office (the sandbox has a single distributeur network)."""
    return Account.objects.all()


def is_distributeur(user):
    """In the sandbox, ``is_staff`` marks the back-office users of a distributeur firm."""
    return user.is_authenticated and user.is_staff


def invoices_validated(*, account, validated_from, validated_to, after=None, limit):
    """The account's validated invoices whose (current) validation falls between two days,
    inclusive, in (validated_at, id) order, after the position ``after`` when given."""
    invoices = (account.invoices.filter(status=Invoice.Status.VALIDATED,
                                        validated_at__date__gte=validated_from,
                                        validated_at__date__lte=validated_to)
                .select_related("account").prefetch_related("lines")
                .order_by("validated_at", "id"))
    if after is not None:
        moment, invoice_id = after
        invoices = invoices.filter(Q(validated_at__gt=moment)
                                   | Q(validated_at=moment, id__gt=invoice_id))
    return list(invoices[:limit])


def webhook_invoices(invoices):
    """Each invoice exactly as the webhook of its current version carried it (``data.invoice``:
    the entry computed with the settings in force at that validation); computed now for a
    version no webhook carried."""
    from .webhooks import invoice_event

    bodies = {}
    deliveries = (WebhookDelivery.objects.filter(invoice__in=invoices)
                  .exclude(type="account.licence_changed").order_by("created_at"))
    for invoice_id, version, body in deliveries.values_list("invoice_id", "version", "body"):
        bodies[invoice_id, version] = body
    results = []
    for invoice in invoices:
        body = bodies.get((invoice.id, invoice.version))
        event = json.loads(body) if body else invoice_event(invoice, "invoice.validated")
        results.append(event["data"]["invoice"])
    return results
