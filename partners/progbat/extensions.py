"""How ProGBat plugs into the core: module activation, dashboard panel, connection card."""

from django.db.models import Case, IntegerField, Value, When

from firms.models import PartnerConvention
from meg.extensions import (
    ModuleHook,
    Panel,
    register_dashboard_panel,
    register_module_hook,
    register_partner_card,
)

from .models import ProgbatLink
from .services import connection_for, progbat_activation_check, progbat_link_activate

register_module_hook("progbat", ModuleHook(check_activation=progbat_activation_check,
                                           activated=progbat_link_activate,
                                           url_name="progbat:module"))

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
        firm__memberships__user=request.user, partner=PartnerConvention.Partner.PROGBAT).first()
    return {"connection": connection_for(request.user), "convention": convention}


register_dashboard_panel(Panel("partners/progbat/_dashboard_panel.html", dashboard_context))
register_partner_card(Panel("partners/progbat/_connection_card.html", connection_card_context))
