from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .invitations import invitation_cancel
from .models import (
    Company,
    CompanyAccountant,
    CompanyMembership,
    Invitation,
    Licence,
    Module,
    ModuleActivation,
    UserModuleAccess,
)


class MembershipInline(admin.TabularInline):
    model = CompanyMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "firm"]


class AccountantInline(admin.TabularInline):
    model = CompanyAccountant
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "firm"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "siret", "firm", "state", "dossier_type", "created_at"]
    list_filter = ["state", "dossier_type", "firm"]
    search_fields = ["name", "siret", "city", "firm__name"]
    list_select_related = ["firm"]
    inlines = [MembershipInline, AccountantInline]


@admin.register(CompanyMembership)
class CompanyMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "firm"]
    list_filter = ["role", "firm"]
    search_fields = ["user__email", "user__last_name", "company__name"]
    autocomplete_fields = ["user", "company"]
    list_select_related = ["user", "company", "firm"]


@admin.register(CompanyAccountant)
class CompanyAccountantAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "firm"]
    list_filter = ["firm"]
    search_fields = ["user__email", "company__name"]
    autocomplete_fields = ["user", "company"]
    list_select_related = ["user", "company", "firm"]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "tier", "position"]
    list_filter = ["tier"]
    search_fields = ["name", "code"]


@admin.register(ModuleActivation)
class ModuleActivationAdmin(admin.ModelAdmin):
    list_display = ["company", "module", "enabled", "changed_by", "changed_at"]
    list_filter = ["enabled", "module", "firm"]
    search_fields = ["company__name", "module__name"]
    list_select_related = ["company", "module", "changed_by"]


@admin.register(UserModuleAccess)
class UserModuleAccessAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "module", "enabled", "is_admin"]
    list_filter = ["enabled", "is_admin", "module"]
    search_fields = ["user__email", "company__name"]
    list_select_related = ["user", "company", "module"]


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "tier", "starts_on", "ends_on"]
    list_filter = ["tier", "firm", "ends_on"]
    search_fields = ["user__email", "company__name"]
    list_select_related = ["user", "company"]
    date_hierarchy = "ends_on"


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are sent from MEG's pages (their link exists only in the e-mail): support
    reads them and may cancel them, never writes one."""

    list_display = ["email", "firm", "company", "role", "created_at", "expires_at",
                    "accepted_at", "declined_at", "cancelled_at"]
    list_filter = ["role", "firm"]
    search_fields = ["email", "firm__name", "company__name"]
    list_select_related = ["firm", "company"]
    fields = ["email", "firm", "company", "role", "site", "invited_by", "created_at",
              "expires_at", "accepted_at", "declined_at", "cancelled_at"]
    readonly_fields = fields
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Annuler les invitations sélectionnées"))
    def cancel(self, request, queryset):
        for invitation in queryset:
            invitation_cancel(invitation=invitation, actor=request.user)
