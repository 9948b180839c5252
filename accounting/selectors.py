"""Reads of the export space."""

from django.db.models import Count, Q, Sum

from .models import Entry, EntryDocument, EntryLine, ExportBatch, InboxEvent, Journal
from .services.documents import document_source_ref


def journals_summary(*, company):
    """Each journal with its entry counts (all, to export) and its total debit."""
    return (Journal.objects.filter(company=company).order_by("code")
            .annotate(entry_count=Count("entries", distinct=True),
                      draft_count=Count("entries", filter=Q(entries__state=Entry.State.DRAFT),
                                        distinct=True),
                      total_debit=Sum("entries__lines__debit")))


def preview_lines(*, company, journal_codes=None, date_from=None, date_to=None):
    lines = (EntryLine.objects.filter(entry__company=company)
             .select_related("entry", "entry__journal", "lettered__lettering")
             .order_by("entry__date", "entry__journal__code", "entry__number", "position"))
    if journal_codes:
        lines = lines.filter(entry__journal__code__in=journal_codes)
    if date_from:
        lines = lines.filter(entry__date__gte=date_from)
    if date_to:
        lines = lines.filter(entry__date__lte=date_to)
    return lines


def entries_carried_over(*, company):
    """Entries whose document is dated in a closed fiscal year, booked in the next one."""
    return (Entry.objects.filter(company=company, piece_date__isnull=False)
            .select_related("journal").order_by("-date", "-id"))


def exports_of(*, company):
    return ExportBatch.objects.filter(company=company).select_related("created_by")


def partner_events_needing_attention(*, firm=None, company=None):
    """Events MEG ignored or refused, with their reason, newest first."""
    events = InboxEvent.objects.filter(
        status__in=[InboxEvent.Status.IGNORED, InboxEvent.Status.REJECTED]).select_related(
        "company")
    if firm is not None:
        events = events.filter(firm=firm)
    if company is not None:
        events = events.filter(company=company)
    return events


def entry_document(entry):
    """The pièce of ``entry`` (that of the document it books), or None."""
    return EntryDocument.objects.filter(
        journal_id=entry.journal_id, source_ref=document_source_ref(entry.source_ref)).first()


def entries_with_document(entries):
    """The ids of those of ``entries`` (loaded) whose document has a pièce: one query."""
    wanted = {(entry.journal_id, document_source_ref(entry.source_ref)): entry.pk
              for entry in entries}
    if not wanted:
        return set()
    found = set(EntryDocument.objects.filter(
        journal_id__in={journal for journal, _ref in wanted},
        source_ref__in={ref for _journal, ref in wanted}).values_list("journal_id", "source_ref"))
    ids = set()
    for entry in entries:
        if (entry.journal_id, document_source_ref(entry.source_ref)) in found:
            ids.add(entry.pk)
    return ids
