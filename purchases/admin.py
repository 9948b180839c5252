from django.contrib import admin

from .models import Payment, SupplierInvoice


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
    inlines = [PaymentInline]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["invoice", "status", "amount", "execution_date", "provider_payment_id",
                    "idempotency_key", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["idempotency_key", "provider_payment_id", "invoice__number"]
    readonly_fields = [f.name for f in Payment._meta.fields]
