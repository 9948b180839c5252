from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "firm", "company", "actor", "action", "summary"]
    list_filter = ["action", "firm", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["summary", "company__name", "actor__email"]
    list_select_related = ["firm", "company", "actor"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        return False  # the trail is append-only

    def has_add_permission(self, request):
        return False
