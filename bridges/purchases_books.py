"""Achats → books: each supplier invoice is an entry of the company's purchases journal
(DESIGN §7.2).

Why a bridge: dependencies point one way (DESIGN §2). Accounting must not know Achats, and
Achats (→ companies) must not know accounting, so neither calls the other. This module sits
above both, as ``demo`` does: it listens to what Achats announces (``purchases.hooks``) and
asks accounting to book (``accounting.services.entries.entry_book``). It only translates an
invoice into an ``EntryDraft``: accounting keeps its rules (the chart, the balance, drafts
replaced, exported entries corrected), Achats keeps its own (accounts 6x/2x, VAT lines,
suppliers). Both calls run in the invoice's transaction: an invoice the books refuse (an
account the company's chart lacks) is not recorded either, and the form says why.

An invoice of H € HT + V € TVA = T € TTC becomes:
  its expense account (6x; or 2x, a fixed asset)        debit  H
  445660 TVA sur autres biens et services                debit  V   (445620 for a fixed asset)
  401000 Fournisseurs, auxiliary: the supplier's code    credit T
Several VAT rates make one VAT line: deductible VAT is declared as one amount per kind (CA3:
« immobilisations », « autres biens et services »), which is what 44562 and 44566 hold; the
rates stay on the invoice.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounting.drafts import DraftRefused, EntryDraft, LineDraft
from accounting.models import Journal
from accounting.services.documents import entry_document_attach, entry_document_detach
from accounting.services.entries import entry_book
from purchases.hooks import on_invoice_recorded, on_supplier_changed

SOURCE = Journal.Source.PURCHASES
SUPPLIERS = "401000"
VAT_ON_GOODS_AND_SERVICES = "445660"
VAT_ON_FIXED_ASSETS = "445620"


def source_ref(invoice):
    return f"supplier-invoice:{invoice.pk}"


def invoice_draft(invoice):
    """The entry ``invoice`` calls for, in accounting's words (no line for a zero amount; no
    line at all for a 0 € invoice, which books nothing)."""
    fixed_asset = invoice.expense_account.startswith("2")
    sides = [
        (invoice.expense_account, invoice.amount_excl_tax, "debit", ""),
        (VAT_ON_FIXED_ASSETS if fixed_asset else VAT_ON_GOODS_AND_SERVICES,
         invoice.vat_amount, "debit", ""),
        (SUPPLIERS, invoice.amount_incl_tax, "credit", invoice.supplier.aux_account),
    ]
    lines = tuple(
        LineDraft(account=account, debit=f"{amount:.2f}" if side == "debit" else "0.00",
                  credit=f"{amount:.2f}" if side == "credit" else "0.00",
                  aux_account=aux, aux_label=invoice.supplier.name if aux else "")
        for account, amount, side, aux in sides if amount > 0)
    return EntryDraft(source=SOURCE, source_ref=source_ref(invoice),
                      source_version=invoice.version, date=invoice.issue_date.isoformat(),
                      validated_at=invoice.updated_at.isoformat(), piece_ref=invoice.number,
                      label=f"{invoice.number} {invoice.supplier_name}", lines=lines,
                      third_party_name=invoice.supplier.name,
                      third_party_code=invoice.supplier.aux_account)


def invoice_book(invoice, actor=None):
    """Book ``invoice`` (see ``entry_book``); a refusal becomes the form's error."""
    draft = invoice_draft(invoice)
    try:
        booking = entry_book(company=invoice.company, source=SOURCE, draft=draft, actor=actor)
    except DraftRefused as refused:
        problems = {**refused.malformed, **refused.invalid}
        expense = [f"lines[{index}].account" for index, line in enumerate(draft.lines)
                   if line.account == invoice.expense_account]
        if expense and expense[0] in problems:
            raise ValidationError({"expense_account": _(
                "Le compte %(account)s n'existe pas dans le plan comptable de l'entreprise : "
                "choisissez un compte de charges (6…) ou d'immobilisation (2…) qui y figure, "
                "par exemple 607000.") % {"account": invoice.expense_account}}) from None
        raise ValidationError(_("La facture ne peut pas être passée au journal des achats : "
                                "%(reasons)s") % {"reasons": " ".join(problems.values())}
                              ) from None
    invoice_document_sync(invoice)
    return booking


def invoice_document_sync(invoice):
    """The invoice's PDF is the pièce of its entries (a correcting entry's too): referenced
    where Achats stored it, never copied; none once the PDF is removed."""
    if invoice.pdf:
        entry_document_attach(company=invoice.company, source=SOURCE,
                              source_ref=source_ref(invoice), source_version=invoice.version,
                              stored_name=invoice.pdf.name)
    else:
        entry_document_detach(company=invoice.company, source=SOURCE,
                              source_ref=source_ref(invoice))


def invoices_book(invoices, actor=None):
    """Book each invoice as it stands (idempotent); ``{outcome: count}``. Invoices written
    around the services (no supplier) are left out."""
    outcomes = {}
    for invoice in invoices.filter(supplier__isnull=False).exclude(expense_account="") \
            .select_related("company", "supplier").order_by("id"):
        outcome = invoice_book(invoice, actor).outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@on_invoice_recorded
def _invoice_recorded(invoice, actor):
    invoice_book(invoice, actor)


@on_supplier_changed
def _supplier_changed(supplier, invoices, actor):
    invoices_book(invoices, actor)
