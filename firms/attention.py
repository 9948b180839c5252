"""Reads of the attention board (*À traiter*): what needs a firm user's action, across companies.

The rows come from the sources other apps register (``meg.extensions.register_attention_source``);
firms only narrows them and renders them. A company belongs to a **site** through its attached
accountants: it is on site S when one of its accountants (``CompanyAccountant``) is a firm user
of site S (``FirmMembership.site``). A company without an accountant on a site belongs to no
site (it shows only on the unfiltered board); one with accountants on two sites shows on both.
A **collaborateur**'s board is their portfolio (the companies they are attached to) and their
own partner connections.
"""

from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, Count, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyAccountant
from meg.extensions import AttentionScope, Severity, registry

from .models import FirmMembership, Site


def attention_scope(*, firm, site=None, collaborateur=None, now=None):
    """The board's scope: the firm, narrowed to a site and/or a collaborateur (no query)."""
    companies = users = None
    if site is not None:
        companies = CompanyAccountant.objects.filter(
            firm=firm, user__firm_membership__site=site).values("company_id")
        users = FirmMembership.objects.filter(firm=firm, site=site).values("user_id")
    if collaborateur is not None:
        portfolio = CompanyAccountant.objects.filter(firm=firm, user=collaborateur)
        if companies is not None:
            portfolio = portfolio.filter(company_id__in=companies)
        companies = portfolio.values("company_id")
        own = FirmMembership.objects.filter(firm=firm, user=collaborateur)
        if site is not None:
            own = own.filter(site=site)
        users = own.values("user_id")
    return AttentionScope(firm=firm, now=now or timezone.now(), companies=companies,
                          users=users)


def attention_sources(kind=None):
    return [s for s in registry.attention_sources if kind in (None, "", s.kind)]


def attention_rows(scope, *, kind=None):
    """Every row of the board, most severe first, then by company: one query per source."""
    rows = []
    for source in attention_sources(kind):
        rows.extend(source.rows(source.problems(scope), scope))
    return sorted(rows, key=lambda row: (Severity.ORDER.get(row.severity, 9),
                                         row.company_name.casefold(), row.kind, row.text))


@dataclass(frozen=True)
class AttentionCount:
    """A line of the dashboard's block: how many rows of one kind, in words."""

    kind: str
    label: str
    severity: str
    rows: int
    items: int
    text: str


def attention_counts(scope):
    """An ``AttentionCount`` for each source with something to show, in ONE query: each
    source's count is a one-row aggregate (a constant in its SELECT adds no GROUP BY), and
    they are sent together as a UNION ALL."""
    sources = attention_sources()
    if not sources:
        return []
    parts = [source.problems(scope).order_by()
             .annotate(attention_kind=Value(source.kind, output_field=CharField()))
             .values("attention_kind")
             .annotate(attention_rows=Count(source.per, distinct=True),
                       attention_items=Count("pk"))
             for source in sources]
    counted = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    found = {row["attention_kind"]: (row["attention_rows"], row["attention_items"])
             for row in counted}
    counts = []
    for source in sources:
        rows, items = found.get(source.kind, (0, 0))
        if rows:
            text = source.summary(rows, items) if source.summary else str(rows)
            counts.append(AttentionCount(source.kind, str(source.label), source.severity, rows,
                                         items, text))
    return counts


def attention_counts_of_request(request, firm):
    """The firm's unfiltered counts, computed once per request: the dashboard's block and the
    navigation's badge share them (no query added to the dashboard)."""
    counts = getattr(request, "_meg_attention_counts", None)
    if counts is None:
        counts = request._meg_attention_counts = attention_counts(attention_scope(firm=firm))
    return counts


def attention_total_of_request(request, firm):
    """How many rows the unfiltered board has: the navigation's badge. The board page itself,
    unfiltered, already knows it (``request._meg_attention_total``)."""
    total = getattr(request, "_meg_attention_total", None)
    if total is None:
        total = request._meg_attention_total = sum(
            count.rows for count in attention_counts_of_request(request, firm))
    return total


class AttentionFilterForm(forms.Form):
    """The board's filters; a site or collaborateur of another firm is not a valid choice."""

    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False,
                                  empty_label=_("Tous les sites"))
    collaborateur = forms.ModelChoiceField(label=_("Collaborateur"),
                                           queryset=get_user_model().objects.none(),
                                           required=False,
                                           empty_label=_("Tous les collaborateurs"))
    kind = forms.ChoiceField(label=_("Nature"), required=False)

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(firm=firm).order_by("name")
        collaborateur = self.fields["collaborateur"]
        collaborateur.queryset = (get_user_model().objects.filter(firm_membership__firm=firm)
                                  .order_by("last_name", "first_name", "email"))
        collaborateur.label_from_instance = lambda user: user.display_name
        self.fields["kind"].choices = [("", _("Toutes les natures"))] + [
            (source.kind, source.label) for source in attention_sources()]
