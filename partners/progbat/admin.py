from django.contrib import admin

from .models import ProgbatLink, ProgbatUserAccess


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
