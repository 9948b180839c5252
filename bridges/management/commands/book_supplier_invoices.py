"""Book the Achats invoices recorded before the purchases journal existed (idempotent)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django_scopes import scopes_disabled

from bridges.purchases_books import invoices_book
from purchases.models import SupplierInvoice


class Command(BaseCommand):
    help = "Passe au journal des achats les factures fournisseurs (sans effet si déjà fait)."

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Une seule entreprise (id).")

    def handle(self, *args, company=None, **options):
        outcomes = {}
        with scopes_disabled():
            invoices = SupplierInvoice.objects.all()
            if company is not None:
                invoices = invoices.filter(company_id=company)
            for invoice_id in invoices.order_by("id").values_list("pk", flat=True):
                try:  # one refused invoice (an account the chart lacks) never stops the rest
                    done = invoices_book(SupplierInvoice.objects.filter(pk=invoice_id))
                except ValidationError as error:
                    self.stderr.write(f"Facture {invoice_id} : {' '.join(error.messages)}")
                    done = {"refused": 1}
                for name, count in done.items():
                    outcomes[name] = outcomes.get(name, 0) + count
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in sorted(
            outcomes.items())) or "Aucune facture.")
