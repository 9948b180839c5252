"""Exporting entries (FEC, CSV): the file, the lock of the entries, the chain.

``export_request`` records what the accountant asked for and queues ``export_run``, which in
one transaction streams the file, marks the entries exported (immutable) and chained, and
announces them (``hooks.entries_exported``) so that their sources can act — ProGBat locks the
invoices.
"""

import datetime
import hashlib
import logging
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from audit.services import audit_record
from companies.models import Company
from meg.queue import enqueue_on_commit

from ..chain import CHAIN_VERSION, GENESIS, canonical, chain_hash, seal_update
from ..formats import CSV_ENCODINGS, FecInvalid, fec_check, write_csv, write_fec
from ..hooks import ExportedEntry, entries_exported
from ..models import Entry, EntryLine, ExportBatch, Journal, JournalSequence
from .document_zip import export_archive_build
from .fiscal_years import fiscal_year_closed, fiscal_year_closing_failed, fiscal_year_of

logger = logging.getLogger(__name__)
LINE_COLUMNS = ("entry__journal__code", "entry__journal__label", "entry__fiscal_year",
                "entry__number", "entry__date", "entry__piece_ref", "account", "account_label",
                "aux_account", "aux_label", "label", "debit", "credit", "entry__label",
                "entry__state", "entry__piece_date", "entry_id", "lettered__lettering__code",
                "lettered__lettering__date")
ENTRY_ORDER = ("journal__code", "fiscal_year", "number")


class ExportLine(NamedTuple):
    """One row of an export: an entry line with what it needs of its entry and journal."""

    journal_code: str
    journal_label: str
    fiscal_year: int
    number: int
    date: datetime.date
    piece_ref: str
    account: str
    account_label: str
    aux_account: str
    aux_label: str
    label: str
    debit: Decimal
    credit: Decimal
    entry_label: str
    state: str
    piece_date: datetime.date | None
    entry_id: int
    lettering_code: str | None = None  # outside the entry and its seal (models.Lettering)
    lettering_date: datetime.date | None = None

    @property
    def entry_key(self):
        return (self.journal_code, self.fiscal_year, self.number)


WRITERS = {ExportBatch.Format.FEC: write_fec, ExportBatch.Format.CSV: write_csv}
PROGRESS_EVERY = 5000
UPDATE_CHUNK = 2000
SLICE_ENTRIES = 5000  # entries read per statement (see ``export_rows``)
_export_line = partial(tuple.__new__, ExportLine)  # ExportLine._make without its Python frame


def export_lines(entries):
    """The lines of ``entries`` as the files list them (``ENTRY_ORDER``, then position)."""
    return (EntryLine.objects.filter(entry__in=entries)
            .order_by(*(f"entry__{name}" for name in ENTRY_ORDER), "position")
            .values_list(*LINE_COLUMNS))


def export_rows(entries, *, slice_entries=SLICE_ENTRIES):
    """``ExportLine`` for each line of ``entries``, in the file's order, in constant memory.

    Read in slices of ``SLICE_ENTRIES`` consecutive numbers per journal and fiscal year (each
    a small index-ordered statement), and on PostgreSQL one slice ahead: a helper thread runs
    the next slice's statement on the same connection (same transaction: the numbers just
    given are seen) while this one is formatted, so that PostgreSQL and the writer work at the
    same time instead of in turns (one ordered query makes the writer wait for the whole sort
    first). Entries without a number (none after ``entries_number``) come last in their
    journal and year, as ``ORDER BY number`` puts them."""
    statements = (lines.query.sql_with_params() for lines in _slices(entries, slice_entries))
    if connection.vendor != "postgresql":
        for sql, params in statements:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                yield from map(_export_line, cursor.fetchall())
        return
    connection.ensure_connection()
    raw = connection.connection
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="meg-export-read") as reader:
        ahead = []
        try:
            for statement in statements:
                ahead.append(reader.submit(_execute, raw, *statement))
                if len(ahead) > 1:
                    yield from _fetched(ahead.pop(0))
            while ahead:
                yield from _fetched(ahead.pop(0))
        finally:
            for future in ahead:  # stopped early: let the statement end, then close it
                if not future.cancel() and future.exception() is None:
                    future.result().close()


def _execute(raw, sql, params):
    cursor = raw.cursor()
    cursor.execute(sql, params)
    return cursor


def _fetched(future):
    with future.result() as cursor:
        rows = cursor.fetchall()
    return map(_export_line, rows)


def _slices(entries, size):
    """``export_lines`` querysets of at most ``size`` numbers each, in the file's order."""
    groups = (entries.order_by().values_list("journal__code", "journal_id", "fiscal_year")
              .annotate(low=Min("number"), high=Max("number"), count=Count("id"),
                        numbered=Count("number"))
              .order_by("journal__code", "fiscal_year"))
    for _code, journal_id, fiscal_year, low, high, count, numbered in list(groups):
        # The slice's bounds go on the lines' own entry too, so that PostgreSQL walks the
        # (journal, fiscal_year, number) index instead of hashing every entry per slice.
        group = {"journal_id": journal_id, "fiscal_year": fiscal_year}
        if numbered:
            for start in range(low, high + 1, size):
                bounds = {**group, "number__gte": start, "number__lt": start + size}
                yield export_lines(entries.filter(**bounds)).filter(
                    **{f"entry__{name}": value for name, value in bounds.items()})
        if numbered < count:
            unnumbered = {**group, "number__isnull": True}
            yield (export_lines(entries.filter(**unnumbered))
                   .filter(**{f"entry__{name}": value for name, value in unnumbered.items()})
                   .order_by("entry_id", "position"))


def exportable_entries(*, company, journal_codes, date_from, date_to, include_exported=False):
    """The entries of a period: the drafts, and the final ones too for a re-export."""
    entries = Entry.objects.filter(company=company, journal__code__in=journal_codes,
                                   date__gte=date_from, date__lte=date_to)
    return entries if include_exported else entries.filter(state=Entry.State.DRAFT)


def batch_entries(batch):
    if batch.kind == ExportBatch.Kind.CLOSING:  # every journal of the year, whatever its code
        return Entry.objects.filter(company_id=batch.company_id, date__gte=batch.date_from,
                                    date__lte=batch.date_to)
    return exportable_entries(company=batch.company, journal_codes=batch.journal_codes,
                              date_from=batch.date_from, date_to=batch.date_to,
                              include_exported=batch.include_exported)


@transaction.atomic
def export_request(*, company, actor, format, journal_codes, date_from, date_to,
                   include_exported=False, include_documents=False, encoding="utf-8-sig"):
    """An import export (not the legal FEC): never across a closing date; may be made again
    for the same period with ``include_exported``; with ``include_documents``, its file comes
    in a ZIP with the entries' pièces (``document_zip``)."""
    if format not in WRITERS:
        raise ValidationError({"format": _("Format inconnu.")})
    if encoding not in CSV_ENCODINGS or (format == ExportBatch.Format.FEC
                                         and encoding != "utf-8-sig"):
        raise ValidationError({"encoding": _("Encodage proposé : UTF-8 (FEC et CSV) ou "
                                             "ISO-8859-15 (CSV).")})
    if date_from > date_to:
        raise ValidationError({"date_to": _("La fin de la période doit suivre son début.")})
    period_within_one_fiscal_year(company, date_from, date_to)
    known = set(Journal.objects.filter(company=company).values_list("code", flat=True))
    journal_codes = sorted(set(journal_codes))
    if not journal_codes or not set(journal_codes) <= known:
        raise ValidationError({"journals": _("Choisissez un ou plusieurs journaux de "
                                             "l'entreprise.")})
    if not exportable_entries(company=company, journal_codes=journal_codes,
                              date_from=date_from, date_to=date_to,
                              include_exported=include_exported).exists():
        raise ValidationError(_("Aucune écriture à exporter sur cette période : toutes sont "
                                "déjà exportées (cochez « ré-exporter » pour les inclure), ou "
                                "il n'y en a pas."))
    batch = ExportBatch.objects.create(firm_id=company.firm_id, company=company,
                                       created_by=actor, format=format,
                                       journal_codes=journal_codes, date_from=date_from,
                                       date_to=date_to, include_exported=include_exported,
                                       include_documents=include_documents,
                                       encoding=encoding)
    audit_record(firm=company.firm, company=company, actor=actor, action="export.requested",
                 summary=lambda: _("Export %(format)s des journaux %(journals)s du %(start)s "
                                   "au %(end)s")
                 % {"format": batch.get_format_display(), "journals": ", ".join(journal_codes),
                    "start": date_from.strftime("%d/%m/%Y"), "end": date_to.strftime("%d/%m/%Y")})
    from ..tasks import export_run

    enqueue_on_commit(export_run, batch.pk)
    return batch


class ExportFileAltered(Exception):
    """The stored file's bytes no longer match the SHA-256 recorded when it was made."""


def export_file_altered(batch):
    """True when the stored file is missing or its bytes no longer match its SHA-256."""
    return _altered(batch.file, batch.sha256)


def _altered(field, sha256):
    digest = hashlib.sha256()
    try:
        with field.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (FileNotFoundError, ValueError):
        return True
    return digest.hexdigest() != sha256


def export_file_open(batch):
    """What a finished export serves, only if it is still what was made: its file, or the
    ZIP of its file and pièces when it was asked with them (both checked)."""
    altered = export_file_altered(batch)
    name = batch.file_name
    if not altered and batch.include_documents:
        altered, name = _altered(batch.archive, batch.archive_sha256), batch.archive.name
    if altered:
        raise ExportFileAltered(_(
            "Le fichier %(name)s a été modifié ou supprimé depuis sa création (son empreinte "
            "SHA-256 ne correspond plus) : il n'est plus servi. Signalez-le à l'administrateur "
            "de MEG.") % {"name": name.rsplit("/", 1)[-1]})
    return (batch.archive if batch.include_documents else batch.file).open("rb")


def exports_left_pending(older_than_seconds=60):
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    with scopes_disabled():
        return list(ExportBatch.objects.filter(status=ExportBatch.Status.PENDING,
                                               created_at__lte=cutoff)
                    .values_list("pk", flat=True))


def progress_key(batch_id):
    return f"meg:export-progress:{batch_id}"


def export_progress(batch):
    if batch.status != ExportBatch.Status.RUNNING:
        return batch.progress
    return cache.get(progress_key(batch.pk), 0)


def file_name(batch, company):
    """The legal FEC of a closed year is ``<SIREN>FEC<clôture>.txt``; an import export is
    ``<SIREN>_<JOURNAUX>_<du>-<au>.<ext>``, never named like the legal FEC."""
    if batch.kind == ExportBatch.Kind.CLOSING:
        return f"{company.siren}FEC{batch.date_to:%Y%m%d}.txt"
    extension = "txt" if batch.format == ExportBatch.Format.FEC else "csv"
    journals = "-".join(batch.journal_codes)
    return f"{company.siren}_{journals}_{batch.date_from:%Y%m%d}-{batch.date_to:%Y%m%d}.{extension}"


def period_within_one_fiscal_year(company, date_from, date_to):
    """Refuse a period across a closing date, naming the two periods to use instead."""
    period = fiscal_year_of(company, date_from)
    end = period.end
    if date_to > end:
        raise ValidationError({"date_to": _(
            "La période traverse la clôture de l'exercice du %(end)s : exportez du %(a)s au "
            "%(end)s, puis du %(b)s au %(to)s.") % {
            "end": end.strftime("%d/%m/%Y"), "a": date_from.strftime("%d/%m/%Y"),
            "b": (end + datetime.timedelta(days=1)).strftime("%d/%m/%Y"),
            "to": date_to.strftime("%d/%m/%Y")}})
    return period


def export_run(batch_id):
    """Build the file and lock the entries; safe to run twice (a finished batch is left)."""
    with scopes_disabled():
        with transaction.atomic():
            batch = ExportBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status != ExportBatch.Status.PENDING:
                return batch
            batch.status = ExportBatch.Status.RUNNING
            batch.save(update_fields=["status"])
        try:
            return _export(batch_id)
        except Exception as error:
            logger.exception("export %s failed", batch_id)
            reason = str(error) if isinstance(error, FecInvalid) else (
                f"{type(error).__name__}: {error}")
            with transaction.atomic():
                ExportBatch.objects.filter(pk=batch_id).update(
                    status=ExportBatch.Status.FAILED, error=reason[:300])
                fiscal_year_closing_failed(batch)
            if isinstance(error, FecInvalid):
                return ExportBatch.objects.get(pk=batch_id)  # said on the export, not retried
            raise


@dataclass
class _Written:
    """What writing the file found out: its hash, its size, and the chain links of the
    entries becoming final (in a temporary file, one line each: a million lines of export
    must not sit in memory)."""

    sha256: str = ""
    line_count: int = 0
    entry_count: int = 0
    debit_total: Decimal = Decimal("0.00")
    chained: int = 0  # entries chained (drafts becoming final)
    position: int = 0  # chain position of the last one
    head: str = GENESIS  # its hash
    links: object = None  # the temporary file of chain links (COPY text format)


@transaction.atomic
def _export(batch_id):
    batch = ExportBatch.objects.select_for_update().get(pk=batch_id)
    company = Company.objects.select_for_update().get(pk=batch.company_id)  # one chain writer
    entries = batch_entries(batch)
    # The drafts are locked by the UPDATEs below (and ingestion, which holds the company row
    # FOR SHARE, waits for this transaction): no list of their ids in memory.
    drafts = entries.filter(state=Entry.State.DRAFT)
    # The period lies in one fiscal year (checked at request): drafts take it as it is derived
    # now, so that a closing date changed since they arrived never mixes two years' numbers.
    year = fiscal_year_of(company, batch.date_from)
    drafts.exclude(fiscal_year=year.end.year).update(fiscal_year=year.end.year)
    entries_number(drafts)
    now = timezone.now()
    position, previous = _chain_head(company)
    with tempfile.TemporaryFile() as links:
        written = _write_file(batch, company, entries, position, previous, links,
                              valid_date=timezone.localdate(now))
        _mark_exported(batch, now, written)
    # Streamed in the file's order: a receiver reads them as it goes.
    entries_exported(batch, (ExportedEntry(*row) for row in
                             Entry.objects.filter(export=batch).order_by(*ENTRY_ORDER)
                             .values_list("pk", "journal__source", "source_ref")
                             .iterator(chunk_size=PROGRESS_EVERY)))
    if batch.kind == ExportBatch.Kind.CLOSING:
        fiscal_year_closed(batch)
    elif batch.include_documents:
        export_archive_build(batch)
    batch.sha256, batch.line_count = written.sha256, written.line_count
    batch.entry_count, batch.total_debit = written.entry_count, written.debit_total
    batch.status, batch.progress, batch.finished_at = ExportBatch.Status.DONE, 100, timezone.now()
    batch.save()
    audit_record(firm=company.firm, company=company, actor=batch.created_by,
                 action="export.done",
                 summary=lambda: _("Export terminé : %(n)d écritures, %(file)s")
                 % {"n": batch.entry_count, "file": batch.file_name})
    return batch


def entries_number(entries):
    """Give the entries their definitive numbers: per journal and fiscal year, following the
    last number given, in date order, without gaps (the sequence rows stay locked until the
    caller's transaction commits, so two exports never hand out the same number)."""
    groups = (entries.filter(number__isnull=True).values_list("journal_id", "fiscal_year")
              .order_by("journal_id", "fiscal_year").annotate(count=Count("id")))
    table = connection.ops.quote_name(Entry._meta.db_table)
    for journal_id, fiscal_year, count in list(groups):
        JournalSequence.objects.get_or_create(journal_id=journal_id, fiscal_year=fiscal_year)
        sequence = JournalSequence.objects.select_for_update().get(journal_id=journal_id,
                                                                    fiscal_year=fiscal_year)
        ids_sql, ids_params = (entries.filter(journal_id=journal_id, fiscal_year=fiscal_year,
                                              number__isnull=True)
                               .values("id").query.sql_with_params())
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET number = %s + ranked.rn FROM ("  # noqa: S608
                f"SELECT id, row_number() OVER (ORDER BY date, piece_ref, id) AS rn "
                f"FROM {table} WHERE id IN ({ids_sql})) AS ranked "
                f"WHERE {table}.id = ranked.id", [sequence.last_number, *ids_params])
        sequence.last_number += count
        sequence.save(update_fields=["last_number"])


def _chain_head(company):
    """(position, hash) of the company's last chained entry, or the chain's start."""
    last = (Entry.objects.filter(company=company, state=Entry.State.EXPORTED)
            .order_by("-chain_position").values_list("chain_position", "chain_hash").first())
    return last if last else (0, GENESIS)


def _write_file(batch, company, entries, position, previous, links, *, valid_date):
    """Stream the file into the batch while hashing it and chaining each entry that becomes
    final (its link written to ``links``)."""
    total_lines = EntryLine.objects.filter(entry__in=entries).count()
    rows = export_rows(entries)
    digest = hashlib.sha256()
    written = _Written(position=position, head=previous, links=links)
    with tempfile.TemporaryFile() as raw:
        current, current_lines = None, []
        for line in WRITERS[batch.format](rows, _HashingStream(raw, digest),
                                          valid_date=valid_date.strftime("%Y%m%d"),
                                          encoding=batch.encoding):
            key = line.entry_key
            if key != current:
                written.entry_count += 1
                if current_lines:
                    _chain(company, current_lines, written)
                current_lines = []
            current = key
            if line.state == Entry.State.DRAFT:  # becoming final now: chained after the last
                current_lines.append(line)
            written.debit_total += line.debit
            written.line_count += 1
            if written.line_count % PROGRESS_EVERY == 0:
                cache.set(progress_key(batch.pk),
                          min(99, written.line_count * 100 // max(total_lines, 1)), timeout=3600)
        if current_lines:
            _chain(company, current_lines, written)
        raw.seek(0)
        if batch.format == ExportBatch.Format.FEC:
            year = fiscal_year_of(company, batch.date_from)
            fec_check(raw, period=(year.start, year.end))
            raw.seek(0)
        batch.file_name = file_name(batch, company)
        batch.file.save(batch.file_name, File(raw), save=False)
    written.sha256 = digest.hexdigest()
    return written


def _mark_exported(batch, now, written):
    """The entries chained while writing the file become final, in one set-based UPDATE: their
    links are copied into a temporary table, then joined (one statement per entry would take
    minutes for a million lines)."""
    if not written.chained:
        return
    table = connection.ops.quote_name(Entry._meta.db_table)
    written.links.seek(0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE meg_export_links (id bigint PRIMARY KEY, "
                       "position bigint, previous_hash text, chain_hash text, "
                       "journal_code text, journal_label text)")
        if connection.vendor == "postgresql":
            with cursor.copy("COPY meg_export_links FROM STDIN") as copy:
                while block := written.links.read(1 << 20):
                    copy.write(block)
        else:  # SQLite (embedded mode): the same rows, by executemany
            cursor.executemany("INSERT INTO meg_export_links VALUES (%s, %s, %s, %s, %s, %s)",
                               _links_rows(written.links))
        cursor.execute("ANALYZE meg_export_links")
        cursor.execute(
            f"UPDATE {table} SET state = %s, export_id = %s, exported_at = %s, "  # noqa: S608
            "previous_hash = links.previous_hash, chain_hash = links.chain_hash, "
            "chain_position = links.position, journal_code = links.journal_code, "
            "journal_label = links.journal_label, chain_version = %s "
            f"FROM meg_export_links AS links WHERE {table}.id = links.id",
            [Entry.State.EXPORTED.value, batch.pk,
             connection.ops.adapt_datetimefield_value(now), CHAIN_VERSION])
        marked = cursor.rowcount
        cursor.execute("DROP TABLE meg_export_links")
    if marked != written.chained:
        raise RuntimeError(f"{marked} entries marked exported, {written.chained} chained")
    seal_update(batch.company, written.position, written.head, written.chained)


# COPY's text format: a backslash, a tab or a line break inside a value is escaped.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _links_rows(links):
    unescape = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
    pattern = re.compile(r"\\[\\tnr]")
    for raw in links:
        values = raw.decode().rstrip("\n").split("\t")
        yield [pattern.sub(lambda m: unescape[m.group(0)], value) for value in values]


def _chain(company, lines, written):
    first = lines[0]
    text = canonical(company.siren, first.journal_code,
                     (first.fiscal_year, first.number, first.date, first.piece_ref,
                      first.entry_label),
                     [(line.account, line.account_label, line.aux_account, line.aux_label,
                       line.label, line.debit, line.credit) for line in lines],
                     journal_label=first.journal_label, state=Entry.State.EXPORTED,
                     piece_date=first.piece_date)
    hash_ = chain_hash(written.head, text)
    written.position += 1
    written.links.write("\t".join([
        str(first.entry_id), str(written.position), written.head, hash_,
        first.journal_code.translate(COPY_ESCAPES),
        first.journal_label.translate(COPY_ESCAPES)]).encode() + b"\n")
    written.head, written.chained = hash_, written.chained + 1


class _HashingStream:
    """Writes to the file and feeds the SHA-256 of the exact bytes at the same time."""

    def __init__(self, raw, digest):
        self.raw, self.digest = raw, digest

    def write(self, data):
        self.digest.update(data)
        self.raw.write(data)
