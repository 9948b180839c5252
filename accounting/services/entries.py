"""Booking one source document that MEG itself holds (an Achats supplier invoice) in its
journal: the single-document twin of the inbox's ingestion (DESIGN §7.2).

``entry_book`` is given the document as it stands now, as an ``EntryDraft``, and makes the
books say the same without ever touching a final entry:

- nothing booked yet → a draft entry;
- its entry is still a draft → the draft is replaced (same entry, new header and lines);
- its entry is exported → **one correcting entry of the differences**: per account and
  auxiliary account, what the document says now minus what its exported entries say. It is
  labelled « Correction : … » and its note names the entries it corrects; its ``source_ref`` is
  the document's with ``#c<n>``. A later edit replaces that correction while it is a draft;
  once it is exported too, the next edit makes the next one. An edit that changes nothing in
  the books (a due date, an IBAN) makes no entry.

Why differences rather than a reversal plus a new entry: one entry per edit, balanced by
construction, that shows exactly what changed (607 → 606, 20 € more VAT), and the supplier's
401 line moves only by the difference, which keeps lettering simple.

A draft with no lines means the document books nothing (e.g. a 0 € invoice): a draft entry is
removed, an exported one is reversed by a correction. A version older than the one booked is
ignored (never regress); the same version is applied again (the document's current state: its
supplier's auxiliary account may have been edited).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from audit.services import audit_record

from ..chart import pcg_labels, resolve_labels
from ..drafts import LABEL_MAX, DraftRefused, clean_text, draft_problems
from ..models import ChartAccount, Entry, EntryLine, LetteredLine
from .fiscal_years import open_fiscal_year_for
from .journals import journal_for

CORRECTION_MARK = "#c"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Booking:
    """What ``entry_book`` did: ``created``, ``replaced``, ``corrected`` (a correcting entry
    written or replaced), ``unchanged``, ``removed`` or ``stale`` (an older version)."""

    outcome: str
    entry_id: int | None = None


def accounts_in_chart(company, numbers):
    """The numbers among ``numbers`` that the company's chart knows: its own accounts, and any
    number under a PCG account of at least 3 digits (``607000`` under ``607``). A class
    (``6``) or a group (``65``) alone does not name an account."""
    known = set(ChartAccount.objects.filter(company=company, number__in=list(numbers))
                .values_list("number", flat=True))
    pcg = pcg_labels()
    for number in set(numbers) - known:
        if any(number[:length] in pcg for length in range(len(number), 2, -1)):
            known.add(number)
    return known


def _cleaned(company, draft):
    accounts = {line.account.strip() for line in draft.lines if isinstance(line.account, str)}
    known = accounts_in_chart(company, accounts)
    cleaned, malformed, invalid = draft_problems(draft, known_account=known.__contains__)
    if not draft.lines:
        malformed.pop("lines", None)  # nothing to book: allowed here
    if parse_date(draft.date or "") is None:
        malformed["date"] = _("Date AAAA-MM-JJ attendue.")
    if parse_datetime(draft.validated_at or "") is None:
        malformed["validated_at"] = _("Date et heure ISO 8601 attendues.")
    if len(cleaned.source_ref) > 100 - len(CORRECTION_MARK) - 3:
        malformed["source_ref"] = _("Identifiant trop long.")
    if malformed or invalid:
        raise DraftRefused(malformed, invalid)
    return cleaned


def _hold_company(company):
    """``FOR SHARE`` on the company row, as ingestion does: a closing (``FOR UPDATE``) or an
    export finishes before this entry is written, never in the middle of it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM companies_company WHERE id = %s FOR SHARE",
                           [company.pk])


def _booking_day(company, piece_date):
    """(entry date, fiscal year, note): a document dated in a closed year is booked on the
    first day of the next open one, and the entry says why (DESIGN §7.1)."""
    year = open_fiscal_year_for(company, piece_date)
    if piece_date in year:
        return piece_date, year.end.year, ""
    day = year.start
    return day, year.end.year, _(
        "Pièce du %(piece)s : l'exercice %(closed)s est clôturé, écriture passée au "
        "%(day)s.") % {"piece": piece_date.strftime("%d/%m/%Y"), "closed": piece_date.year,
                       "day": day.strftime("%d/%m/%Y")}


def _net(lines):
    """``{(account, aux_account): (debit − credit, aux_label)}`` of lines, in their order."""
    net = {}
    for line in lines:
        key = (line.account, line.aux_account)
        amount, label = net.get(key, (ZERO, line.aux_label))
        net[key] = (amount + Decimal(line.debit) - Decimal(line.credit), label or line.aux_label)
    return net


def _line_rows(net):
    """``(account, aux_account, aux_label, debit, credit)`` for each non-zero net amount."""
    return [(account, aux, aux_label, max(amount, ZERO), max(-amount, ZERO))
            for (account, aux), (amount, aux_label) in net.items() if amount]


def _write(entry, *, company, label, rows, draft, note):
    """Save ``entry`` (new or a draft) with ``rows`` as its lines; False if nothing changed."""
    labels = resolve_labels(company, {row[0]: "" for row in rows})
    piece_date = parse_date(draft.date)
    day, fiscal_year, closed_note = _booking_day(company, piece_date)
    header = {"date": day, "fiscal_year": fiscal_year,
              "piece_date": piece_date if day != piece_date else None,
              "note": clean_text(" ".join(filter(None, [note, closed_note])), 300),
              "piece_ref": draft.piece_ref, "label": label,
              "source_version": draft.source_version,
              "validated_at": parse_datetime(draft.validated_at)}
    lines = [EntryLine(firm_id=company.firm_id, position=position, account=account,
                       account_label=labels[account], aux_account=aux, aux_label=aux_label,
                       label=label, debit=debit, credit=credit)
             for position, (account, aux, aux_label, debit, credit) in enumerate(rows, 1)]
    signature = [(line.account, line.account_label, line.aux_account, line.aux_label,
                  line.label, line.debit, line.credit) for line in lines]
    if entry.pk is not None and all(getattr(entry, k) == v for k, v in header.items()) and \
            signature == [(line.account, line.account_label, line.aux_account, line.aux_label,
                           line.label, line.debit, line.credit) for line in entry.lines.all()]:
        return False
    for name, value in header.items():
        setattr(entry, name, value)
    entry.save()
    # A replaced draft keeps its lettering: by account (one third-party line per account).
    lettered = dict(LetteredLine.objects.filter(line__entry=entry)
                    .values_list("line__account", "lettering_id"))
    EntryLine.objects.filter(entry=entry).delete()
    for line in lines:
        line.entry = entry
    EntryLine.objects.bulk_create(lines)
    LetteredLine.objects.bulk_create(
        LetteredLine(firm_id=company.firm_id, lettering_id=lettered.pop(line.account),
                     line=line) for line in lines if line.account in lettered)
    return True


@transaction.atomic
def entry_book(*, company, source, draft, actor=None) -> Booking:
    """Make the books of ``company`` say what the document ``draft`` says (see the module
    docstring). Raises ``DraftRefused`` (nothing written) when the draft cannot be booked,
    e.g. an account the company's chart does not know."""
    draft = _cleaned(company, draft)
    journal = journal_for(company, source)
    _hold_company(company)
    ref = draft.source_ref
    entries = list(Entry.objects.select_for_update().filter(journal=journal).filter(
        Q(source_ref=ref) | Q(source_ref__startswith=ref + CORRECTION_MARK))
        .prefetch_related("lines").order_by("id"))
    if any(entry.source_version > draft.source_version for entry in entries):
        return Booking("stale")
    exported = [entry for entry in entries if entry.is_exported]
    pending = [entry for entry in entries if not entry.is_exported]
    entry = pending.pop() if pending else None
    for extra in pending:  # never more than one draft per document; tidy if ever
        extra.delete()

    if not exported:
        if not draft.lines:
            if entry is None:
                return Booking("unchanged")
            entry.delete()
            return Booking("removed")
        created = entry is None
        entry = entry or Entry(firm_id=company.firm_id, company=company, journal=journal,
                               source_ref=ref)
        rows = [(line.account, line.aux_account, line.aux_label, Decimal(line.debit),
                 Decimal(line.credit)) for line in draft.lines]
        changed = _write(entry, company=company, label=draft.label, rows=rows, draft=draft,
                         note="")
        return Booking("created" if created else "replaced" if changed else "unchanged",
                       entry.pk)

    booked = _net(line for done in exported for line in done.lines.all())
    difference = _net(draft.lines)
    for key, (amount, aux_label) in booked.items():
        current, label = difference.get(key, (ZERO, ""))
        difference[key] = (current - amount, label or aux_label)
    rows = _line_rows(difference)
    if not rows:
        if entry is None:
            return Booking("unchanged")
        entry.delete()
        return Booking("removed")
    if entry is None:
        entry = Entry(firm_id=company.firm_id, company=company, journal=journal,
                      source_ref=f"{ref}{CORRECTION_MARK}{len(exported)}")
    label = clean_text(_("Correction : %(label)s") % {"label": draft.label}, LABEL_MAX)
    note = _("Corrige %(entries)s, exportée(s) : pièce modifiée après export (version "
             "%(version)s), écriture des différences.") % {
        "entries": ", ".join(done.reference for done in exported),
        "version": draft.source_version}
    if _write(entry, company=company, label=label, rows=rows, draft=draft, note=note):
        audit_record(firm=company.firm, company=company, actor=actor, action="entry.corrected",
                     summary=lambda: _("Écriture de correction %(entry)s (pièce %(piece)s modifiée "
                                       "après export)") % {"entry": entry.reference,
                                                   "piece": draft.piece_ref})
    return Booking("corrected", entry.pk)
