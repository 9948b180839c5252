"""« Importer les factures antérieures »: the opt-in backfill of invoices validated before the
link (the guide: « cette remontée n'est pas rétroactive »; it stays so unless a firm user asks).

A firm user chooses a period before the link date; MEG lists ProGBat's invoices of that period
(``GET /api/v1/invoices``), says which ones it would take and why it would leave the others
(already in the journal, dated in a closed fiscal year, an entry accounting refuses); once
confirmed, a task hands each one to accounting's door exactly as its webhook would have been
(``inbox_receive``), only without the "validated before the link" rule. The inbox key is the
invoice and its version: a second backfill, or a webhook of the same version, adds nothing.
"""

import datetime
import hashlib
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounting.chart import nearest_pcg_label
from accounting.drafts import DraftRefused, draft_clean, parse_amount
from accounting.models import Entry, FiscalYear, InboxEvent
from accounting.services.fiscal_years import FiscalYears, open_fiscal_year_for
from accounting.services.inbox import DUPLICATE, company_lookup, inbox_receive
from audit.services import audit_record
from meg.queue import enqueue_on_commit

from .models import ProgbatBackfill, ProgbatLink
from .services.calls import PARTNER_FAILURES, call_progbat, failure_message
from .webhooks import read_invoice_event

logger = logging.getLogger(__name__)
MAX_PAGES = 500  # 100 invoices a page at ProGBat: 50,000 invoices, far beyond a year
CHUNK = 200  # invoices handed to the inbox per transaction (the progress moves that often)

IMPORT, ALREADY, CLOSED, INVALID = "import", "already", "closed", "invalid"
EVENT_TYPE = "invoice.validated"


def backfill_link(company):
    """The company's active link, or a readable refusal."""
    link = ProgbatLink.objects.filter(company=company).first()
    if link is None or not link.is_active or link.linked_at is None:
        raise ValidationError(_("La liaison ProGBat de cette entreprise n'est pas active : "
                                "aucune facture antérieure ne peut être importée."))
    return link


def link_day(link):
    return timezone.localdate(link.linked_at)


def backfill_default_period(link):
    """From the start of the open fiscal year of the link date up to the link date."""
    day = link_day(link)
    return open_fiscal_year_for(link.company, day).start, day


def _check_period(link, date_from, date_to):
    day = link_day(link)
    if date_from > date_to:
        raise ValidationError({"date_to": _("La fin de la période doit suivre son début.")})
    if date_to > day:
        raise ValidationError({"date_to": _(
            "La période doit s'arrêter au plus tard à la date de la liaison (%(day)s) : les "
            "factures validées ensuite arrivent déjà d'elles-mêmes.") % {
            "day": day.strftime("%d/%m/%Y")}})


def _fetch(link, actor, date_from, date_to):
    """Every invoice ProGBat lists for the period, page after page."""
    invoices, cursor = [], None
    for _page in range(MAX_PAGES):
        page, cursor = call_progbat(link, actor, lambda client, c=cursor: client.list_invoices(
            account_id=link.progbat_account_id, validated_from=date_from,
            validated_to=date_to, cursor=c))
        invoices.extend(item for item in page if isinstance(item, dict))
        if cursor is None:
            return invoices
    raise ValidationError(_("ProGBat liste trop de factures pour cette période : "
                            "choisissez une période plus courte."))


def _event(link, invoice):
    """The webhook this invoice's version would have been."""
    return {"type": EVENT_TYPE, "data": {"account_id": link.progbat_account_id,
                                         "siren": link.company.siren, "invoice": invoice}}


def _amounts(invoice):
    """(HT, TVA, TTC) read from the entry: TTC on the customer's lines, TVA on 4457 lines."""
    entry = invoice.get("entry") if isinstance(invoice.get("entry"), dict) else {}
    lines = entry.get("lines") if isinstance(entry.get("lines"), list) else []
    incl, vat = Decimal(0), Decimal(0)
    for line in lines:
        if not isinstance(line, dict) or not isinstance(line.get("account"), str):
            return None
        debit, credit = parse_amount(line.get("debit")), parse_amount(line.get("credit"))
        if debit is None or credit is None:
            return None
        if line["account"].startswith("411"):
            incl += debit - credit
        elif line["account"].startswith("4457"):
            vat += credit - debit
    return [str(incl - vat), str(vat), str(incl)]


class _Books:
    """What the company's books hold now, read once for a list of invoices."""

    def __init__(self, company, refs):
        self.years = FiscalYears(company)
        with scopes_disabled():
            self.entries = dict(Entry.objects.filter(
                company=company, journal__source="progbat", source_ref__in=refs)
                .values_list("source_ref", "source_version"))
            self.received = dict(InboxEvent.objects.filter(
                company=company, partner="progbat", source_ref__in=refs,
                status=InboxEvent.Status.RECEIVED)
                .values("source_ref").annotate(v=Max("source_version"))
                .values_list("source_ref", "v"))

    def verdict(self, link, invoice):
        """(verdict, reason, draft) of one listed invoice."""
        read, errors = read_invoice_event(_event(link, invoice))
        if errors:
            return INVALID, _("Écriture invalide : %(errors)s") % {
                "errors": "; ".join(f"{k} : {v}" for k, v in errors.items())}, None
        _account, _siren, draft = read
        for known in (self.entries.get(draft.source_ref), self.received.get(draft.source_ref)):
            if known is not None and known >= draft.source_version:
                return ALREADY, _("Déjà au journal (version %(v)s).") % {"v": known}, None
        day = datetime.date.fromisoformat(draft.date)
        year = self.years.of(day)
        if year.state != FiscalYear.State.OPEN:
            return CLOSED, _("Facture du %(day)s : l'exercice du %(start)s au %(end)s est "
                             "clôturé, rien n'y entre.") % {
                "day": day.strftime("%d/%m/%Y"), "start": year.start.strftime("%d/%m/%Y"),
                "end": year.end.strftime("%d/%m/%Y")}, None
        try:
            draft_clean(draft, known_account=lambda n: nearest_pcg_label(n) is not None)
        except DraftRefused as refused:
            return INVALID, _("Écriture invalide : %(errors)s") % {
                "errors": "; ".join(str(v) for v in {**refused.malformed,
                                                     **refused.invalid}.values())}, None
        return IMPORT, "", draft


def _item(invoice, verdict, reason):
    customer = invoice.get("customer") if isinstance(invoice.get("customer"), dict) else {}
    return {"id": str(invoice.get("id", ""))[:100], "number": str(invoice.get("number", ""))[:60],
            "date": str(invoice.get("date", ""))[:10],
            "customer": str(customer.get("name", ""))[:200],
            "version": invoice.get("version") if isinstance(invoice.get("version"), int) else None,
            "amounts": _amounts(invoice), "verdict": verdict, "reason": reason[:500],
            "result": None}


def progbat_backfill_preview(*, company, actor, date_from, date_to):
    """List the period's invoices from ProGBat and say what would happen to each; nothing is
    imported. Raises ``ValidationError`` with a French message (ProGBat unavailable, an
    expired connection, a period after the link)."""
    link = backfill_link(company)
    _check_period(link, date_from, date_to)
    try:
        invoices = _fetch(link, actor, date_from, date_to)
    except PARTNER_FAILURES as error:
        raise ValidationError(failure_message(error, refused=_(
            "ProGBat a refusé la liste des factures : %(detail)s"))) from None
    books = _Books(company, [str(i.get("id", ""))[:100] for i in invoices])
    items = [_item(invoice, *books.verdict(link, invoice)[:2]) for invoice in invoices]
    return ProgbatBackfill.objects.create(
        firm_id=company.firm_id, company=company, date_from=date_from, date_to=date_to,
        requested_by=actor, items=items, invoices=invoices)


def backfill_totals(backfill):
    """Counts and (HT, TVA, TTC) totals per verdict, and of the whole list."""
    totals = {}
    for item in backfill.items:
        for key in (item["verdict"], "all"):
            row = totals.setdefault(key, {"count": 0, "amounts": [Decimal(0)] * 3})
            row["count"] += 1
            if item["amounts"]:
                row["amounts"] = [a + Decimal(b) for a, b in zip(row["amounts"], item["amounts"],
                                                                 strict=True)]
    return totals


def backfill_progress(backfill):
    """Percentage of the invoices to import that were handled."""
    wanted = [item for item in backfill.items if item["verdict"] == IMPORT]
    if not wanted or backfill.status == ProgbatBackfill.Status.DONE:
        return 100
    return sum(1 for item in wanted if item["result"]) * 100 // len(wanted)


@transaction.atomic
def progbat_backfill_confirm(*, backfill, actor):
    """The user confirmed the preview: the import is queued. A second click, or a second tab,
    finds it confirmed already and changes nothing."""
    backfill = ProgbatBackfill.objects.select_for_update().get(pk=backfill.pk)
    if backfill.status != ProgbatBackfill.Status.PREVIEW:
        return backfill, False
    backfill_link(backfill.company)
    backfill.status = ProgbatBackfill.Status.QUEUED
    backfill.confirmed_by, backfill.confirmed_at = actor, timezone.now()
    backfill.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    counts = {key: row["count"] for key, row in backfill_totals(backfill).items()}
    audit_record(firm=backfill.firm, company=backfill.company, actor=actor,
                 action="progbat.backfill_confirmed",
                 summary=lambda: _("Import des factures ProGBat validées du %(start)s au %(end)s "
                                   "confirmé : %(n)d à importer sur %(all)d listée(s)") % {
                     "start": backfill.date_from.strftime("%d/%m/%Y"),
                     "end": backfill.date_to.strftime("%d/%m/%Y"),
                     "n": counts.get(IMPORT, 0), "all": counts.get("all", 0)},
                 data={"backfill_id": backfill.pk, "date_from": backfill.date_from.isoformat(),
                       "date_to": backfill.date_to.isoformat(), "counts": counts})
    from .tasks import progbat_backfill_run

    enqueue_on_commit(progbat_backfill_run, backfill.pk)
    return backfill, True


def _webhook_id(invoice_id, version):
    """The inbox key of an invoice's version taken in by a backfill: the same for every
    backfill, so that a second one is a duplicate."""
    digest = hashlib.sha256(f"{invoice_id}\x00{version}".encode()).hexdigest()
    return f"progbat-backfill:{digest[:64]}"


def progbat_backfill_run(backfill_id):
    """Hand the confirmed backfill's invoices to the inbox, a chunk per transaction; safe to run
    twice (handled invoices keep their result; a finished backfill is left as it is)."""
    with scopes_disabled():
        with transaction.atomic():
            backfill = ProgbatBackfill.objects.select_for_update().get(pk=backfill_id)
            if backfill.status not in (ProgbatBackfill.Status.QUEUED,
                                       ProgbatBackfill.Status.RUNNING):
                return backfill
            backfill.status = ProgbatBackfill.Status.RUNNING
            backfill.save(update_fields=["status"])
        try:
            while _run_chunk(backfill_id):
                pass
        except Exception as error:
            logger.exception("ProGBat backfill %s failed", backfill_id)
            ProgbatBackfill.objects.filter(pk=backfill_id).update(
                status=ProgbatBackfill.Status.FAILED, finished_at=timezone.now(),
                error=f"{type(error).__name__}: {error}"[:500])
            raise
        return _finish(backfill_id)


@transaction.atomic
def _run_chunk(backfill_id):
    """The next invoices still to hand over; False when none is left."""
    backfill = ProgbatBackfill.objects.select_for_update(of=("self",)).select_related(
        "company").get(pk=backfill_id)
    todo = [index for index, item in enumerate(backfill.items)
            if item["verdict"] == IMPORT and not item["result"]][:CHUNK]
    if not todo:
        return False
    link = ProgbatLink.objects.filter(company=backfill.company).first()
    if link is None or not link.is_active:
        for index in todo:
            backfill.items[index].update(result=INVALID, reason=_(
                "La liaison ProGBat n'est plus active."))
        backfill.save(update_fields=["items"])
        return True
    # The books as they are now: a year closed or a webhook received since the preview.
    books = _Books(backfill.company, [backfill.items[i]["id"] for i in todo])
    lookup = company_lookup(backfill.company)
    for index in todo:
        item, invoice = backfill.items[index], backfill.invoices[index]  # listed in one order
        verdict, reason, draft = books.verdict(link, invoice)
        if verdict == IMPORT:
            receipt = inbox_receive(
                company=lookup, webhook_id=_webhook_id(draft.source_ref, draft.source_version),
                event_type=EVENT_TYPE, draft=draft,
                payload={**_event(link, invoice), "backfill_id": backfill.pk})
            if receipt.outcome == DUPLICATE:
                verdict, reason = ALREADY, _("Déjà importée par un import précédent.")
            elif receipt.outcome != "queued":  # e.g. an earlier version already exported
                verdict, reason = ALREADY, receipt.detail or receipt.outcome
        item.update(result=verdict, reason=reason[:500] if verdict != IMPORT else "")
    backfill.save(update_fields=["items"])
    return True


@transaction.atomic
def _finish(backfill_id):
    backfill = ProgbatBackfill.objects.select_for_update(of=("self",)).select_related(
        "company", "confirmed_by").get(pk=backfill_id)
    if backfill.status != ProgbatBackfill.Status.RUNNING:
        return backfill
    results = [item["result"] or item["verdict"] for item in backfill.items]
    backfill.imported = results.count(IMPORT)
    backfill.skipped = len(results) - backfill.imported
    backfill.status, backfill.finished_at = ProgbatBackfill.Status.DONE, timezone.now()
    backfill.save(update_fields=["imported", "skipped", "status", "finished_at"])
    audit_record(firm=backfill.firm, company=backfill.company, actor=backfill.confirmed_by,
                 action="progbat.backfill_done",
                 summary=lambda: _("Factures ProGBat antérieures du %(start)s au %(end)s : "
                                   "%(imported)d importée(s), %(skipped)d écartée(s)") % {
                     "start": backfill.date_from.strftime("%d/%m/%Y"),
                     "end": backfill.date_to.strftime("%d/%m/%Y"),
                     "imported": backfill.imported, "skipped": backfill.skipped},
                 data={"backfill_id": backfill.pk, "imported": backfill.imported,
                       "skipped": backfill.skipped,
                       "skipped_by_reason": {kind: results.count(kind)
                                             for kind in (ALREADY, CLOSED, INVALID)}})
    return backfill


def backfills_left_queued(older_than_seconds=60, stuck_after_seconds=900):
    """Confirmed backfills whose task was never queued (broker down), or lost with its worker
    (a second run alongside a live one is harmless: chunks are taken under the row's lock)."""
    now = timezone.now()
    with scopes_disabled():
        return list(ProgbatBackfill.objects.filter(
            Q(status=ProgbatBackfill.Status.QUEUED,
              confirmed_at__lte=now - datetime.timedelta(seconds=older_than_seconds))
            | Q(status=ProgbatBackfill.Status.RUNNING,
                confirmed_at__lte=now - datetime.timedelta(seconds=stuck_after_seconds)))
            .values_list("pk", flat=True))
