"""Achats use cases: supplier invoices, the one-click "Payer", and the payment states that
providers report (provider-agnostic: see ``purchases.providers``). Recorded and edited invoices
are announced through ``purchases.hooks``; the books follow (``bridges.purchases_books``)."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from meg.pdf import ENCRYPTED, TOO_LARGE, pdf_refusal
from notifications.models import Kind
from notifications.services import notify

from . import hooks
from .models import DEFAULT_EXPENSE_ACCOUNT, Payment, SupplierInvoice, SupplierInvoiceVatLine
from .providers import payment_provider, payment_providers, provider_for_method
from .suppliers import supplier_find, supplier_for

INVOICE_FIELDS = ("supplier_name", "supplier_iban", "number", "issue_date", "due_date",
                  "amount_excl_tax", "vat_amount", "amount_incl_tax", "pdf", "payment_method",
                  "expense_account")
# What may still change once a payment is under way: the attached PDF, and the account the
# invoice is booked to (an accountant reclassifies paid invoices too).
EDITABLE_WHILE_PAID = {"pdf", "expense_account"}
CENT = Decimal("0.01")


class ConnectionNeeded(Exception):
    """The provider account is not connected yet: the user is offered to connect it."""

    def __init__(self, provider):
        super().__init__(provider.code)
        self.provider = provider


def invoice_pdf_check(upload):
    """Refuse (``ValidationError`` on ``pdf``) an uploaded file that is too big
    (``MEG_MAX_UPLOAD_MB``) or that is not a PDF a parser can open and read pages from."""
    refusal = pdf_refusal(upload, upload.size)
    if refusal == TOO_LARGE:
        raise ValidationError({"pdf": _("Le fichier dépasse %(n)d Mo : joignez une facture "
                                        "plus légère.") % {"n": settings.MEG_MAX_UPLOAD_MB}})
    if refusal == ENCRYPTED:
        raise ValidationError({"pdf": _("Ce PDF est protégé par un mot de passe : joignez "
                                        "une version sans mot de passe.")})
    if refusal is not None:
        raise ValidationError({"pdf": _("Ce fichier n'est pas un PDF lisible : joignez la "
                                        "facture au format PDF.")})


def _check_new_pdf(fields):
    pdf = fields.get("pdf")
    if pdf and not isinstance(pdf, FieldFile):  # a new file, not the one already stored
        invoice_pdf_check(pdf)


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
              "depuis MEG.") % {"method": _(" » ou « ").join(methods)})


def can_pay(user, invoice):
    provider = provider_for(invoice)
    return provider is not None and provider.can_pay(user, invoice)


def live_payment(invoice):
    return invoice.payments.filter(status__in=Payment.ALIVE).first()


@dataclass(frozen=True, order=True)
class VatLine:
    """One VAT rate of an invoice as entered: rate (%), base HT, VAT."""

    rate: Decimal
    base_amount: Decimal
    vat_amount: Decimal

    @classmethod
    def implied(cls, excl, vat):
        """The one line of an invoice entered by its totals (its apparent rate)."""
        rate = (vat * 100 / excl).quantize(CENT) if excl else Decimal("0.00")
        return cls(min(rate, Decimal(100)), excl, vat)


def vat_lines_of(invoice):
    return sorted(VatLine(line.rate, line.base_amount, line.vat_amount)
                  for line in invoice.vat_lines.all())


def _vat_lines_checked(vat_lines, fields):
    """The lines sorted, with the invoice's totals set from them in ``fields`` (TTC too, when
    not given); totals typed as well must agree."""
    lines = sorted(VatLine(Decimal(line.rate), Decimal(line.base_amount),
                           Decimal(line.vat_amount)) for line in vat_lines)
    if len({line.rate for line in lines}) != len(lines):
        raise ValidationError(_("Une seule ligne par taux de TVA."))
    errors = {}
    for name, total in (("amount_excl_tax", sum(line.base_amount for line in lines)),
                        ("vat_amount", sum(line.vat_amount for line in lines))):
        typed = fields.get(name)
        if typed not in (None, "") and Decimal(typed) != total:
            errors[name] = _("%(typed)s € n'est pas la somme des lignes de TVA "
                             "(%(total)s €).") % {"typed": typed, "total": total}
        fields[name] = total
    if errors:
        raise ValidationError(errors)
    if fields.get("amount_incl_tax") in (None, ""):
        fields["amount_incl_tax"] = fields["amount_excl_tax"] + fields["vat_amount"]
    return lines


def _vat_lines_save(invoice, lines):
    invoice.vat_lines.all().delete()
    SupplierInvoiceVatLine.objects.bulk_create([
        SupplierInvoiceVatLine(firm_id=invoice.firm_id, company_id=invoice.company_id,
                               invoice=invoice, rate=line.rate, base_amount=line.base_amount,
                               vat_amount=line.vat_amount) for line in lines])


def _default_expense_account(company, supplier_name):
    supplier = supplier_find(company, supplier_name)
    return supplier.expense_account if supplier else DEFAULT_EXPENSE_ACCOUNT


@transaction.atomic
def invoice_create(*, company, actor, vat_lines=None, **fields):
    """Record an invoice. ``vat_lines`` (``VatLine``s, one per rate) set its totals; without
    them, its totals are one line. Its supplier is found or created from its name, and the
    invoice is announced (``hooks.invoice_recorded``): the books follow."""
    _check_new_pdf(fields)
    fields = {k: v for k, v in fields.items() if k in INVOICE_FIELDS}
    lines = _vat_lines_checked(vat_lines, fields) if vat_lines else None
    invoice = SupplierInvoice(firm_id=company.firm_id, company=company, created_by=actor,
                              **fields)
    invoice.full_clean()
    supplier = supplier_for(company=company, name=invoice.supplier_name,
                            expense_account=invoice.expense_account)
    invoice.supplier = supplier
    invoice.expense_account = invoice.expense_account or supplier.expense_account
    invoice.save()
    _vat_lines_save(invoice, lines or [VatLine.implied(invoice.amount_excl_tax,
                                                       invoice.vat_amount)])
    audit_record(firm=company.firm, company=company, actor=actor, action="purchase.created",
                 summary=lambda: _("Facture fournisseur saisie : %(invoice)s")
                 % {"invoice": invoice})
    hooks.invoice_recorded(invoice, actor)
    return invoice


@transaction.atomic
def invoice_update(*, invoice, actor, vat_lines=None, **fields):
    """Edit an invoice; one already sent to a payment provider is sent again.

    ``vat_lines`` replace its VAT lines (and totals); without them, new totals replace its one
    line (an invoice of several rates is edited through its lines). An empty expense account
    means the supplier's default."""
    _check_new_pdf(fields)
    invoice = SupplierInvoice.objects.select_for_update().get(pk=invoice.pk)
    fields = {k: v for k, v in fields.items() if k in INVOICE_FIELDS}
    if "expense_account" in fields and not fields["expense_account"]:
        fields["expense_account"] = _default_expense_account(
            invoice.company, fields.get("supplier_name", invoice.supplier_name))
    current = vat_lines_of(invoice)
    lines = _vat_lines_checked(vat_lines, fields) if vat_lines else None
    changed = {name: value for name, value in fields.items()
               if getattr(invoice, name) != value}
    if lines is None and ({"amount_excl_tax", "vat_amount"} & set(changed) or not current):
        if len(current) > 1:
            raise ValidationError(_("Cette facture a plusieurs taux de TVA : modifiez ses "
                                    "lignes de TVA."))
        lines = [VatLine.implied(fields.get("amount_excl_tax", invoice.amount_excl_tax),
                                 fields.get("vat_amount", invoice.vat_amount))]
    if lines is not None and lines != current:
        changed["vat_lines"] = lines
    if not changed:
        return invoice
    payment = live_payment(invoice)
    if payment is not None and set(changed) - EDITABLE_WHILE_PAID:
        raise ValidationError(_("Un paiement de cette facture est en route ou fait (état : "
                                "« %(state)s ») : elle ne peut plus être modifiée.")
                              % {"state": payment.get_status_display()})
    for name, value in changed.items():
        if name != "vat_lines":
            setattr(invoice, name, value)
    invoice.version += 1
    invoice.full_clean()
    if invoice.supplier_id is None or "supplier_name" in changed:
        invoice.supplier = supplier_for(company=invoice.company, name=invoice.supplier_name,
                                        expense_account=invoice.expense_account)
    invoice.expense_account = invoice.expense_account or invoice.supplier.expense_account
    invoice.save()
    if "vat_lines" in changed:
        _vat_lines_save(invoice, changed["vat_lines"])
    audit_record(firm=invoice.firm, company=invoice.company, actor=actor,
                 action="purchase.updated",
                 summary=lambda: _("Facture fournisseur modifiée : %(invoice)s")
                 % {"invoice": invoice},
                 data={"fields": sorted(changed)})
    hooks.invoice_recorded(invoice, actor)
    if set(changed) - {"expense_account"}:  # what the payment provider holds changed
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
                 summary=lambda: _("Paiement demandé : %(invoice)s, %(amount)s €")
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
                     summary=lambda: str(summary) % {
                         "provider": provider.name if provider else payment.provider,
                         "invoice": payment.invoice, "amount": payment.amount,
                         "reason": payment.error_detail or payment.error_code},
                     data={"payment_id": payment.pk, "provider": payment.provider,
                           "provider_payment_id": payment.provider_payment_id,
                           "error_code": payment.error_code,
                           **({"executed_at": payment.executed_at.isoformat()}
                              if payment.executed_at else {})})
    if payment.status == Payment.Status.PAID:
        hooks.payment_paid(payment)  # the books follow (a payments journal entry)
    if payment.status == Payment.Status.FAILED:
        notify(users=[payment.requested_by], kind=Kind.PAYMENT_FAILED,
               fact_key=f"payment-failed:{payment.pk}",
               title=lambda: _("Paiement en échec : %(invoice)s") % {"invoice": payment.invoice},
               body=lambda: _("%(amount)s € — %(reason)s La facture reste à payer.") % {
                   "amount": payment.amount,
                   "reason": payment.error_detail or payment.error_code},
               url=reverse("purchases:invoice", args=[payment.company_id, payment.invoice_id]))
    return payment


@transaction.atomic
def payment_note(*, payment, error_code="", error_detail=""):
    """What the user must know about an alive payment whose state does not change (a
    scheduled payment its provider can no longer be asked about); shown with its state and
    audited. Empty: the note is withdrawn (the provider can be asked again)."""
    payment = Payment.objects.select_for_update(of=("self",)).select_related(
        "invoice", "company", "firm").get(pk=payment.pk)
    if payment.status not in Payment.ALIVE or (
            payment.error_code, payment.error_detail) == (error_code[:60], error_detail[:500]):
        return payment
    payment.error_code, payment.error_detail = error_code[:60], error_detail[:500]
    payment.save(update_fields=["error_code", "error_detail", "updated_at"])
    audit_record(firm=payment.firm, company=payment.company, actor=None,
                 action="purchase.payment_noted",
                 summary=lambda: (_("Paiement %(invoice)s : %(note)s")
                                  % {"invoice": payment.invoice, "note": payment.error_detail})
                 if payment.error_detail else
                 _("Paiement %(invoice)s : suivi repris") % {"invoice": payment.invoice},
                 data={"payment_id": payment.pk, "error_code": payment.error_code})
    return payment
