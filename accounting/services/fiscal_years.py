"""Fiscal years (DESIGN §7.1): derived from the company's closing date while open, rows once
closed. Closing validates every entry of the year, produces the legal FEC of the year, seals it,
and closes the year: afterwards nothing enters it."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from meg.queue import enqueue_on_commit

from ..models import Entry, ExportBatch, FiscalYear, Journal

ONE_DAY = datetime.timedelta(days=1)


class AlreadyClosed(Exception):
    """The fiscal year is closed, or its closing is under way."""


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    state: str = FiscalYear.State.OPEN
    row: FiscalYear | None = None

    def __contains__(self, day):
        return self.start <= day <= self.end


def _derived(company, day):
    end = company.fiscal_year_end_for(day)
    previous_end = company.fiscal_year_end_for(end.replace(year=end.year - 1, day=1))
    return previous_end + ONE_DAY, end


class FiscalYears:
    """A company's fiscal years, its rows read once: journalising a batch asks for the year
    of every invoice, and must not ask the database each time."""

    def __init__(self, company):
        self.company = company
        self.rows = list(FiscalYear.objects.filter(company=company).order_by("-end"))
        self._open = {}

    def of(self, day):
        """The fiscal year holding ``day``: a closed (or closing) row, else the open year
        derived from the closing date, starting after the last closed year."""
        for row in self.rows:
            if row.start <= day <= row.end:
                return Period(row.start, row.end, row.state, row)
        start, end = _derived(self.company, day)
        before = max((row.end for row in self.rows if start <= row.end < day), default=None)
        return Period(before + ONE_DAY if before else start, end)

    def open_for(self, day):
        """The fiscal year an entry dated ``day`` is booked in: its own if open, else the
        first open year after it (whose first day the entry then takes)."""
        period = self._open.get(day)
        if period is None:
            period = self.of(day)
            while period.state != FiscalYear.State.OPEN:
                period = self.of(period.end + ONE_DAY)
            self._open[day] = period
        return period


def fiscal_year_of(company, day):
    """The fiscal year holding ``day`` (see ``FiscalYears.of``)."""
    return FiscalYears(company).of(day)


def open_fiscal_year_for(company, day):
    """The fiscal year an entry dated ``day`` is booked in (see ``FiscalYears.open_for``)."""
    return FiscalYears(company).open_for(day)


def fiscal_years_list(company):
    """Closed years and the open years that hold entries (and the current one), newest first."""
    today = timezone.localdate()
    days = {today}
    bounds = Entry.objects.filter(company=company).dates("date", "year")
    for year in bounds:
        days.add(year)
        days.add(year.replace(month=12, day=31))
    periods = {fiscal_year_of(company, day) for day in days}
    periods |= {Period(row.start, row.end, row.state, row)
                for row in FiscalYear.objects.filter(company=company)}
    by_end = {}
    for period in periods:
        if period.end not in by_end or period.row is not None:
            by_end[period.end] = period
    return sorted(by_end.values(), key=lambda period: period.end, reverse=True)


@transaction.atomic
def fiscal_year_close(*, company, end, actor):
    """« Clôturer l'exercice »: the year is marked closing at once (nothing enters it any
    more), then a task validates its entries and produces its legal FEC."""
    period = fiscal_year_of(company, end)
    if period.end != end:
        raise ValidationError(_("Le %(day)s n'est pas la date de clôture d'un exercice de "
                                "l'entreprise (exercice du %(start)s au %(end)s).") % {
            "day": end.strftime("%d/%m/%Y"), "start": period.start.strftime("%d/%m/%Y"),
            "end": period.end.strftime("%d/%m/%Y")})
    if period.state != FiscalYear.State.OPEN:
        raise AlreadyClosed(_("L'exercice clos le %(end)s est déjà clôturé.")
                            % {"end": end.strftime("%d/%m/%Y")})
    year, _created = FiscalYear.objects.select_for_update().get_or_create(
        company=company, end=period.end,
        defaults={"firm_id": company.firm_id, "start": period.start})
    if year.state != FiscalYear.State.OPEN:
        raise AlreadyClosed(_("L'exercice clos le %(end)s est déjà clôturé.")
                            % {"end": end.strftime("%d/%m/%Y")})
    batch = ExportBatch.objects.create(
        firm_id=company.firm_id, company=company, created_by=actor,
        format=ExportBatch.Format.FEC, kind=ExportBatch.Kind.CLOSING,
        journal_codes=sorted(Journal.objects.filter(company=company)
                             .values_list("code", flat=True)),
        date_from=year.start, date_to=year.end, include_exported=True)
    year.state, year.fec_export = FiscalYear.State.CLOSING, batch
    year.closed_by = actor
    year.save()
    audit_record(firm=company.firm, company=company, actor=actor, action="fiscal_year.closing",
                 summary=lambda: _("Clôture de l'exercice du %(start)s au %(end)s demandée") % {
                     "start": year.start.strftime("%d/%m/%Y"),
                     "end": year.end.strftime("%d/%m/%Y")})
    from ..tasks import export_run

    enqueue_on_commit(export_run, batch.pk)
    return year


def fiscal_year_closed(batch):
    """Called in the closing export's transaction once the legal FEC is written."""
    year = FiscalYear.objects.select_for_update().get(fec_export=batch)
    year.state, year.closed_at = FiscalYear.State.CLOSED, timezone.now()
    year.save(update_fields=["state", "closed_at"])
    audit_record(firm=batch.company.firm, company=batch.company, actor=batch.created_by,
                 action="fiscal_year.closed",
                 summary=lambda: _("Exercice du %(start)s au %(end)s clôturé : FEC légal "
                                   "%(file)s") % {
                     "start": year.start.strftime("%d/%m/%Y"),
                     "end": year.end.strftime("%d/%m/%Y"), "file": batch.file_name})


def fiscal_year_closing_failed(batch):
    """A closing whose export failed leaves the year open again, with nothing changed."""
    FiscalYear.objects.filter(fec_export=batch, state=FiscalYear.State.CLOSING).update(
        state=FiscalYear.State.OPEN, fec_export=None, closed_by=None)
