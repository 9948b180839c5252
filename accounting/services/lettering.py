"""Lettering (lettrage): lines of one account that settle each other share a code (DESIGN
§7.2). The rows live outside the entries (see ``models.Lettering``): lettering never touches a
final entry, and the FEC reads the code and date next to each line."""

from django.core.exceptions import ValidationError
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


def documents_letter(*, company, account, aux_account, documents, date, actor=None):
    """Letter together the ``account``/``aux_account`` lines of the entries booked for
    ``documents`` (``(journal source, source_ref)`` pairs, their correcting entries
    included), as of ``date``. Lines already lettered keep their code. Returns the
    ``Lettering``, or None when fewer than two lines are left to letter."""
    wanted = Q()
    for source, ref in documents:
        wanted |= Q(entry__journal__source=source) & (
            Q(entry__source_ref=ref) | Q(entry__source_ref__startswith=ref + CORRECTION_MARK))
    lines = list(EntryLine.objects.filter(wanted, entry__company=company, account=account,
                                          aux_account=aux_account, lettered__isnull=True)
                 .order_by("entry_id", "position"))
    if len(lines) < 2:
        return None
    if not {line.debit > 0 for line in lines} == {True, False}:
        raise ValidationError(_("Le lettrage rapproche des débits et des crédits."))
    lettering = Lettering.objects.create(firm_id=company.firm_id, company=company,
                                         code=_next_code(company), date=date)
    LetteredLine.objects.bulk_create(
        LetteredLine(firm_id=company.firm_id, lettering=lettering, line=line) for line in lines)
    audit_record(firm=company.firm, company=company, actor=actor, action="lettering.created",
                 summary=lambda: _("Lettrage %(code)s du compte %(account)s %(aux)s "
                                   "(%(count)d lignes)")
                 % {"code": lettering.code, "account": account, "aux": aux_account,
                    "count": len(lines)},
                 data={"lettering_id": lettering.pk, "line_ids": [line.pk for line in lines]})
    return lettering
