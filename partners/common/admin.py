from django.contrib import admin, messages

from .models import Consent, OutboxMessage, PartnerConnection


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


@admin.action(description="Renvoyer maintenant")
def deliver_now(modeladmin, request, queryset):
    from .tasks import outbox_deliver

    count = 0
    for message in queryset.exclude(status=OutboxMessage.Status.SENT):
        message.status, message.next_attempt_at = OutboxMessage.Status.RETRYING, None
        message.save(update_fields=["status", "next_attempt_at"])
        outbox_deliver.delay(message.pk)
        count += 1
    messages.success(request, f"{count} appel(s) relancé(s).")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "partner", "action", "company", "status", "attempts",
                    "next_attempt_at", "last_error"]
    list_filter = ["partner", "action", "status"]
    search_fields = ["idempotency_key", "company__name"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    list_select_related = ["company"]
    actions = [deliver_now]
