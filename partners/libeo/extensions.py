"""How Libeo plugs into MEG: the payment provider of the Achats module, and the outbox
handlers that send invoices and payments (MEG → Libeo only). Payment outcomes are reported to
purchases through ``payment_settle``, which owns the states and audits them."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners.common.exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_enqueue, register_handler
from purchases.models import Payment, SupplierInvoice
from purchases.providers import PaymentResult, register_payment_provider
from purchases.services import payment_settle

from . import client
from .models import LibeoInvoice
from .polling import libeo_payment_follow
from .services import connection_of, libeo_can_pay

PLAN_LIMIT = gettext_lazy(
    "Limite de paiements atteinte pour ce mois avec l'offre gratuite de Libeo (5 paiements). "
    "Passez à l'offre Partnerships (9 €/mois, paiements illimités) dans Libeo, ou payez cette "
    "facture le mois prochain : elle reste à payer.")


def invoice_body(invoice):
    return {"supplier": {"name": invoice.supplier_name, "iban": invoice.supplier_iban},
            "number": invoice.number, "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "amount_excl_tax": f"{invoice.amount_excl_tax:.2f}",
            "vat_amount": f"{invoice.vat_amount:.2f}",
            "amount_incl_tax": f"{invoice.amount_incl_tax:.2f}",
            "currency": invoice.currency, "status": "to_pay"}


def external_id(invoice):
    return f"meg-{invoice.pk}"


def _send_invoice(connection, invoice, *, force=False):
    """PUT the invoice on the connection's Libeo account unless that account already has its
    latest version. Remembered per account: after a key of another account, the invoice is
    sent there before its first payment. An unknown account (a key saved before MEG asked
    ``/me`` for it, until the options page reads ``/me`` again) is never trusted, nor is MEG's
    memory when Libeo says it lacks the invoice (``force``): the invoice is sent (an upsert)."""
    account_id = connection.account_id
    sent, _created = LibeoInvoice.objects.select_for_update().get_or_create(
        invoice=invoice, account_id=account_id, defaults={"firm_id": invoice.firm_id})
    if account_id and not force and sent.sent_version >= invoice.version:
        return
    client.upsert_invoice(connection.api_key, external_id=external_id(invoice),
                          invoice=invoice_body(invoice))
    sent.sent_version, sent.sent_at = invoice.version, timezone.now()
    sent.save(update_fields=["sent_version", "sent_at"])


def _fail(payment, code, detail):
    return payment_settle(payment=payment, result=PaymentResult(
        status=Payment.Status.FAILED, error_code=code, error_detail=str(detail)))


def _create_payment(connection, payment):
    """``POST /payments`` with the payment's own idempotency key and body, which never change
    between attempts: when an earlier attempt's answer was lost (a timeout, a 5xx after the
    work), Libeo replays what it did then instead of paying again — every retry reconciles
    first."""
    return client.create_payment(
        connection.api_key, idempotency_key=payment.idempotency_key,
        invoice_external_id=external_id(payment.invoice), amount=f"{payment.amount:.2f}",
        execution_date=payment.execution_date.isoformat())


def _create_payment_healing(connection, payment):
    """``POST /payments``; when Libeo answers that it does not have the invoice (404
    ``invoice_not_found``: its account lost it, or MEG's memory is wrong), send the invoice
    and pay once more — Libeo keeps no answer for a refused key, so the same key is used."""
    try:
        return _create_payment(connection, payment)
    except PartnerRejected as error:
        if error.code != "invoice_not_found":
            raise
    _send_invoice(connection, payment.invoice, force=True)
    return _create_payment(connection, payment)


def _reconcile_given_up(connection, payment):
    """Libeo says the invoice is already paid, and an earlier « Payer » of it was given up
    without an answer: that one may have gone through. Ask Libeo with its key (a replay, never
    a new payment: Libeo refuses any payment of a paid invoice) and take over its result.
    Returns the replayed answer, or None."""
    given_up = (Payment.objects.filter(invoice_id=payment.invoice_id, provider=payment.provider,
                                       status=Payment.Status.FAILED,
                                       error_code="libeo_unavailable",
                                       attempt__lt=payment.attempt)
                .select_related("invoice").order_by("-attempt"))
    for earlier in given_up:
        try:
            return _create_payment(connection, earlier)
        except PartnerRejected:
            continue
    return None


def _settled(connection, payment, result):
    """Record Libeo's answer to a payment: scheduled (then followed on that account until it
    is paid), paid (with when the money left) or failed."""
    state = client.payment_state(result)
    status = state.status or Payment.Status.SCHEDULED
    payment = payment_settle(payment=payment, result=PaymentResult(
        status=status, provider_payment_id=state.id,
        executed_at=state.executed_at if status == Payment.Status.PAID else None,
        error_code="libeo_failed" if status == Payment.Status.FAILED else "",
        error_detail=state.failure_reason if status == Payment.Status.FAILED else ""))
    if payment.status == Payment.Status.SCHEDULED:
        libeo_payment_follow(payment=payment, connection=connection)
    return payment


def pay(message):
    """Outbox handler: send the invoice, then the payment with its idempotency key."""
    payment = (Payment.objects.select_for_update().select_related("invoice", "company")
               .get(pk=message.payload["payment_id"]))
    if payment.status not in (Payment.Status.PENDING, Payment.Status.RETRYING):
        return {"status": payment.status}
    connection = connection_of(payment.company)
    if connection is None:
        payment = _fail(payment, "not_connected",
                        _("Libeo n'est plus connecté à cette entreprise."))
        raise PartnerRejected("not_connected", payment.error_detail)
    try:
        _send_invoice(connection, payment.invoice)
        try:
            result = _create_payment_healing(connection, payment)
        except PartnerRejected as error:
            result = (_reconcile_given_up(connection, payment)
                      if error.code == "invoice_already_paid" else None)
            if result is None:
                raise
    except PartnerUnavailable:
        payment_settle(payment=payment, result=PaymentResult(
            status=Payment.Status.RETRYING,
            error_detail=_("Libeo ne répond pas : nouvel essai automatique.")))
        raise
    except PartnerUnauthorized:
        payment = _fail(payment, "invalid_api_key", _(
            "Libeo refuse la clé d'API : un administrateur du module Achats doit la remplacer."))
        raise PartnerRejected("invalid_api_key", payment.error_detail) from None
    except PartnerRejected as error:
        _fail(payment, error.code, PLAN_LIMIT if error.code == "plan_limit_reached"
              else (error.detail or error.code))
        raise
    payment = _settled(connection, payment, result)
    return {"payment_id": payment.provider_payment_id, "status": payment.status}


def pay_given_up(message):
    """Libeo never answered: say so, and let the user check Libeo before paying again (a
    lost answer may mean Libeo did pay; Libeo refuses a second payment of the invoice)."""
    payment = Payment.objects.select_for_update().get(pk=message.payload["payment_id"])
    if payment.status in (Payment.Status.PENDING, Payment.Status.RETRYING):
        _fail(payment, "libeo_unavailable", _(
            "Libeo n'a pas répondu malgré plusieurs essais. Vérifiez dans Libeo si la facture "
            "a été payée avant de cliquer sur « Payer de nouveau »."))


def resend_invoice(message):
    """Outbox handler: an invoice Libeo already has was edited in MEG. Sent again to the
    company's current Libeo account if that account has it (another account gets it before
    its first payment there)."""
    sent = LibeoInvoice.objects.select_related("invoice").filter(
        invoice_id=message.payload["invoice_id"]).first()
    connection = sent and connection_of(sent.invoice.company)
    if connection is None:
        return {"skipped": True}
    account_id = connection.account_id
    if account_id and not LibeoInvoice.objects.filter(invoice_id=sent.invoice_id,
                                                      account_id=account_id).exists():
        return {"skipped": True}
    _send_invoice(connection, sent.invoice)
    return {"version": sent.invoice.version}


class LibeoProvider:
    """Libeo as the Achats module's payment provider (``purchases.providers.PaymentProvider``)
    for invoices paid by « Virement par Libeo »."""

    code = "libeo"
    name = "Libeo"
    payment_method = SupplierInvoice.PaymentMethod.LIBEO

    def can_pay(self, user, invoice):
        return libeo_can_pay(user, invoice)

    def is_connected(self, company):
        return connection_of(company) is not None

    def connect_url(self, company, invoice):
        return (f"{reverse('libeo:connect', args=[company.pk])}"
                f"?{urlencode({'facture': invoice.pk})}")

    def options_url(self, company):
        return reverse("libeo:options", args=[company.pk])

    def request_payment(self, payment):
        message = OutboxMessage.objects.create(
            firm_id=payment.firm_id, company_id=payment.company_id, partner="libeo",
            action="libeo.pay", payload={"payment_id": payment.pk},
            idempotency_key=f"libeo-pay:{payment.idempotency_key}",
            actor=payment.requested_by)
        outbox_enqueue([message])

    def invoice_changed(self, invoice):
        """Only invoices already sent to Libeo are sent again (never the others)."""
        if not LibeoInvoice.objects.filter(invoice=invoice).exists():
            return
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=f"libeo-upsert:{invoice.pk}:v{invoice.version}",
            defaults={"firm_id": invoice.firm_id, "company_id": invoice.company_id,
                      "partner": "libeo", "action": "libeo.resend_invoice",
                      "payload": {"invoice_id": invoice.pk}})
        if created:
            outbox_enqueue([message])


register_handler("libeo.pay", pay, on_give_up=pay_given_up)
register_handler("libeo.resend_invoice", resend_invoice)
register_payment_provider(LibeoProvider.code, LibeoProvider())
