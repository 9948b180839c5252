"""How ProGBat plugs into the core: module activation, dashboard panel, connection card."""

import itertools

from django.db.models import Case, IntegerField, Value, When

from accounting.hooks import on_entries_exported, on_entries_journalised, register_entry_action
from companies.module_pages import register_module_page
from firms.models import Partner, PartnerConvention
from meg.extensions import (
    ModuleHook,
    Panel,
    register_dashboard_panel,
    register_module_hook,
    register_partner_card,
)
from partners.common.exceptions import PartnerUnavailable
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_enqueue_together, register_handler

from . import documents, resend
from .client import LOCK_BATCH_MAX
from .models import ProgbatLink
from .services import (
    ConnectionUnusable,
    connection_for,
    progbat_activation_check,
    progbat_link_activate,
)
from .services.calls import call_progbat, unusable_connection_message

register_module_hook("progbat", ModuleHook(check_activation=progbat_activation_check,
                                           activated=progbat_link_activate))
register_module_page("progbat", "progbat:module")

PANEL_SIZE = 50


def dashboard_context(request, *, firm):
    """The link state of the firm's companies, those needing attention first."""
    Status = ProgbatLink.Status
    attention_first = Case(When(status=Status.ERROR, then=Value(0)),
                           When(status=Status.PENDING_CREDENTIALS, then=Value(1)),
                           When(status=Status.PENDING_CONSENT, then=Value(2)),
                           When(status=Status.PAUSED, then=Value(3)),
                           default=Value(4), output_field=IntegerField())
    links = (ProgbatLink.objects.filter(firm=firm).select_related("company")
             .order_by(attention_first, "company__name"))
    return {"links": links[:PANEL_SIZE], "total": links.count(), "limit": PANEL_SIZE}


def connection_card_context(request):
    convention = PartnerConvention.objects.filter(
        firm__memberships__user=request.user, partner=Partner.PROGBAT).first()
    return {"connection": connection_for(request.user), "convention": convention}


def _call_for(message, call):
    link = ProgbatLink.objects.get(company_id=message.company_id)
    try:
        return call_progbat(link, message.actor, call)
    except ConnectionUnusable as error:
        # Retried with backoff: someone must reconnect; the message says who.
        raise PartnerUnavailable(unusable_connection_message(error)) from None


def lock_invoice(message):
    """Outbox handler: lock an exported invoice at ProGBat (idempotent there)."""
    payload = message.payload
    _call_for(message, lambda c: c.lock_invoice(invoice_id=payload["invoice_id"],
                                                export_id=payload["export_id"]))
    return {"locked": True}


def lock_invoices(message):
    """Outbox handler: lock a batch of exported invoices at ProGBat in one call (idempotent
    there). Invoices ProGBat does not know are kept in the result, for support."""
    payload = message.payload
    answer = _call_for(message, lambda c: c.lock_invoices(
        export_id=payload["export_id"], invoice_ids=payload["invoice_ids"]))
    return {"locked": len(answer["locked"]), "already_locked": len(answer["already_locked"]),
            "unknown": answer["unknown"][:100]}


# An export of at most this many invoices locks them one by one (each visible, and retried,
# on its own in the outbox); a larger one in batches of LOCK_BATCH_MAX (DESIGN §5.2).
LOCK_ONE_BY_ONE_MAX = 20


@on_entries_exported
def lock_exported_invoices(batch, entries):
    """An exported ProGBat entry's invoice must never change again: lock it at ProGBat. The
    outbox rows are written with the export; their delivery is one relay task."""
    invoice_ids = (entry.source_ref for entry in entries if entry.source == "progbat")
    first = list(itertools.islice(invoice_ids, LOCK_ONE_BY_ONE_MAX + 1))
    if not first:
        return
    common = {"firm_id": batch.firm_id, "company_id": batch.company_id, "partner": "progbat",
              "actor_id": batch.created_by_id}
    export_id = str(batch.pk)
    if len(first) <= LOCK_ONE_BY_ONE_MAX:
        locks = OutboxMessage.objects.bulk_create([
            OutboxMessage(**common, action="progbat.lock_invoice",
                          payload={"invoice_id": invoice_id, "export_id": export_id},
                          idempotency_key=f"progbat-lock:{invoice_id}:{batch.pk}")
            for invoice_id in first])
        outbox_enqueue_together([lock.pk for lock in locks])
        return
    written = []  # the messages' ids only: their payloads are not kept in memory
    invoice_ids = itertools.chain(first, invoice_ids)
    number = 0
    while chunk := list(itertools.islice(invoice_ids, LOCK_BATCH_MAX)):
        number += 1
        message = OutboxMessage.objects.create(
            **common, action="progbat.lock_invoices",
            payload={"export_id": export_id, "invoice_ids": chunk},
            idempotency_key=f"progbat-lock:{batch.pk}:{number}")
        written.append(message.pk)
    outbox_enqueue_together(written)


register_handler("progbat.lock_invoice", lock_invoice)
register_handler(resend.ACTION, resend.resend_invoice)
register_entry_action(resend.ENTRY_ACTION)
register_handler("progbat.lock_invoices", lock_invoices)
register_handler(documents.ACTION, documents.fetch_documents)
on_entries_journalised(documents.documents_fetch_queue)
register_dashboard_panel(Panel("partners/progbat/_dashboard_panel.html", dashboard_context))
register_partner_card(Panel("partners/progbat/_connection_card.html", connection_card_context))
