from django.contrib import admin

from .models import Firm, FirmMembership, FirmNews, PartnerConvention, Site


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


class ConventionInline(admin.TabularInline):
    model = PartnerConvention
    extra = 0


@admin.register(Firm)
class FirmAdmin(admin.ModelAdmin):
    list_display = ["name", "siren", "created_at"]
    search_fields = ["name", "siren"]
    inlines = [SiteInline, ConventionInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "firm"]
    list_filter = ["firm"]
    search_fields = ["name", "city", "firm__name"]


@admin.register(FirmMembership)
class FirmMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "firm", "role", "site"]
    list_filter = ["role", "firm"]
    search_fields = ["user__email", "user__last_name", "firm__name"]
    autocomplete_fields = ["user", "firm"]
    list_select_related = ["user", "firm", "site"]


@admin.register(PartnerConvention)
class PartnerConventionAdmin(admin.ModelAdmin):
    list_display = ["firm", "partner", "kind", "signed_at"]
    list_filter = ["partner", "kind"]
    search_fields = ["firm__name", "firm__siren"]


@admin.register(FirmNews)
class FirmNewsAdmin(admin.ModelAdmin):
    list_display = ["title", "firm", "published", "created_at"]
    list_filter = ["published", "firm"]
    search_fields = ["title", "body", "firm__name"]

