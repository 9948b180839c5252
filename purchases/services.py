"""Achats use cases: supplier invoices, the one-click "Payer", and the payment states that
providers report (provider-agnostic: see ``purchases.providers``)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record

from .models import Payment, SupplierInvoice
from .providers import payment_provider, payment_providers, provider_for_method

INVOICE_FIELDS = ("supplier_name", "supplier_iban", "number", "issue_date", "due_date",
                  "amount_excl_tax", "vat_amount", "amount_incl_tax", "pdf", "payment_method")


class ConnectionNeeded(Exception):
    """The provider account is not connected yet: the user is offered to connect it."""

    def __init__(self, provider):
        super().__init__(provider.code)
        self.provider = provider


def provider_for(invoice):
    return provider_for_method(invoice.payment_method)


def payable_methods():
    """The labels of the payment methods MEG can pay itself (« Virement par Libeo »)."""
    return [str(SupplierInvoice.PaymentMethod(p.payment_method).label)
            for p in payment_providers()]


def not_payable_message():
    methods = payable_methods()
    if not methods:
        return _("Aucun mode de règlement ne permet de payer depuis MEG.")
    return (_("Choisissez « %(method)s » comme mode de règlement pour payer cette facture "
              "depuis MEG.") % {"method": " » ou « ".join(methods)})


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
    for provider in payment_providers():
        provider.invoice_changed(invoice)
    return invoice


@transaction.atomic
def invoice_pay(*, invoice, actor):
    """"Payer": one payment per invoice, however many clicks; the provider call goes through
    the outbox with a stable idempotency key."""
    provider = provider_for(invoice)
    if provider is None:
        raise ValidationError(not_payable_message())
    if not provider.can_pay(actor, invoice):
        raise PermissionDenied
    if not provider.is_connected(invoice.company):
        raise ConnectionNeeded(provider)
    invoice = SupplierInvoice.objects.select_for_update().get(pk=invoice.pk)
    payment = live_payment(invoice)
    if payment is not None:
        return payment  # a double click, or already paid: never a second payment
    if not invoice.supplier_iban:
        raise ValidationError(_("Renseignez l'IBAN du fournisseur avant de payer."))
    attempt = invoice.payments.count() + 1
    payment = Payment.objects.create(
        firm_id=invoice.firm_id, company_id=invoice.company_id, invoice=invoice,
        provider=provider.code, attempt=attempt,
        idempotency_key=f"meg-pay:{invoice.pk}:{attempt}", amount=invoice.amount_incl_tax,
        execution_date=max(invoice.due_date, timezone.localdate()), requested_by=actor)
    provider.request_payment(payment)
    audit_record(firm=invoice.firm, company=invoice.company, actor=actor,
                 action="purchase.pay_requested",
                 summary=_("Paiement demandé : %(invoice)s, %(amount)s €")
                 % {"invoice": invoice, "amount": invoice.amount_incl_tax})
    return payment


# Which reported status may follow which: a provider may retry, schedule, pay or fail a payment
# it has not settled yet, and pay, fail or cancel (someone cancelled it at the provider) a
# scheduled one; paid, failed and cancelled are final (a new « Payer » makes a new payment).
TRANSITIONS = {
    Payment.Status.PENDING: {Payment.Status.RETRYING, Payment.Status.SCHEDULED,
                             Payment.Status.PAID, Payment.Status.FAILED},
    Payment.Status.RETRYING: {Payment.Status.RETRYING, Payment.Status.SCHEDULED,
                              Payment.Status.PAID, Payment.Status.FAILED},
    Payment.Status.SCHEDULED: {Payment.Status.PAID, Payment.Status.FAILED,
                               Payment.Status.CANCELLED},
    Payment.Status.PAID: set(),
    Payment.Status.FAILED: set(),
    Payment.Status.CANCELLED: set(),
}
# The changes a user would ask "when, and why?" about; retries are not audited one by one.
AUDITED = {
    Payment.Status.SCHEDULED: ("purchase.payment_scheduled", gettext_lazy(
        "Paiement programmé par %(provider)s : %(invoice)s, %(amount)s €")),
    Payment.Status.PAID: ("purchase.paid", gettext_lazy(
        "Facture payée par %(provider)s : %(invoice)s, %(amount)s €")),
    Payment.Status.FAILED: ("purchase.payment_failed", gettext_lazy(
        "Paiement en échec : %(invoice)s, %(amount)s € (%(reason)s)")),
    Payment.Status.CANCELLED: ("purchase.payment_cancelled", gettext_lazy(
        "Paiement annulé chez %(provider)s : %(invoice)s, %(amount)s € (%(reason)s)")),
}


@transaction.atomic
def payment_settle(*, payment, result):
    """Apply what a provider reports about ``payment`` (a ``PaymentResult``).

    The one write path of payment states: the transition is checked on the locked row (an
    invalid one raises ``ValidationError`` and changes nothing), then audited when users see it.
    The partner's words are cut to the columns' sizes rather than refused: the outcome matters
    more than the length of its explanation. A paid payment keeps when the money left (the
    provider's ``executed_at``, else the moment MEG learnt it).
    """
    payment = (Payment.objects.select_for_update(of=("self",))
               .select_related("invoice", "company", "firm").get(pk=payment.pk))
    if result.status not in TRANSITIONS.get(payment.status, ()):
        raise ValidationError(
            _("Le paiement %(payment)s ne peut passer de « %(old)s » à « %(new)s ».")
            % {"payment": payment.pk, "old": payment.get_status_display(),
               "new": result.status})
    payment.status = result.status
    payment.provider_payment_id = (result.provider_payment_id[:100]
                                   or payment.provider_payment_id)
    payment.error_code = result.error_code[:60]
    payment.error_detail = result.error_detail[:500]
    if payment.status == Payment.Status.PAID:
        payment.executed_at = result.executed_at or timezone.now()
    payment.save(update_fields=["status", "provider_payment_id", "error_code", "error_detail",
                                "executed_at", "updated_at"])
    if payment.status in AUDITED:
        action, summary = AUDITED[payment.status]
        provider = payment_provider(payment.provider)
        audit_record(firm=payment.firm, company=payment.company, actor=None, action=action,
                     summary=str(summary) % {
                         "provider": provider.name if provider else payment.provider,
                         "invoice": payment.invoice, "amount": payment.amount,
                         "reason": payment.error_detail or payment.error_code},
                     data={"payment_id": payment.pk, "provider": payment.provider,
                           "provider_payment_id": payment.provider_payment_id,
                           "error_code": payment.error_code,
                           **({"executed_at": payment.executed_at.isoformat()}
                              if payment.executed_at else {})})
    return payment
