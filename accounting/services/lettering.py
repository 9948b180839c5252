"""Lettering (lettrage): lines of one account that settle each other share a code (DESIGN
§7.2). The rows live outside the entries (see ``models.Lettering``): lettering never touches a
final entry, and the FEC reads the code and date next to each line."""

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from audit.services import audit_record

from ..models import EntryLine, LetteredLine, Lettering
from .entries import CORRECTION_MARK

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def lettering_code(index):
    """0 → A, 25 → Z, 26 → AA, … (the spreadsheet column order; 18,278 codes in 3 letters)."""
    code = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        code = LETTERS[rest] + code
    return code


def _next_code(company):
    """The company's next code, under a per-company lock: two payments settled at once never
    get the same code."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('meg.lettering'), %s)",
                           [company.pk])
    return lettering_code(Lettering.objects.filter(company=company).count())


def documents_letter(*, company, account, documents, actor=None):
    """Letter the ``account`` lines of the entries booked for ``documents`` (``(journal
    source, source_ref)`` pairs, their correcting entries included): per auxiliary account,
    the lines not lettered yet, together, when they balance. Returns the new ``Lettering``s.

    What an accountant expects of a supplier settled by a payment: a code groups lines of one
    (account, auxiliary account) whose debits equal their credits — the invoice's 401 line and
    the payment's, and later the corrections of both. So, run again after any change of these
    entries (a correction after payment, a new auxiliary code):

    - a lettering that no longer holds (its lines span two auxiliary accounts since a draft
      followed a new code, or no longer balance) is undone: its lines are free again, its
      code is not given again (a code seen in an earlier file never names other lines);
    - each auxiliary account's free lines are lettered together when their total is zero, as
      of the latest of their entries' dates (when the account came to balance);
    - free lines that do not balance (a payment of another amount than the invoice) stay
      unlettered: the model has no partial lettering, and lettering them would say the
      supplier is settled. The accountant letters them when the difference is booked."""
    wanted = Q()
    for source, ref in documents:
        wanted |= Q(entry__journal__source=source) & (
            Q(entry__source_ref=ref) | Q(entry__source_ref__startswith=ref + CORRECTION_MARK))
    lines = list(EntryLine.objects.filter(wanted, entry__company=company, account=account)
                 .select_related("entry").order_by("entry__date", "entry_id", "position"))
    if not lines:
        return []
    held = dict(LetteredLine.objects.filter(line__in=lines)
                .values_list("line_id", "lettering_id"))
    broken = _broken(set(held.values()))
    if broken:
        undone = LetteredLine.objects.filter(lettering_id__in=broken)
        codes = ", ".join(Lettering.objects.filter(pk__in=broken)
                          .order_by("pk").values_list("code", flat=True))
        audit_record(firm=company.firm, company=company, actor=actor,
                     action="lettering.undone",
                     summary=lambda: _("Lettrage %(codes)s défait : ses lignes ne s'équilibrent "
                                       "plus sur un même compte auxiliaire") % {"codes": codes},
                     data={"lettering_ids": sorted(broken),
                           "line_ids": sorted(undone.values_list("line_id", flat=True))})
        undone.delete()
    free = {}
    for line in lines:
        if held.get(line.pk) in (None, *broken):
            free.setdefault(line.aux_account, []).append(line)
    return [lettering for aux_account, group in free.items()
            if (lettering := _letter(company, account, aux_account, group, actor))]


def _broken(lettering_ids):
    """The letterings among ``lettering_ids`` whose lines no longer share one (account,
    auxiliary account) or no longer balance."""
    sides = {}
    for lettering_id, account, aux, debit, credit in LetteredLine.objects.filter(
            lettering_id__in=lettering_ids).values_list(
            "lettering_id", "line__account", "line__aux_account", "line__debit", "line__credit"):
        keys, total = sides.get(lettering_id, (set(), 0))
        sides[lettering_id] = (keys | {(account, aux)}, total + debit - credit)
    return {pk for pk, (keys, total) in sides.items() if len(keys) > 1 or total}


def _letter(company, account, aux_account, lines, actor):
    if len(lines) < 2 or sum(line.debit - line.credit for line in lines):
        return None
    lettering = Lettering.objects.create(firm_id=company.firm_id, company=company,
                                         code=_next_code(company),
                                         date=max(line.entry.date for line in lines))
    LetteredLine.objects.bulk_create(
        LetteredLine(firm_id=company.firm_id, lettering=lettering, line=line) for line in lines)
    audit_record(firm=company.firm, company=company, actor=actor, action="lettering.created",
                 summary=lambda: _("Lettrage %(code)s du compte %(account)s %(aux)s "
                                   "(%(count)d lignes)")
                 % {"code": lettering.code, "account": account, "aux": aux_account,
                    "count": len(lines)},
                 data={"lettering_id": lettering.pk, "line_ids": [line.pk for line in lines]})
    return lettering
