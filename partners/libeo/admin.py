from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    LibeoConnectIntent,
    LibeoConnection,
    LibeoInvoice,
    LibeoPaymentPoll,
    RedeemedAuthorizationCode,
)


@admin.register(LibeoConnection)
class LibeoConnectionAdmin(admin.ModelAdmin):
    list_display = ["company", "plan", "masked_key", "payments_this_month", "payments_limit",
                    "source", "checked_at"]
    list_filter = ["plan", "source"]
    search_fields = ["company__name", "libeo_siren"]
    exclude = ["api_key"]  # a secret: shown masked only
    readonly_fields = ["masked_key", "libeo_company_name", "libeo_siren", "account_id", "users",
                       "checked_at", "connected_by"]


@admin.register(LibeoInvoice)
class LibeoInvoiceAdmin(admin.ModelAdmin):
    list_display = ["invoice", "account_id", "sent_version", "sent_at"]
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


@admin.register(LibeoPaymentPoll)
class LibeoPaymentPollAdmin(admin.ModelAdmin):
    """Scheduled payments MEG is following at Libeo (written by MEG only)."""

    list_display = ["payment", "libeo_payment_id", "account_id", "next_check_at", "checks",
                    "last_checked_at", "last_error"]
    search_fields = ["libeo_payment_id", "payment__invoice__number"]
    list_select_related = ["payment__invoice"]
    exclude = ["api_key"]  # a secret
    readonly_fields = ["payment", "libeo_payment_id", "account_id", "account_name", "key_last4",
                       "checks", "last_checked_at", "last_error", "created_at"]
    actions = ["check_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Vérifier maintenant chez Libeo (au prochain passage)"))
    def check_now(self, request, queryset):
        count = queryset.update(next_check_at=timezone.now())
        self.message_user(request, ngettext(
            "%(count)d paiement vérifié au prochain passage.",
            "%(count)d paiements vérifiés au prochain passage.", count) % {"count": count},
                          messages.SUCCESS)
