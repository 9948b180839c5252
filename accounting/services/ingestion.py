"""Inbox → sales journal: partner events become balanced entries, idempotently.

A task claims a batch of received events (``SKIP LOCKED``: several workers never take the
same), journalises them in one transaction and marks them processed. Same invoice and version
→ one entry; a later version replaces a draft entry (even into another fiscal year: drafts have
no definitive number yet); an older version never regresses; an exported entry is never touched.
"""

import datetime
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.models import Company

from ..chart import resolve_labels
from ..drafts import EntryDraft
from ..models import Entry, EntryLine, InboxEvent
from .fiscal_years import open_fiscal_year_for
from .journals import journal_for

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
logger = logging.getLogger(__name__)


def inbox_process(*, limit=BATCH_SIZE):
    """Journalise up to ``limit`` waiting events; returns how many were taken.

    If the batch fails (two workers creating the same invoice's entry, or one bad event), its
    events are retried one by one so that one event can never block the others; an event that
    keeps failing is rejected with its reason after ``MAX_ATTEMPTS``.
    """
    try:
        return _process_batch(limit=limit)
    except Exception:
        logger.exception("inbox batch failed; retrying its events one by one")
    with scopes_disabled():
        ids = list(InboxEvent.objects.filter(status=InboxEvent.Status.RECEIVED)
                   .order_by("id").values_list("pk", flat=True)[:limit])
    for event_id in ids:
        try:
            _process_batch(limit=1, event_id=event_id)
        except Exception as error:
            logger.exception("inbox event %s failed", event_id)
            _record_failure(event_id, error)
    return len(ids)


def _record_failure(event_id, error):
    with scopes_disabled(), transaction.atomic():
        event = InboxEvent.objects.select_for_update().get(pk=event_id)
        event.attempts += 1
        event.reason = f"{type(error).__name__}: {error}"[:300]
        if event.attempts >= MAX_ATTEMPTS:
            event.status = InboxEvent.Status.REJECTED
            event.processed_at = timezone.now()
        event.save(update_fields=["attempts", "reason", "status", "processed_at"])


def _process_batch(*, limit, event_id=None):
    with scopes_disabled(), transaction.atomic():
        events = InboxEvent.objects.select_for_update(skip_locked=True).filter(
            status=InboxEvent.Status.RECEIVED)
        if event_id is not None:
            events = events.filter(pk=event_id)
        events = list(events.order_by("id")[:limit])
        if not events:
            return 0
        by_company = defaultdict(list)
        for event in events:
            by_company[event.company_id].append(event)
        companies = Company.objects.in_bulk(list(by_company))
        for company_id, company_events in by_company.items():
            _journalise(companies[company_id], company_events)
        InboxEvent.objects.bulk_update(events, ["status", "reason", "processed_at", "attempts",
                                                "entry"])
    return len(events)


def inbox_waiting_count(older_than_seconds=0):
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    with scopes_disabled():
        return InboxEvent.objects.filter(status=InboxEvent.Status.RECEIVED,
                                         received_at__lte=cutoff).count()


def _settle(event, status, reason="", entry=None):
    event.status, event.reason, event.entry = status, reason[:300], entry
    event.processed_at = timezone.now()


def _journalise(company, events):
    """One company's events, all of one source per journal.

    The company row is held ``FOR SHARE``: workers journalising the same company do not wait
    for each other, but a closing (which holds it ``FOR UPDATE``) finishes before any entry
    is added, so that nothing enters a year while it closes."""
    if connection.vendor == "postgresql":  # SQLite (embedded mode) has one writer anyway
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM companies_company WHERE id = %s FOR SHARE",
                           [company.pk])
    by_source = defaultdict(list)
    for event in events:
        by_source[event.partner].append(event)
    for source, source_events in by_source.items():
        _journalise_source(company, journal_for(company, source), source_events)


def _journalise_source(company, journal, events):
    drafts = {event.pk: EntryDraft.from_json(event.draft) for event in events}
    refs = {event.source_ref for event in events}
    entries = {entry.source_ref: entry for entry in
               Entry.objects.select_for_update().filter(journal=journal, source_ref__in=refs)}
    wanted = {}
    for draft in drafts.values():
        for line in draft.lines:
            if line.account_label or line.account not in wanted:
                wanted[line.account] = line.account_label
    labels = resolve_labels(company, wanted)

    new_entries, replaced = {}, {}
    for event in sorted(events, key=lambda e: (e.source_ref, e.source_version, e.pk)):
        event.attempts += 1
        draft = drafts[event.pk]
        entry = entries.get(event.source_ref)
        if entry is not None and entry.source_version >= event.source_version:
            _settle(event, InboxEvent.Status.PROCESSED,
                    _("Version %(v)s déjà journalisée.") % {"v": entry.source_version}, entry)
            continue
        if entry is not None and entry.is_exported:
            _settle(event, InboxEvent.Status.REJECTED,
                    _("L'écriture de ce document est déjà exportée : elle ne change plus."),
                    entry)
            continue
        piece_date = parse_date(draft.date)
        year = open_fiscal_year_for(company, piece_date)
        day, note = piece_date, ""
        if piece_date not in year:  # its own year is closed: booked on the next open one
            day = year.start
            note = _("Pièce du %(piece)s : l'exercice %(closed)s est clôturé, écriture "
                     "passée au %(day)s.") % {"piece": piece_date.strftime("%d/%m/%Y"),
                                              "closed": piece_date.year,
                                              "day": day.strftime("%d/%m/%Y")}
        fiscal_year = year.end.year
        if entry is None:
            entry = Entry(firm_id=company.firm_id, company=company, journal=journal,
                          fiscal_year=fiscal_year, source_ref=event.source_ref)
            entries[event.source_ref] = new_entries[event.source_ref] = entry
        elif entry.pk is not None:
            replaced[event.source_ref] = entry
        entry.date, entry.fiscal_year = day, fiscal_year  # a draft may change fiscal year
        entry.piece_date = piece_date if day != piece_date else None
        entry.note = note
        entry.piece_ref, entry.label = draft.piece_ref, draft.label
        entry.source_version = event.source_version
        entry.validated_at = parse_datetime(draft.validated_at)
        entry.pending_lines = _lines(draft, labels)
        _settle(event, InboxEvent.Status.PROCESSED, entry=entry)

    Entry.objects.bulk_create(new_entries.values())
    if replaced:
        Entry.objects.bulk_update(replaced.values(), ["date", "fiscal_year", "piece_date",
                                                      "note", "piece_ref", "label",
                                                      "source_version", "validated_at",
                                                      "updated_at"])
        EntryLine.objects.filter(entry__in=list(replaced.values())).delete()
    lines = []
    for entry in [*new_entries.values(), *replaced.values()]:
        for line in entry.pending_lines:
            line.entry, line.firm_id = entry, company.firm_id
            lines.append(line)
    EntryLine.objects.bulk_create(lines)
    for event in events:
        if event.entry is not None:
            event.entry_id = event.entry.pk


def _lines(draft, labels):
    return [EntryLine(position=position, account=line.account,
                      account_label=labels[line.account], aux_account=line.aux_account,
                      aux_label=line.aux_label, label=draft.label,
                      debit=Decimal(line.debit), credit=Decimal(line.credit))
            for position, line in enumerate(draft.lines, start=1)]
