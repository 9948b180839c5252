"""Invoices recorded before suppliers and VAT lines existed: each gets its supplier (one per
company and name, with a free auxiliary code derived from the name), the default expense
account, and one VAT line made of its totals. Booking them is ``book_supplier_invoices``."""

import re
import unicodedata
from decimal import Decimal

from django.db import migrations

# As in purchases.models when this migration was written (migrations do not follow the code).
DEFAULT_EXPENSE_ACCOUNT = "607000"
AUX_CODE_LENGTH = 10


def aux_code_from_name(name):
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    letters = re.sub(r"[^A-Z0-9]", "", ascii_name.upper())
    return ("F" + (letters or "OURN"))[:AUX_CODE_LENGTH]


def link(apps, schema_editor):
    Invoice = apps.get_model("purchases", "SupplierInvoice")
    Supplier = apps.get_model("purchases", "Supplier")
    VatLine = apps.get_model("purchases", "SupplierInvoiceVatLine")
    suppliers, codes = {}, {}
    for invoice in Invoice.objects.filter(supplier__isnull=True).order_by("id").iterator():
        name = " ".join(invoice.supplier_name.split())
        key = (invoice.company_id, name.lower())
        if key not in suppliers:
            taken = codes.setdefault(invoice.company_id, set(
                Supplier.objects.filter(company_id=invoice.company_id)
                .values_list("aux_account", flat=True)))
            base = candidate = aux_code_from_name(name)
            number = 1
            while candidate in taken:
                number += 1
                candidate = base[:AUX_CODE_LENGTH - len(str(number))] + str(number)
            taken.add(candidate)
            suppliers[key] = Supplier.objects.create(
                firm_id=invoice.firm_id, company_id=invoice.company_id, name=name,
                aux_account=candidate, expense_account=DEFAULT_EXPENSE_ACCOUNT)
        invoice.supplier = suppliers[key]
        invoice.expense_account = invoice.expense_account or DEFAULT_EXPENSE_ACCOUNT
        invoice.save(update_fields=["supplier", "expense_account"])
        if not VatLine.objects.filter(invoice=invoice).exists():
            excl, vat = invoice.amount_excl_tax, invoice.vat_amount
            rate = (vat * 100 / excl).quantize(Decimal("0.01")) if excl else Decimal("0.00")
            VatLine.objects.create(firm_id=invoice.firm_id, company_id=invoice.company_id,
                                   invoice=invoice, rate=min(rate, Decimal(100)),
                                   base_amount=excl, vat_amount=vat)


class Migration(migrations.Migration):

    dependencies = [("purchases", "0003_suppliers_vat_lines")]

    operations = [migrations.RunPython(link, migrations.RunPython.noop)]
