"""What Achats puts on the firm's attention board (*À traiter*): payments that failed and were
not tried again. One query whatever the number of companies."""

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from meg.extensions import (
    AttentionRow,
    AttentionSource,
    Severity,
    register_attention_source,
    short_date,
)

from .models import Payment


def failed_payments(scope):
    """The last attempt of each invoice, when it failed: paying again (a new attempt) fixes it."""
    retried = Payment.objects.filter(invoice=OuterRef("invoice"), attempt__gt=OuterRef("attempt"))
    return (scope.of_companies(Payment.objects.filter(status=Payment.Status.FAILED))
            .exclude(Exists(retried)))


def failed_payment_rows(problems, scope):
    rows = []
    for payment in problems.select_related("invoice", "company"):
        invoice = payment.invoice
        text = _("Paiement en échec le %(day)s : facture %(number)s de %(supplier)s, "
                 "%(amount)s €") % {
            "day": short_date(payment.updated_at), "number": invoice.number,
            "supplier": invoice.supplier_name,
            "amount": number_format(payment.amount, 2, force_grouping=True)}
        if payment.error_detail:
            text = f"{text} — {payment.error_detail}"
        rows.append(AttentionRow(
            kind="payment_failed", severity=Severity.ERROR, company_id=payment.company_id,
            company_name=payment.company.name, text=text,
            url=reverse("purchases:invoice", args=[payment.company_id, invoice.pk])))
    return rows


register_attention_source(AttentionSource(
    kind="payment_failed", label=gettext_lazy("Paiements en échec"), severity=Severity.ERROR,
    problems=failed_payments, rows=failed_payment_rows, per="invoice_id", order=30,
    summary=lambda rows, items: ngettext("%(n)s facture à payer de nouveau",
                                         "%(n)s factures à payer de nouveau", rows) % {"n": rows}))
