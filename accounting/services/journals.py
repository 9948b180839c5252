"""Journals: one per company and source (DESIGN §7.1). The code and label are settings of the
company's accounting; renaming them never splits a journal."""

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record

from ..models import Journal

DEFAULTS = {
    Journal.Source.PROGBAT: ("VT", "Ventes ProGBat"),
    Journal.Source.MANUAL: ("OD", "Opérations diverses"),
    Journal.Source.PURCHASES: ("HA", "Achats"),
    Journal.Source.LIBEO_PAYMENTS: ("BQLB", "Banque Libeo"),
}


def journal_for(company, source):
    """The company's journal for ``source``, created with the default code on first use."""
    code, label = DEFAULTS[source]
    journal, _created = Journal.objects.get_or_create(
        company=company, source=source,
        defaults={"firm_id": company.firm_id, "code": code, "label": label})
    return journal


@transaction.atomic
def journal_update(*, journal, actor, code, label):
    """Rename a journal: exports made from now on use the new code and label."""
    journal = Journal.objects.select_for_update().get(pk=journal.pk)
    before = (journal.code, journal.label)
    journal.code, journal.label = (code or "").strip().upper(), " ".join((label or "").split())
    journal.full_clean()
    if (journal.code, journal.label) == before:
        return journal
    journal.save(update_fields=["code", "label"])
    audit_record(firm=journal.company.firm, company=journal.company, actor=actor,
                 action="journal.updated",
                 summary=lambda: _("Journal %(before)s renommé en %(code)s — %(label)s")
                 % {"before": before[0], "code": journal.code, "label": journal.label})
    return journal

