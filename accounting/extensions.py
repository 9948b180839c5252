"""How accounting shows on the firm dashboard: what needs an accountant's eye."""

from django.db.models import Count, Q

from meg.extensions import Panel, register_dashboard_panel

from .models import Entry, InboxEvent, IntegrityCheck


def dashboard_context(request, *, firm):
    """Events refused or ignored, entries still to export, companies whose books are altered
    (three queries whatever the number of companies)."""
    events = InboxEvent.objects.filter(firm=firm).aggregate(
        rejected=Count("id", filter=Q(status=InboxEvent.Status.REJECTED)),
        ignored=Count("id", filter=Q(status=InboxEvent.Status.IGNORED)))
    drafts = Entry.objects.filter(firm=firm, state=Entry.State.DRAFT).aggregate(
        entries=Count("id"), companies=Count("company", distinct=True))
    altered = list(IntegrityCheck.objects.filter(firm=firm, intact=False)
                   .select_related("company").order_by("company__name")[:20])
    return {"events": events, "drafts": drafts, "altered": altered}


register_dashboard_panel(Panel("accounting/_dashboard_panel.html", dashboard_context, order=50))
