from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Payment, Supplier, SupplierInvoice, SupplierInvoiceVatLine


class VatLineInline(admin.TabularInline):
    model = SupplierInvoiceVatLine
    extra = 0
    fields = ["rate", "base_amount", "vat_amount"]
    readonly_fields = fields  # the totals of the invoice are their sums: edited in Achats
    can_delete = False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ["attempt", "status", "amount", "execution_date", "executed_at",
              "provider_payment_id", "error_detail", "requested_by", "created_at"]
    readonly_fields = fields


@admin.register(SupplierInvoice)
class SupplierInvoiceAdmin(admin.ModelAdmin):
    list_display = ["supplier_name", "number", "company", "due_date", "amount_incl_tax",
                    "payment_method", "version"]
    list_filter = ["payment_method", ("due_date", admin.DateFieldListFilter)]
    search_fields = ["supplier_name", "number", "company__name"]
    list_select_related = ["company"]
    raw_id_fields = ["supplier"]
    inlines = [VatLineInline, PaymentInline]
    # The PDF has no URL (meg.storage.PrivateStorage): shown by name, changed in MEG only.
    exclude = ["pdf"]
    readonly_fields = ["document"]

    @admin.display(description=_("facture (PDF)"))
    def document(self, invoice):
        return invoice.pdf.name or "—"


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "aux_account", "expense_account"]
    search_fields = ["name", "aux_account", "company__name"]
    list_select_related = ["company"]


@admin.register(SupplierInvoiceVatLine)
class SupplierInvoiceVatLineAdmin(admin.ModelAdmin):
    list_display = ["invoice", "rate", "base_amount", "vat_amount"]
    search_fields = ["invoice__number", "invoice__supplier_name"]
    list_select_related = ["invoice"]
    raw_id_fields = ["invoice"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["invoice", "status", "amount", "execution_date", "provider_payment_id",
                    "idempotency_key", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["idempotency_key", "provider_payment_id", "invoice__number"]
    readonly_fields = [f.name for f in Payment._meta.fields]
