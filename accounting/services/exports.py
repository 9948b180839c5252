"""Exporting entries (FEC, CSV): the file, the lock of the entries, the chain, the outbox.

``export_request`` records what the accountant asked for and queues ``export_run``, which in
one transaction streams the file, marks the entries exported (immutable) and chained, and
writes one outbox message per invoice to lock it at ProGBat.
"""

import datetime
import hashlib
import logging
import tempfile

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from audit.services import audit_record
from companies.models import Company
from meg.queue import enqueue_on_commit
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_enqueue

from ..chain import GENESIS, canonical, chain_hash
from ..formats import write_csv, write_fec
from ..models import Entry, EntryLine, ExportBatch, Journal

logger = logging.getLogger(__name__)
LINE_COLUMNS = ("entry__journal__code", "entry__journal__label", "entry__fiscal_year",
                "entry__number", "entry__date", "entry__piece_ref", "account", "account_label",
                "aux_account", "aux_label", "label", "debit", "credit", "entry__label")
WRITERS = {ExportBatch.Format.FEC: write_fec, ExportBatch.Format.CSV: write_csv}
PROGRESS_EVERY = 5000
UPDATE_CHUNK = 2000


def exportable_entries(*, company, journal_codes, date_from, date_to):
    return Entry.objects.filter(company=company, journal__code__in=journal_codes,
                                date__gte=date_from, date__lte=date_to,
                                state=Entry.State.DRAFT)


@transaction.atomic
def export_request(*, company, actor, format, journal_codes, date_from, date_to):
    if format not in WRITERS:
        raise ValidationError({"format": _("Format inconnu.")})
    if date_from > date_to:
        raise ValidationError({"date_to": _("La fin de la période doit suivre son début.")})
    known = set(Journal.objects.filter(company=company).values_list("code", flat=True))
    journal_codes = sorted(set(journal_codes))
    if not journal_codes or not set(journal_codes) <= known:
        raise ValidationError({"journals": _("Choisissez un ou plusieurs journaux de "
                                             "l'entreprise.")})
    if not exportable_entries(company=company, journal_codes=journal_codes,
                              date_from=date_from, date_to=date_to).exists():
        raise ValidationError(_("Aucune écriture à exporter sur cette période : toutes sont "
                                "déjà exportées, ou il n'y en a pas."))
    batch = ExportBatch.objects.create(firm_id=company.firm_id, company=company,
                                       created_by=actor, format=format,
                                       journal_codes=journal_codes, date_from=date_from,
                                       date_to=date_to)
    audit_record(firm=company.firm, company=company, actor=actor, action="export.requested",
                 summary=_("Export %(format)s des journaux %(journals)s du %(start)s au %(end)s")
                 % {"format": batch.get_format_display(), "journals": ", ".join(journal_codes),
                    "start": date_from.strftime("%d/%m/%Y"), "end": date_to.strftime("%d/%m/%Y")})
    from ..tasks import export_run

    enqueue_on_commit(export_run, batch.pk)
    return batch


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
    if batch.format == ExportBatch.Format.FEC:
        closing = company.fiscal_year_end_for(batch.date_to)
        return f"{company.siren}FEC{closing:%Y%m%d}.txt"
    return f"{company.siren}_ecritures_{batch.date_from:%Y%m%d}_{batch.date_to:%Y%m%d}.csv"


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
            ExportBatch.objects.filter(pk=batch_id).update(
                status=ExportBatch.Status.FAILED, error=f"{type(error).__name__}: {error}"[:300])
            raise


@transaction.atomic
def _export(batch_id):
    batch = ExportBatch.objects.select_for_update().get(pk=batch_id)
    company = Company.objects.select_for_update().get(pk=batch.company_id)  # one chain writer
    entries = exportable_entries(company=company, journal_codes=batch.journal_codes,
                                 date_from=batch.date_from, date_to=batch.date_to)
    order = ("journal__code", "fiscal_year", "number")
    entry_rows = list(entries.select_for_update(of=("self",)).order_by(*order)
                      .values_list("pk", "source_ref", "journal__source"))
    total_lines = EntryLine.objects.filter(entry__in=entries).count()
    last = (Entry.objects.filter(company=company, state=Entry.State.EXPORTED)
            .order_by("-chain_position").values_list("chain_position", "chain_hash").first())
    position, previous = last if last else (0, GENESIS)
    now = timezone.now()
    valid_date = timezone.localdate(now).strftime("%Y%m%d")
    rows = (EntryLine.objects.filter(entry__in=entries)
            .order_by(*(f"entry__{field}" for field in order), "position")
            .values_list(*LINE_COLUMNS).iterator(chunk_size=PROGRESS_EVERY))
    digest = hashlib.sha256()
    chained = []  # (previous_hash, hash, position) per entry, in entry_rows order
    with tempfile.TemporaryFile() as raw:
        stream = _HashingStream(raw, digest)
        current, current_lines, count = None, [], 0
        debit_total = 0
        for row in WRITERS[batch.format](rows, stream, valid_date=valid_date):
            key = row[:4]
            if key != current and current is not None:
                previous = _chain(company, current, current_lines, previous, chained)
                current_lines = []
            current = key
            current_lines.append(row)
            debit_total += row[11]
            count += 1
            if count % PROGRESS_EVERY == 0:
                cache.set(progress_key(batch.pk), min(99, count * 100 // max(total_lines, 1)),
                          timeout=3600)
        if current is not None:
            _chain(company, current, current_lines, previous, chained)
        raw.seek(0)
        batch.file_name = file_name(batch, company)
        batch.file.save(batch.file_name, File(raw), save=False)
    _mark_exported(batch, now, position, entry_rows, chained)
    locks = [OutboxMessage(firm_id=company.firm_id, company=company, partner="progbat",
                           action="progbat.lock_invoice", actor_id=batch.created_by_id,
                           payload={"invoice_id": ref, "export_id": str(batch.pk)},
                           idempotency_key=f"progbat-lock:{ref}:{batch.pk}")
             for _pk, ref, source in entry_rows if source == Journal.Source.PROGBAT]
    OutboxMessage.objects.bulk_create(locks, batch_size=UPDATE_CHUNK)
    outbox_enqueue(locks)
    batch.sha256 = digest.hexdigest()
    batch.entry_count, batch.line_count = len(entry_rows), count
    batch.total_debit = debit_total
    batch.status, batch.progress, batch.finished_at = ExportBatch.Status.DONE, 100, timezone.now()
    batch.save()
    audit_record(firm=company.firm, company=company, actor=batch.created_by,
                 action="export.done",
                 summary=_("Export terminé : %(n)d écritures, %(file)s")
                 % {"n": batch.entry_count, "file": batch.file_name})
    return batch


def _mark_exported(batch, now, position, entry_rows, chained):
    """One UPDATE per entry, sent in a pipeline (``bulk_update``'s CASE is quadratic-ish on
    tens of thousands of rows)."""
    rows = []
    for (pk, _ref, _source), (previous_hash, hash_) in zip(entry_rows, chained, strict=True):
        position += 1
        rows.append((Entry.State.EXPORTED, batch.pk, now, previous_hash, hash_, position, pk))
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPDATE_CHUNK):
            cursor.executemany(
                f"UPDATE {table} SET state = %s, export_id = %s, exported_at = %s, "  # noqa: S608
                "previous_hash = %s, chain_hash = %s, chain_position = %s WHERE id = %s",
                rows[start:start + UPDATE_CHUNK])


def _chain(company, key, lines, previous, chained):
    journal_code, _journal_label, fiscal_year, number = key
    first = lines[0]
    text = canonical(company.siren, journal_code, (fiscal_year, number, first[4], first[5],
                                                   first[13]),
                     [(r[6], r[7], r[8], r[9], r[10], r[11], r[12]) for r in lines])
    hash_ = chain_hash(previous, text)
    chained.append((previous, hash_))
    return hash_


class _HashingStream:
    """Writes to the file and feeds the SHA-256 of the exact bytes at the same time."""

    def __init__(self, raw, digest):
        self.raw, self.digest = raw, digest

    def write(self, data):
        self.digest.update(data)
        self.raw.write(data)
