from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Consent, OutboxAttempt, OutboxMessage, PartnerConnection


@admin.register(PartnerConnection)
class PartnerConnectionAdmin(admin.ModelAdmin):
    list_display = ["user", "partner", "status", "connected_at", "expires_at", "refreshed_at"]
    list_filter = ["partner", "status"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    # Tokens are secrets: never shown, even to support.
    exclude = ["access_token", "refresh_token"]
    readonly_fields = ["firm", "user", "partner", "expires_at", "scope", "connected_at",
                       "refreshed_at", "last_error"]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["company", "partner", "user", "text_version", "given_at", "withdrawn_at"]
    list_filter = ["partner", "text_version"]
    search_fields = ["company__name", "user__email"]
    readonly_fields = ["firm", "company", "user", "partner", "text_version", "text_sha256",
                       "given_at", "withdrawn_at", "withdrawn_by"]
    list_select_related = ["company", "user"]


@admin.action(description=_("Renvoyer maintenant"))
def deliver_now(modeladmin, request, queryset):
    from .outbox import outbox_retry_now

    count = outbox_retry_now(queryset)
    messages.success(request, ngettext("%(count)d appel relancé.", "%(count)d appels relancés.",
                                       count) % {"count": count})


ATTEMPT_FIELDS = ["number", "started_at", "finished_at", "duration_ms", "outcome",
                  "status_code", "error"]


class ReadOnlyMixin:
    """Attempts are a record: nobody adds, edits or deletes one by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OutboxAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = OutboxAttempt
    fields = readonly_fields = ATTEMPT_FIELDS
    extra = 0
    can_delete = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "partner", "action", "company", "status", "attempts",
                    "next_attempt_at", "last_error"]
    list_filter = ["partner", "action", "status"]
    search_fields = ["idempotency_key", "company__name"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    list_select_related = ["company"]
    actions = [deliver_now]
    inlines = [OutboxAttemptInline]


@admin.register(OutboxAttempt)
class OutboxAttemptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["started_at", "message", "number", "outcome", "status_code",
                    "duration_ms", "error"]
    list_filter = ["outcome", "message__partner", "message__action"]
    search_fields = ["message__idempotency_key", "error"]
    readonly_fields = ["message", *ATTEMPT_FIELDS]
    list_select_related = ["message"]
