from django.contrib import admin

from .models import ProgbatBackfill, ProgbatLink, ProgbatUserAccess


class AccessInline(admin.TabularInline):
    model = ProgbatUserAccess
    extra = 0
    readonly_fields = ["user", "role", "created_at"]
    fields = readonly_fields


@admin.register(ProgbatLink)
class ProgbatLinkAdmin(admin.ModelAdmin):
    list_display = ["company", "status", "progbat_account_id", "licence_status", "linked_at",
                    "activated_by", "error_code"]
    list_filter = ["status", "licence_status"]
    search_fields = ["company__name", "company__siret", "progbat_account_id"]
    list_select_related = ["company", "activated_by"]
    inlines = [AccessInline]


@admin.register(ProgbatUserAccess)
class ProgbatUserAccessAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "link", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "link__company__name"]


@admin.register(ProgbatBackfill)
class ProgbatBackfillAdmin(admin.ModelAdmin):
    """Read-only: a backfill is requested and confirmed from its page, never made here."""

    list_display = ["company", "date_from", "date_to", "status", "imported", "skipped",
                    "requested_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["company__name", "company__siret"]
    list_select_related = ["company", "requested_by"]
    readonly_fields = ["firm", "company", "date_from", "date_to", "status", "requested_by",
                       "created_at", "confirmed_by", "confirmed_at", "finished_at", "imported",
                       "skipped", "error", "items"]
    exclude = ["invoices"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
