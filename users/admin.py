from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, User
from .services import api_token_revoke


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "language")}),
        (_("Droits"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                  "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "password1", "password2")}),)


# allauth.mfa's own admin shows and edits an authenticator's data: the TOTP secret and the
# recovery codes' seed. Support sees which factors a user has and deletes one (a lost phone);
# no one reads a secret or forges a factor.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens without their secret (MEG keeps only a digest); deleting one revokes it."""

    list_display = ["key_start", "user", "name", "created", "expiry", "last_used_at"]
    search_fields = ["user__email", "name", "token_key"]
    list_select_related = ["user"]
    fields = ["key_start", "user", "name", "created", "expiry", "last_used_at"]
    readonly_fields = ["key_start", "user", "created", "last_used_at"]
    actions = ["revoke"]

    @admin.display(description=_("début du jeton"), ordering="token_key")
    def key_start(self, token):
        return f"{token.token_key}…"

    def has_add_permission(self, request):
        # A token is shown once, where it is made: `manage.py create_api_token` or Paramètres.
        return False

    @admin.action(description=_("Révoquer les jetons sélectionnés"))
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            api_token_revoke(token=token, actor=request.user)
