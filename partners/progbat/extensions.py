"""How ProGBat plugs into the core: module activation, dashboard panel, connection card."""

from django.db.models import Case, IntegerField, Value, When

from accounting.hooks import on_entries_exported, register_entry_action
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
from partners.common.outbox import outbox_enqueue, register_handler

from . import resend
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


def lock_invoice(message):
    """Outbox handler: lock an exported invoice at ProGBat (idempotent there)."""
    link = ProgbatLink.objects.get(company_id=message.company_id)
    payload = message.payload
    try:
        call_progbat(link, message.actor, lambda c: c.lock_invoice(
            invoice_id=payload["invoice_id"], export_id=payload["export_id"]))
    except ConnectionUnusable as error:
        # Retried with backoff: someone must reconnect; the message says who.
        raise PartnerUnavailable(unusable_connection_message(error)) from None
    return {"locked": True}


@on_entries_exported
def lock_exported_invoices(batch, entries):
    """An exported ProGBat entry's invoice must never change again: lock it at ProGBat."""
    locks = [OutboxMessage(firm_id=batch.firm_id, company_id=batch.company_id,
                           partner="progbat", action="progbat.lock_invoice",
                           actor_id=batch.created_by_id,
                           payload={"invoice_id": entry.source_ref, "export_id": str(batch.pk)},
                           idempotency_key=f"progbat-lock:{entry.source_ref}:{batch.pk}")
             for entry in entries if entry.source == "progbat"]
    OutboxMessage.objects.bulk_create(locks, batch_size=1000)
    outbox_enqueue(locks)


register_handler("progbat.lock_invoice", lock_invoice)
register_handler(resend.ACTION, resend.resend_invoice)
register_entry_action(resend.ENTRY_ACTION)
register_dashboard_panel(Panel("partners/progbat/_dashboard_panel.html", dashboard_context))
register_partner_card(Panel("partners/progbat/_connection_card.html", connection_card_context))
