"""Reads of the sandbox.

The API acts for the company whose API key it got; the pages act for a person, who only sees
the companies they are a user of.
"""

from django.db.models import Count
from django.http import Http404

from sandboxes.common.errors import Refused

from .models import ApiKey, Company, Membership, Payment, secret_digest


def company_for_api_key(secret):
    """The company of an active API key, or None."""
    key = (ApiKey.objects.select_related("company")
           .filter(digest=secret_digest(secret), revoked_at__isnull=True).first())
    return key.company if key is not None else None


def get_payment(company, payment_id):
    payment = (Payment.objects.select_related("invoice")
               .filter(company=company, pk=payment_id).first())
    if payment is None:
        raise Refused("payment_not_found", f"Aucun paiement « {payment_id} » pour ce compte.")
    return payment


def memberships_for(user):
    return (Membership.objects.filter(user=user).select_related("company")
            .order_by("company__name"))


def get_membership_for(user, siren):
    """The user's membership of that company; 404 alike for a missing and a foreign company."""
    membership = memberships_for(user).filter(company__siren=siren).first()
    if membership is None:
        raise Http404("Entreprise introuvable.")
    return membership


def company_users(company):
    return company.memberships.select_related("user")


def company_invoices(company):
    return company.invoices.annotate(payment_count=Count("payments"))


def company_payments(company):
    return company.payments.select_related("invoice")


def active_api_keys(company):
    return company.api_keys.filter(revoked_at__isnull=True)


def get_active_api_key(company, key_id):
    key = active_api_keys(company).filter(pk=key_id).first()
    if key is None:
        raise Http404("Clé introuvable.")
    return key


def companies_all():
    return Company.objects.prefetch_related("memberships__user", "api_keys")
