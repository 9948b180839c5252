"""Libeo payments → books: a payment Libeo reports ``paid`` is an entry of the company's Libeo
payments journal (default ``BQLB``), lettered with its invoice's supplier line (DESIGN §7.2).

A bridge for the same reason as ``purchases_books``: Achats announces the payment
(``purchases.hooks.on_payment_paid``, in ``payment_settle``'s transaction), accounting books it
(``entry_book``) and letters it (``documents_letter``); neither knows the other. The bank
account is the Libeo option of the company (``LibeoConnection.bank_account``, 512000 by
default or without a connection).

A payment of T € on the day D (``executed_at``, Paris time) becomes:
  401000 Fournisseurs, auxiliary: the supplier's code   debit  T
  512000 Banque (the option)                            credit T
and its 401 line takes the same lettering code as the invoice's 401 line in the purchases
journal (and its corrections), dated D. ``failed`` and ``cancelled`` payments book nothing.

Lettering follows later changes of a paid invoice's entries (``documents_letter``, run again
after them): a correction made after payment (the supplier's auxiliary code changed, the
invoice reclassified) is lettered with the payment per auxiliary account when the lines
balance; lines that do not balance stay unlettered for the accountant.
"""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounting.drafts import DraftRefused, EntryDraft, LineDraft
from accounting.models import Journal
from accounting.services.entries import entry_book
from accounting.services.lettering import documents_letter
from partners.libeo.models import LibeoConnection
from purchases.hooks import on_invoice_recorded, on_payment_paid, on_supplier_changed
from purchases.models import Payment

from .purchases_books import SUPPLIERS
from .purchases_books import source_ref as invoice_ref

SOURCE = Journal.Source.LIBEO_PAYMENTS
DEFAULT_BANK_ACCOUNT = "512000"
PARIS = ZoneInfo("Europe/Paris")


def source_ref(payment):
    return f"payment:{payment.pk}"


def bank_account(company):
    account = (LibeoConnection.objects.filter(company=company)
               .values_list("bank_account", flat=True).first())
    return account or DEFAULT_BANK_ACCOUNT


def payment_draft(payment, day):
    invoice, supplier = payment.invoice, payment.invoice.supplier
    amount = f"{payment.amount:.2f}"
    return EntryDraft(
        source=SOURCE, source_ref=source_ref(payment), source_version=1, date=day.isoformat(),
        validated_at=payment.executed_at.isoformat(), piece_ref=invoice.number,
        label=_("Paiement %(number)s %(supplier)s") % {"number": invoice.number,
                                                       "supplier": supplier.name},
        lines=(LineDraft(account=SUPPLIERS, debit=amount, credit="0.00",
                         aux_account=supplier.aux_account, aux_label=supplier.name),
               LineDraft(account=bank_account(payment.company), debit="0.00", credit=amount)),
        third_party_name=supplier.name, third_party_code=supplier.aux_account)


def payment_book(payment, *, letter=True):
    """Book a paid ``payment`` and letter it with its invoice; None for an invoice without a
    supplier (written around the services: no auxiliary account to letter). Booking again is
    idempotent (``entry_book``); a draft replaced keeps its lettering."""
    invoice = payment.invoice
    if invoice.supplier_id is None or payment.amount <= 0:
        return None
    day = payment.executed_at.astimezone(PARIS).date()
    try:
        booking = entry_book(company=payment.company, source=SOURCE,
                             draft=payment_draft(payment, day))
    except DraftRefused as refused:
        raise ValidationError(_("Le paiement ne peut pas être passé au journal de banque : "
                                "%(reasons)s") % {"reasons": " ".join(
                                    {**refused.malformed, **refused.invalid}.values())}) from None
    if letter:
        payment_letter(payment)
    return booking


def payment_letter(payment, actor=None):
    """Letter the supplier lines of a paid payment and of its invoice (corrections of both
    included), per auxiliary account, where they balance (``documents_letter``)."""
    return documents_letter(company=payment.company, account=SUPPLIERS, actor=actor,
                            documents=[(Journal.Source.PURCHASES, invoice_ref(payment.invoice)),
                                       (SOURCE, source_ref(payment))])


def _paid(invoices):
    return (Payment.objects.filter(invoice__in=invoices, status=Payment.Status.PAID,
                                   invoice__supplier__isnull=False)
            .select_related("company", "invoice__supplier").order_by("id"))


@on_payment_paid
def _payment_paid(payment):
    payment_book(payment)


@on_invoice_recorded
def _invoice_recorded(invoice, actor):
    """After ``purchases_books`` booked the edit (registered first): a paid invoice's new
    correction is lettered with its payment."""
    for payment in _paid([invoice]):
        payment_letter(payment, actor)


@on_supplier_changed
def _supplier_changed(supplier, invoices, actor):
    """A new auxiliary code: paid payments follow it as their invoices do (a draft is
    replaced; an exported entry gets a correcting entry), then both are lettered again per
    auxiliary account."""
    for payment in _paid(invoices):
        payment_book(payment, letter=False)
    for payment in _paid(invoices):
        payment_letter(payment, actor)
