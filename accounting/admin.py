from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    BatchExport,
    ChainSeal,
    ChartAccount,
    Entry,
    EntryDocument,
    EntryLine,
    ExportBatch,
    FiscalYear,
    InboxEvent,
    IntegrityCheck,
    Journal,
    JournalSequence,
    LetteredLine,
    Lettering,
    PcgAccount,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Accounting records are written by MEG only: support reads them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PcgAccount)
class PcgAccountAdmin(ReadOnlyAdmin):
    list_display = ["number", "label", "level"]
    list_filter = ["level"]
    search_fields = ["number", "label"]


@admin.register(ChartAccount)
class ChartAccountAdmin(admin.ModelAdmin):
    list_display = ["number", "label", "company"]
    search_fields = ["number", "label", "company__name"]
    list_select_related = ["company"]


@admin.register(Journal)
class JournalAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "company", "source"]
    list_filter = ["source"]
    search_fields = ["code", "company__name"]
    list_select_related = ["company"]


@admin.register(FiscalYear)
class FiscalYearAdmin(ReadOnlyAdmin):
    list_display = ["company", "start", "end", "state", "closed_at", "closed_by"]
    list_filter = ["state"]
    list_select_related = ["company", "closed_by"]


@admin.register(IntegrityCheck)
class IntegrityCheckAdmin(ReadOnlyAdmin):
    list_display = ["company", "intact", "entry_count", "checked_at"]
    list_filter = ["intact"]
    list_select_related = ["company"]


@admin.register(ChainSeal)
class ChainSealAdmin(ReadOnlyAdmin):
    list_display = ["company", "entry_count", "last_position", "head_hash", "updated_at"]
    list_select_related = ["company"]


@admin.register(JournalSequence)
class JournalSequenceAdmin(ReadOnlyAdmin):
    list_display = ["journal", "fiscal_year", "last_number"]
    list_select_related = ["journal"]


class EntryLineInline(admin.TabularInline):
    model = EntryLine
    extra = 0
    can_delete = False
    fields = ["position", "account", "account_label", "aux_account", "aux_label", "label",
              "debit", "credit"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["reference", "date", "piece_ref", "label", "company", "state",
                    "source_version"]
    list_filter = ["state", "journal__code", ("date", admin.DateFieldListFilter)]
    search_fields = ["piece_ref", "label", "source_ref", "company__name"]
    list_select_related = ["journal", "company"]
    date_hierarchy = "date"
    inlines = [EntryLineInline]


@admin.register(EntryLine)
class EntryLineAdmin(ReadOnlyAdmin):
    list_display = ["entry", "account", "account_label", "debit", "credit"]
    search_fields = ["account", "entry__piece_ref"]
    list_select_related = ["entry", "entry__journal"]


@admin.register(Lettering)
class LetteringAdmin(ReadOnlyAdmin):
    list_display = ["code", "date", "company", "created_at"]
    search_fields = ["code", "company__name"]
    list_select_related = ["company"]


@admin.register(LetteredLine)
class LetteredLineAdmin(ReadOnlyAdmin):
    list_display = ["lettering", "line"]
    search_fields = ["lettering__code", "line__account", "line__aux_account"]
    list_select_related = ["lettering", "line", "line__entry"]


@admin.register(ExportBatch)
class ExportBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "company", "format", "date_from", "date_to", "status",
                    "entry_count", "created_by"]
    list_filter = ["format", "status"]
    search_fields = ["company__name", "file_name", "sha256"]
    list_select_related = ["company", "created_by"]
    # The archive holds pièces: private storage, no URL (meg.storage.PrivateStorage).
    exclude = ["archive"]
    readonly_fields = ["archive_name"]

    @admin.display(description=_("archive avec les pièces"))
    def archive_name(self, batch):
        return batch.archive.name or "—"


@admin.register(EntryDocument)
class EntryDocumentAdmin(ReadOnlyAdmin):
    list_display = ["source_ref", "source_version", "journal", "company", "origin", "size",
                    "attached_at"]
    list_filter = ["origin"]
    search_fields = ["source_ref", "company__name", "sha256"]
    list_select_related = ["company", "journal"]
    # No URL (private storage): shown by name; served by the export space's pièce view.
    exclude = ["file"]
    readonly_fields = ["file_name"]

    @admin.display(description=_("pièce (PDF)"))
    def file_name(self, document):
        return document.file.name or "—"


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "company", "event_type", "source_ref", "source_version",
                    "status", "reason"]
    list_filter = ["status", "event_type", "partner"]
    search_fields = ["webhook_id", "source_ref", "company__name"]
    list_select_related = ["company"]


@admin.register(BatchExport)
class BatchExportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "firm", "selection", "format", "date_from", "date_to",
                    "status"]
    list_filter = ["status", "format"]
    search_fields = ["selection", "firm__name"]
    list_select_related = ["firm"]
