"""« Demander la mise à jour à ProGBat »: a draft entry is computed again by ProGBat.

The request goes through the outbox; ProGBat answers 202 and re-emits ``invoice.updated``
with a new version, which replaces the draft as any update does (accounting's inbox).
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.hooks import EntryAction
from accounting.models import Entry
from audit.services import audit_record
from partners.common.exceptions import PartnerUnavailable
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_enqueue

from .models import ProgbatLink
from .services import ConnectionUnusable
from .services.calls import call_progbat, unusable_connection_message

ACTION = "progbat.resend_invoice"
ENTRY_ACTION = EntryAction(
    source="progbat", label=gettext_lazy("Demander la mise à jour à ProGBat"),
    url_name="progbat:entry_resend",
    confirm=gettext_lazy("Demander à ProGBat de recalculer cette écriture avec ses paramètres "
                         "comptables actuels ? Le brouillon sera remplacé par la nouvelle "
                         "version."))


class ResendRefused(Exception):
    pass


@transaction.atomic
def progbat_entry_resend(*, entry, actor):
    """Queue the resend of a draft entry's invoice; asking twice for one version is one call."""
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.state != Entry.State.DRAFT:
        raise ResendRefused(_(
            "Cette écriture a déjà été exportée : la facture est verrouillée chez ProGBat et "
            "ne peut plus être mise à jour."))
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=f"progbat-resend:{entry.source_ref}:{entry.source_version}",
        defaults={"firm_id": entry.firm_id, "company_id": entry.company_id,
                  "partner": "progbat", "action": ACTION, "actor": actor,
                  "payload": {"invoice_id": entry.source_ref,
                              "version": entry.source_version}})
    if created:
        outbox_enqueue([message])
        audit_record(firm=entry.firm, company=entry.company, actor=actor,
                     action="progbat.entry_resend",
                     summary=lambda: _("Mise à jour demandée à ProGBat : pièce %(ref)s") % {
                         "ref": entry.piece_ref},
                     data={"entry_id": entry.pk, "invoice_id": entry.source_ref,
                           "version": entry.source_version})
    return message


def resend_invoice(message):
    """Outbox handler: ask ProGBat to re-emit the invoice (202; a locked one is refused)."""
    link = ProgbatLink.objects.get(company_id=message.company_id)
    try:
        call_progbat(link, message.actor,
                     lambda c: c.resend_invoice(message.payload["invoice_id"]))
    except ConnectionUnusable as error:
        raise PartnerUnavailable(unusable_connection_message(error)) from None
    return {"requested": True}
