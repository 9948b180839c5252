from django.contrib import admin

from .models import (
    LibeoConnectIntent,
    LibeoConnection,
    LibeoInvoice,
    RedeemedAuthorizationCode,
)


@admin.register(LibeoConnection)
class LibeoConnectionAdmin(admin.ModelAdmin):
    list_display = ["company", "plan", "masked_key", "payments_this_month", "payments_limit",
                    "source", "checked_at"]
    list_filter = ["plan", "source"]
    search_fields = ["company__name", "libeo_siren"]
    exclude = ["api_key"]  # a secret: shown masked only
    readonly_fields = ["masked_key", "libeo_company_name", "libeo_siren", "users",
                       "checked_at", "connected_by"]


@admin.register(LibeoInvoice)
class LibeoInvoiceAdmin(admin.ModelAdmin):
    list_display = ["invoice", "sent_version", "sent_at"]
    search_fields = ["invoice__number", "invoice__supplier_name"]


@admin.register(LibeoConnectIntent)
class LibeoConnectIntentAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "created_at"]
    search_fields = ["user__email", "company__name"]


@admin.register(RedeemedAuthorizationCode)
class RedeemedAuthorizationCodeAdmin(admin.ModelAdmin):
    """Written by the OpenID provider only (a replayed code is what support looks for)."""

    list_display = ["client_id", "user", "redeemed_at", "replayed_at"]
    list_filter = ["client_id"]
    search_fields = ["user__email", "client_id"]
    readonly_fields = ["code_digest", "client_id", "user", "access_token_id", "token_family",
                       "redeemed_at", "replayed_at"]

    def has_add_permission(self, request):
        return False
