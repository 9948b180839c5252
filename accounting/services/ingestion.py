"""Inbox → sales journal: partner events become balanced entries, idempotently.

A task claims a batch of received events (``SKIP LOCKED``: several workers never take the
same), journalises them in one transaction and marks them processed. Same invoice and version
→ one entry; a later version replaces a draft entry (even into another fiscal year: drafts have
no definitive number yet); an older version never regresses; an exported entry is never touched.

A batch costs a fixed number of statements whatever its size (DESIGN §10: ≥ 1,000 invoices/s
with one worker): events are read as rows (not their raw payload), existing entries and account
labels in one query each, entries inserted in multi-row statements, lines with ``COPY`` on
PostgreSQL, and the events' outcomes written by one ``UPDATE``.
"""

import datetime
import json
import logging
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.models import Company

from ..chart import resolve_labels
from ..drafts import EntryDraft
from ..hooks import JournalisedEntry, entries_journalised
from ..models import Entry, EntryLine, InboxEvent
from .fiscal_years import FiscalYears
from .journals import journal_for

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
INSERT_CHUNK = 500  # rows per multi-row INSERT (SQLite allows 32,766 parameters)
logger = logging.getLogger(__name__)

ENTRY_COLUMNS = ("firm_id", "company_id", "journal_id", "fiscal_year", "date", "piece_date",
                 "note", "piece_ref", "label", "source_ref", "source_version", "validated_at",
                 "state", "previous_hash", "chain_hash", "journal_code", "journal_label",
                 "chain_version", "created_at", "updated_at")
LINE_COLUMNS = ("firm_id", "entry_id", "position", "account", "account_label", "aux_account",
                "aux_label", "label", "debit", "credit")


class Event(NamedTuple):
    """What journalising needs of an inbox event (its raw payload stays in the table)."""

    id: int
    company_id: int
    partner: str
    source_ref: str
    source_version: int
    draft: EntryDraft


class Existing(NamedTuple):
    id: int
    source_version: int
    state: str


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


def _claim(limit, event_id):
    """The next waiting events, locked for this transaction (``SKIP LOCKED``)."""
    events = InboxEvent.objects.select_for_update(skip_locked=True).filter(
        status=InboxEvent.Status.RECEIVED)
    if event_id is not None:
        events = events.filter(pk=event_id)
    rows = events.order_by("id").values_list("id", "company_id", "partner", "source_ref",
                                             "source_version", "draft")[:limit]
    return [Event(*row[:5], EntryDraft.from_json(row[5] if isinstance(row[5], dict)
                                                 else json.loads(row[5])))
            for row in rows]


def _process_batch(*, limit, event_id=None):
    with scopes_disabled(), transaction.atomic():
        events = _claim(limit, event_id)
        if not events:
            return 0
        by_company = defaultdict(list)
        for event in events:
            by_company[event.company_id].append(event)
        companies = Company.objects.in_bulk(list(by_company))
        outcomes = {}
        for company_id, company_events in by_company.items():
            outcomes.update(_journalise(companies[company_id], company_events))
        _settle(outcomes)
    return len(events)


def inbox_waiting_count(older_than_seconds=0):
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    with scopes_disabled():
        return InboxEvent.objects.filter(status=InboxEvent.Status.RECEIVED,
                                         received_at__lte=cutoff).count()


def _journalise(company, events):
    """One company's events, all of one source per journal; ``{event id: (status, reason,
    entry id)}``.

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
    years = FiscalYears(company)
    outcomes = {}
    for source, source_events in by_source.items():
        outcomes.update(_journalise_source(company, journal_for(company, source),
                                           source_events, years))
    return outcomes


def _journalise_source(company, journal, events, years):
    refs = {event.source_ref for event in events}
    existing = {ref: Existing(*rest) for ref, *rest in
                Entry.objects.select_for_update().filter(journal=journal, source_ref__in=refs)
                .order_by().values_list("source_ref", "id", "source_version", "state")}
    wanted = {}
    for event in events:
        for line in event.draft.lines:
            if line.account_label or line.account not in wanted:
                wanted[line.account] = line.account_label
    labels = resolve_labels(company, wanted)

    outcomes, chosen = {}, {}  # chosen: source_ref → (event, fields of its entry)
    processed, rejected = InboxEvent.Status.PROCESSED, InboxEvent.Status.REJECTED
    for event in sorted(events, key=lambda e: (e.source_ref, e.source_version, e.id)):
        ref = event.source_ref
        entry, earlier = existing.get(ref), chosen.get(ref)
        # The version the entry has now: given by this batch, else by the database.
        current = earlier[0].source_version if earlier else entry and entry.source_version
        if current and current >= event.source_version:
            outcomes[event.id] = (processed, _("Version %(v)s déjà journalisée.")
                                  % {"v": current}, entry.id if entry else ref)
            continue
        if entry is not None and entry.state != Entry.State.DRAFT:
            outcomes[event.id] = (rejected, _("L'écriture de ce document est déjà exportée : "
                                              "elle ne change plus."), entry.id)
            continue
        # A later version replaces the draft (also one made by this batch).
        chosen[ref] = (event, _entry_fields(event, years))
        outcomes[event.id] = (processed, "", ref)

    new = [item for ref, item in chosen.items() if ref not in existing]
    replaced = [item for ref, item in chosen.items() if ref in existing]
    ids = {ref: entry.id for ref, entry in existing.items()}
    ids.update(_insert_entries(company, journal, new))
    if replaced:
        _replace_entries(replaced, ids)
    _insert_lines(company, [(ids[event.source_ref], event.draft) for event, _ in chosen.values()],
                  labels)
    entries_journalised(company, [
        JournalisedEntry(ids[event.source_ref], journal.source, event.source_ref,
                         event.source_version) for event, _fields in chosen.values()])
    # Outcomes that name their entry by source_ref learn its id now.
    return {event_id: (status, reason, ids.get(entry) if isinstance(entry, str) else entry)
            for event_id, (status, reason, entry) in outcomes.items()}


def _entry_fields(event, years):
    """(date, fiscal_year, piece_date, note, piece_ref, label, source_version, validated_at)."""
    draft = event.draft
    piece_date = parse_date(draft.date)
    year = years.open_for(piece_date)
    day, note = piece_date, ""
    if piece_date not in year:  # its own year is closed: booked on the next open one
        day = year.start
        note = _("Pièce du %(piece)s : l'exercice %(closed)s est clôturé, écriture "
                 "passée au %(day)s.") % {"piece": piece_date.strftime("%d/%m/%Y"),
                                          "closed": piece_date.year,
                                          "day": day.strftime("%d/%m/%Y")}
    return (day, year.end.year, piece_date if day != piece_date else None, note,
            draft.piece_ref, draft.label, event.source_version,
            parse_datetime(draft.validated_at))


def _adapt_entry(fields):
    ops = connection.ops
    day, fiscal_year, piece_date, note, piece_ref, label, version, validated_at = fields
    return (ops.adapt_datefield_value(day), fiscal_year, ops.adapt_datefield_value(piece_date),
            note, piece_ref, label, version, ops.adapt_datetimefield_value(validated_at))


def _insert_entries(company, journal, items):
    """New draft entries; returns ``{source_ref: id}``. On PostgreSQL their ids are taken
    from the sequence first, then the rows are sent by ``COPY`` (a multi-row INSERT of 500
    entries costs ten times more, mostly in binding its parameters); elsewhere, multi-row
    INSERTs."""
    if not items:
        return {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for event, fields in items:
        day, year, piece_date, note, piece_ref, label, version, validated_at = \
            _adapt_entry(fields)
        rows.append((company.firm_id, company.pk, journal.pk, year, day, piece_date, note,
                     piece_ref, label, event.source_ref, version, validated_at,
                     Entry.State.DRAFT.value, "", "", "", "", 1, now, now))
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [Entry._meta.db_table, len(rows)])
            ids = [entry_id for (entry_id,) in cursor.fetchall()]
            with cursor.copy(f"COPY {table} (id, {', '.join(ENTRY_COLUMNS)}) "
                             "FROM STDIN") as copy:
                for entry_id, row in zip(ids, rows, strict=True):
                    copy.write_row((entry_id, *row))
            return {event.source_ref: entry_id
                    for (event, _fields), entry_id in zip(items, ids, strict=True)}
        ids = {}
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start:start + INSERT_CHUNK]
            values = ", ".join(["(" + ", ".join(["%s"] * len(ENTRY_COLUMNS)) + ")"] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({', '.join(ENTRY_COLUMNS)}) "  # noqa: S608
                           f"VALUES {values} RETURNING id, source_ref",
                           [value for row in chunk for value in row])
            ids.update((ref, entry_id) for entry_id, ref in cursor.fetchall())
    return ids


def _replace_entries(items, ids):
    """A later version of a draft: its fields are updated, its lines deleted (then inserted
    again with the new ones)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET date = %s, fiscal_year = %s, piece_date = %s, "  # noqa: S608
            "note = %s, piece_ref = %s, label = %s, source_version = %s, validated_at = %s, "
            "updated_at = %s WHERE id = %s",
            [(*_adapt_entry(fields), now, ids[event.source_ref]) for event, fields in items])
    EntryLine.objects.filter(entry_id__in=[ids[event.source_ref] for event, _ in items]).delete()


def _insert_lines(company, drafts, labels):
    """The lines of the entries (``[(entry id, draft)]``): ``COPY`` on PostgreSQL, multi-row
    INSERTs elsewhere."""
    rows = [(company.firm_id, entry_id, position, line.account, labels[line.account],
             line.aux_account, line.aux_label, draft.label, line.debit, line.credit)
            for entry_id, draft in drafts
            for position, line in enumerate(draft.lines, start=1)]
    if not rows:
        return
    table = connection.ops.quote_name(EntryLine._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        ops = connection.ops
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = [(*row[:8], ops.adapt_decimalfield_value(Decimal(row[8]), 15, 2),
                      ops.adapt_decimalfield_value(Decimal(row[9]), 15, 2))
                     for row in rows[start:start + INSERT_CHUNK]]
            values = ", ".join(["(" + ", ".join(["%s"] * len(LINE_COLUMNS)) + ")"] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({', '.join(LINE_COLUMNS)}) "  # noqa: S608
                           f"VALUES {values}", [value for row in chunk for value in row])


def _settle(outcomes):
    """Every event of the batch, in one UPDATE: ``{event id: (status, reason, entry id)}``."""
    if not outcomes:
        return
    table = connection.ops.quote_name(InboxEvent._meta.db_table)
    rows = [(event_id, status, reason[:300], entry_id)
            for event_id, (status, reason, entry_id) in outcomes.items()]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    if connection.vendor == "postgresql":  # four arrays rather than 2,000 parameters
        settled = "unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[])"
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        settled = "(VALUES " + ", ".join(
            ["(CAST(%s AS bigint), %s, %s, CAST(%s AS bigint))"] * len(rows)) + ")"
        params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH settled (id, status, reason, entry_id) AS (SELECT * FROM {settled}) "  # noqa: S608
            f"UPDATE {table} SET status = settled.status, reason = settled.reason, "
            "entry_id = settled.entry_id, processed_at = %s, attempts = attempts + 1 "
            f"FROM settled WHERE {table}.id = settled.id", [*params, now])
