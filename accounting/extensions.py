"""How accounting shows on the firm dashboard: what needs an accountant's eye."""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from firms.models import Firm
from meg.extensions import Panel, register_dashboard_panel

from .models import Entry, InboxEvent, IntegrityCheck


def _count(queryset):
    return Coalesce(Subquery(queryset.order_by().values("firm").annotate(n=Count("id"))
                             .values("n")[:1]), 0)


def dashboard_context(request, *, firm):
    """Events refused or ignored, entries still to export, companies whose books are altered:
    one query whatever the number of companies (and one more to name altered ones, if any)."""
    Status = InboxEvent.Status
    mine = {"firm": OuterRef("pk")}
    figures = Firm.objects.filter(pk=firm.pk).annotate(
        rejected=_count(InboxEvent.objects.filter(**mine, status=Status.REJECTED)),
        ignored=_count(InboxEvent.objects.filter(**mine, status=Status.IGNORED)),
        draft_entries=_count(Entry.objects.filter(**mine, state=Entry.State.DRAFT)),
        draft_companies=Coalesce(Subquery(
            Entry.objects.filter(**mine, state=Entry.State.DRAFT).order_by().values("firm")
            .annotate(n=Count("company", distinct=True)).values("n")[:1]), 0),
        altered=_count(IntegrityCheck.objects.filter(**mine, intact=False)),
    ).values("rejected", "ignored", "draft_entries", "draft_companies", "altered").get()
    altered = []
    if figures["altered"]:
        altered = list(IntegrityCheck.objects.filter(firm=firm, intact=False)
                       .select_related("company").order_by("company__name")[:20])
    return {"events": {"rejected": figures["rejected"], "ignored": figures["ignored"]},
            "drafts": {"entries": figures["draft_entries"],
                       "companies": figures["draft_companies"]},
            "altered": altered}


register_dashboard_panel(Panel("accounting/_dashboard_panel.html", dashboard_context, order=50))
