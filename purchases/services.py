"""Achats use cases: supplier invoices and the one-click "Payer" (provider-agnostic)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from meg.extensions import registry

from .models import Payment, SupplierInvoice

INVOICE_FIELDS = ("supplier_name", "supplier_iban", "number", "issue_date", "due_date",
                  "amount_excl_tax", "vat_amount", "amount_incl_tax", "pdf", "payment_method")


class ConnectionNeeded(Exception):
    """The provider account is not connected yet: the user is offered to connect it."""


def provider_for(invoice):
    if invoice.payment_method != SupplierInvoice.PaymentMethod.LIBEO:
        return None
    return registry.payment_providers.get("libeo")


def can_pay(user, invoice):
    provider = provider_for(invoice)
    return provider is not None and provider.can_pay(user, invoice)


def live_payment(invoice):
    return invoice.payments.filter(status__in=Payment.ALIVE).first()


@transaction.atomic
def invoice_create(*, company, actor, **fields):
    invoice = SupplierInvoice(firm_id=company.firm_id, company=company, created_by=actor,
                              **{k: v for k, v in fields.items() if k in INVOICE_FIELDS})
    invoice.full_clean()
    invoice.save()
    audit_record(firm=company.firm, company=company, actor=actor, action="purchase.created",
                 summary=_("Facture fournisseur saisie : %(invoice)s") % {"invoice": invoice})
    return invoice


@transaction.atomic
def invoice_update(*, invoice, actor, **fields):
    """Edit an invoice; one already sent to a payment provider is sent again."""
    invoice = SupplierInvoice.objects.select_for_update().get(pk=invoice.pk)
    changed = {name: value for name, value in fields.items()
               if name in INVOICE_FIELDS and getattr(invoice, name) != value}
    if not changed:
        return invoice
    payment = live_payment(invoice)
    if payment is not None and set(changed) - {"pdf"}:
        raise ValidationError(_("Un paiement de cette facture est en route ou fait (état : "
                                "« %(state)s ») : elle ne peut plus être modifiée.")
                              % {"state": payment.get_status_display()})
    for name, value in changed.items():
        setattr(invoice, name, value)
    invoice.version += 1
    invoice.full_clean()
    invoice.save()
    audit_record(firm=invoice.firm, company=invoice.company, actor=actor,
                 action="purchase.updated",
                 summary=_("Facture fournisseur modifiée : %(invoice)s") % {"invoice": invoice},
                 data={"fields": sorted(changed)})
    for provider in registry.payment_providers.values():
        provider.invoice_changed(invoice)
    return invoice


@transaction.atomic
def invoice_pay(*, invoice, actor):
    """"Payer": one payment per invoice, however many clicks; the provider call goes through
    the outbox with a stable idempotency key."""
    provider = provider_for(invoice)
    if provider is None:
        raise ValidationError(_("Choisissez « Virement par Libeo » comme mode de règlement "
                                "pour payer cette facture depuis MEG."))
    if not provider.can_pay(actor, invoice):
        raise PermissionDenied
    if not provider.is_connected(invoice.company):
        raise ConnectionNeeded
    invoice = SupplierInvoice.objects.select_for_update().get(pk=invoice.pk)
    payment = live_payment(invoice)
    if payment is not None:
        return payment  # a double click, or already paid: never a second payment
    if not invoice.supplier_iban:
        raise ValidationError(_("Renseignez l'IBAN du fournisseur avant de payer."))
    attempt = invoice.payments.count() + 1
    payment = Payment.objects.create(
        firm_id=invoice.firm_id, company_id=invoice.company_id, invoice=invoice,
        attempt=attempt, idempotency_key=f"meg-pay:{invoice.pk}:{attempt}",
        amount=invoice.amount_incl_tax,
        execution_date=max(invoice.due_date, timezone.localdate()), requested_by=actor)
    provider.request_payment(payment)
    audit_record(firm=invoice.firm, company=invoice.company, actor=actor,
                 action="purchase.pay_requested",
                 summary=_("Paiement demandé : %(invoice)s, %(amount)s €")
                 % {"invoice": invoice, "amount": invoice.amount_incl_tax})
    return payment

