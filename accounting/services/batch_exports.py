"""Month-end batch export: one import export per company of a selection, then one ZIP.

Each company's file is made by the export service (``export_request`` then ``export_run``), so
its rules hold as they are: never across a closing date, nothing already exported twice. What
the service refuses is recorded as skipped with its own (French) reason.
"""

import csv
import datetime
import io
import logging
import tempfile
import time
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from audit.services import audit_record
from companies.models import Company
from firms.attention import attention_scope
from meg.queue import enqueue_on_commit

from ..formats import csv_cell
from ..models import BatchExport, ExportBatch, Journal
from . import exports

logger = logging.getLogger(__name__)
WAIT_SECONDS = 60  # a company's export running in another worker is waited for, this long
# A run stops taking new companies after this long and the task queues its continuation:
# 500 companies never have to fit in one task's time limit.
BUDGET_SECONDS = 150
STUCK_AFTER = datetime.timedelta(hours=1)  # an export still running then is taken as failed

# Why a company was skipped (``reason_kind`` of its result).
NOTHING, CLOSING, NO_JOURNAL, FAILURE = "nothing", "closing", "no_journal", "failure"


def batch_companies(*, firm, companies="all", site=None):
    """The firm's companies of the selection: all, a site's (as the attention board reads it),
    or given ids — an id that is not the firm's is refused, never exported."""
    chosen = Company.objects.filter(firm=firm)
    if site is not None:
        scope = attention_scope(firm=firm, site=site)
        if scope.companies is not None:
            chosen = chosen.filter(pk__in=scope.companies)
    if companies != "all":
        ids = {int(pk) for pk in companies}
        found = set(Company.objects.filter(firm=firm, pk__in=ids).values_list("pk", flat=True))
        if not ids or ids - found:
            raise ValidationError({"companies": _(
                "Choisissez une ou plusieurs entreprises de votre cabinet.")})
        chosen = chosen.filter(pk__in=ids)
    return list(chosen.order_by("name", "pk"))


@transaction.atomic
def batch_export_request(*, firm, actor, format, date_from, date_to, companies="all",
                         site=None):
    if format not in exports.WRITERS:
        raise ValidationError({"format": _("Format inconnu.")})
    if date_from > date_to:
        raise ValidationError({"date_to": _("La fin de la période doit suivre son début.")})
    if site is not None and site.firm_id != firm.pk:
        raise ValidationError({"site": _("Site inconnu.")})
    chosen = batch_companies(firm=firm, companies=companies, site=site)
    if not chosen:
        raise ValidationError({"companies": _("Aucune entreprise dans cette sélection.")})

    def selection_text():
        if site is not None:
            return _("Site %(site)s") % {"site": site.name}
        if companies == "all":
            return _("Toutes les entreprises")
        return _("%(n)d entreprise(s) choisie(s)") % {"n": len(chosen)}

    selection = selection_text()
    batch = BatchExport.objects.create(
        firm=firm, created_by=actor, selection=selection[:200], site=site, format=format,
        date_from=date_from, date_to=date_to,
        results=[{"company_id": c.pk, "name": c.name, "siren": c.siren, "status": "pending",
                  "reason": "", "reason_kind": "", "export_id": None, "file_name": ""}
                 for c in chosen])
    audit_record(firm=firm, actor=actor, action="batch_export.requested",
                 summary=lambda: _("Export mensuel groupé (%(selection)s, %(n)d entreprises) du "
                                   "%(start)s au %(end)s") % {
                     "selection": selection_text(), "n": len(chosen),
                     "start": date_from.strftime("%d/%m/%Y"),
                     "end": date_to.strftime("%d/%m/%Y")})
    from ..tasks import batch_export_run

    enqueue_on_commit(batch_export_run, batch.pk)
    return batch


def batch_exports_left_pending(older_than_seconds=60):
    """Batches whose task was never queued (broker down at request), or lost."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    with scopes_disabled():
        return list(BatchExport.objects.filter(status=BatchExport.Status.PENDING,
                                               created_at__lte=cutoff)
                    .values_list("pk", flat=True))


def batch_progress(batch):
    """Percentage of companies handled (done, skipped or failed)."""
    if not batch.results:
        return 100
    handled = sum(1 for item in batch.results if item["status"] != "pending")
    return handled * 100 // len(batch.results)


def batch_skipped(batch):
    return [item for item in batch.results if item["status"] in ("skipped", "failed")]


def batch_export_run(batch_id, budget_seconds=BUDGET_SECONDS):
    """Export each company still pending, then write the ZIP; safe to run twice (what is done
    is kept, a finished batch is left as it is). Returns the batch, still running when the
    budget ran out before the last company (its task then queues a continuation)."""
    deadline = time.monotonic() + budget_seconds
    with scopes_disabled():
        with transaction.atomic():
            batch = BatchExport.objects.select_for_update().get(pk=batch_id)
            if batch.status in (BatchExport.Status.DONE, BatchExport.Status.FAILED):
                return batch
            batch.status = BatchExport.Status.RUNNING
            batch.save(update_fields=["status"])
        try:
            # Reasons and the ZIP's summary in the language of the one who asked (a worker
            # has no request to take it from).
            with translation.override(batch.created_by.language or settings.LANGUAGE_CODE):
                for index in range(len(batch.results)):
                    if time.monotonic() > deadline:
                        return batch
                    if _company_export(batch, index)["status"] == "pending":
                        return batch  # its export still runs elsewhere: the continuation waits
                _write_zip(batch)
        except Exception as error:
            logger.exception("batch export %s failed", batch_id)
            BatchExport.objects.filter(pk=batch_id).update(
                status=BatchExport.Status.FAILED, error=f"{type(error).__name__}: {error}"[:300],
                finished_at=timezone.now())
            raise
        batch.status, batch.finished_at = BatchExport.Status.DONE, timezone.now()
        batch.save(update_fields=["status", "finished_at", "zip_file", "results"])
        done = sum(1 for item in batch.results if item["status"] == "done")
        audit_record(firm=batch.firm, actor=batch.created_by, action="batch_export.done",
                     summary=lambda: _("Export mensuel groupé terminé : %(done)d fichier(s), "
                                       "%(skipped)d entreprise(s) ignorée(s)")
                     % {"done": done, "skipped": len(batch.results) - done})
        return batch


@transaction.atomic
def _item_save(batch, index, item):
    """Record one company's result under the batch's lock (a second run may be writing too)."""
    locked = BatchExport.objects.select_for_update().get(pk=batch.pk)
    locked.results[index] = item
    BatchExport.objects.filter(pk=batch.pk).update(results=locked.results)
    batch.results = locked.results
    return item


def _company_export(batch, index):
    """One company's import export, through the export service: its result recorded."""
    with transaction.atomic():
        # Under the batch's lock: two runs never both ask the service for the same company.
        locked = BatchExport.objects.select_for_update().get(pk=batch.pk)
        item = dict(locked.results[index])
        if item["status"] != "pending":
            batch.results = locked.results
            return item
        if item["export_id"] is None:
            item = _company_request(batch, item)
            # Recorded at once: a second run carries on with this export, never asks again.
            _item_save(batch, index, item)
            if item["status"] != "pending":
                return item
    export = _export_finished(item["export_id"])
    running = export.status not in (ExportBatch.Status.DONE, ExportBatch.Status.FAILED)
    if running and export.created_at > timezone.now() - STUCK_AFTER:
        return item
    if running or export.status == ExportBatch.Status.FAILED:  # failed, or lost with its worker
        item = {**item, "status": "failed", "reason_kind": FAILURE,
                "reason": export.error or _("L'export n'a pas abouti.")}
    else:
        item = {**item, "status": "done", "file_name": export.file_name}
    return _item_save(batch, index, item)


def _company_request(batch, item):
    """Ask the export service for the company's export: the item with its export id, or
    skipped with the service's reason."""
    company = Company.objects.filter(pk=item["company_id"], firm_id=batch.firm_id).first()
    if company is None:
        return {**item, "status": "skipped", "reason_kind": FAILURE,
                "reason": _("Entreprise supprimée depuis la demande.")}
    codes = list(Journal.objects.filter(company=company).values_list("code", flat=True))
    if not codes:
        return {**item, "status": "skipped", "reason_kind": NO_JOURNAL,
                "reason": _("Aucun journal pour cette entreprise.")}
    try:
        export = exports.export_request(
            company=company, actor=batch.created_by, format=batch.format,
            journal_codes=codes, date_from=batch.date_from, date_to=batch.date_to)
    except ValidationError as error:
        fields = getattr(error, "error_dict", {})
        kind = CLOSING if "date_to" in fields else NO_JOURNAL if "journals" in fields else NOTHING
        return {**item, "status": "skipped", "reason_kind": kind,
                "reason": " ".join(error.messages)}
    return {**item, "export_id": export.pk}


def _export_finished(export_id):
    """Run the export here (the service's own task may have run it already, or be running it:
    then wait for it)."""
    try:
        exports.export_run(export_id)
    except Exception:
        logger.exception("export %s failed within a batch export", export_id)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        export = ExportBatch.objects.get(pk=export_id)
        if export.status in (ExportBatch.Status.DONE, ExportBatch.Status.FAILED):
            return export
        if time.monotonic() > deadline:
            return export
        time.sleep(1)


def _write_zip(batch):
    """``<SIREN>/<file name>`` for each company's file, with the exact bytes of its export."""
    done = [item for item in batch.results if item["status"] == "done"]
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for item in done:
                export = ExportBatch.objects.get(pk=item["export_id"])
                try:
                    source = exports.export_file_open(export)
                except exports.ExportFileAltered as error:  # that company fails, not the batch
                    _item_save(batch, batch.results.index(item), {
                        **item, "status": "failed", "reason_kind": FAILURE,
                        "reason": str(error)})
                    continue
                with source, archive.open(f"{item['siren']}/{export.file_name}",
                                          "w") as target:
                    for chunk in iter(lambda s=source: s.read(1 << 20), b""):
                        target.write(chunk)
            _write_summary(batch, archive)
        spool.seek(0)
        name = f"exports_{batch.date_from:%Y%m%d}-{batch.date_to:%Y%m%d}_{batch.pk}.zip"
        batch.zip_file.save(name, File(spool), save=False)


SUMMARY_NAME = "entreprises_ignorees.csv"


def _write_summary(batch, archive):
    """``entreprises_ignorees.csv`` beside the files when a company was skipped or failed: the
    archive says on its own what is missing and why (CSV as the import exports: ``;``, UTF-8
    with a BOM, no formula)."""
    left = batch_skipped(batch)
    if not left:
        return
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("SIREN"), _("Entreprise"), _("État"), _("Raison")])
    for item in left:
        state = _("Ignorée") if item["status"] == "skipped" else _("Échec")
        writer.writerow([csv_cell(item["siren"]), csv_cell(item["name"]), state,
                         csv_cell(item["reason"])])
    archive.writestr(SUMMARY_NAME, text.getvalue().encode("utf-8-sig"))


def batch_zip_name(batch):
    return f"exports_{batch.date_from:%Y%m%d}-{batch.date_to:%Y%m%d}.zip"
