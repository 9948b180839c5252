"""What accounting puts on the firm's attention board (*À traiter*): partner events refused or
ignored, entries waiting for export, books whose inalterability check failed.

Each source is one query whatever the number of companies (grouped in the database).
"""

import datetime

from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from meg.extensions import (
    AttentionRow,
    AttentionSource,
    Severity,
    register_attention_source,
    short_date,
)

from .models import Entry, InboxEvent, IntegrityCheck

# A refused or ignored event stays on the board this long, unless a later version of the same
# document is journalised first (then it was dealt with). Refusals nobody can undo (the
# document was already exported) must not stay there for ever.
EVENTS_SHOWN_FOR = datetime.timedelta(days=30)


def export_space(company_id, anchor=""):
    return reverse("accounting:export_space", args=[company_id]) + anchor


def events_problems(scope):
    dealt_with = InboxEvent.objects.filter(
        company=OuterRef("company"), partner=OuterRef("partner"),
        source_ref=OuterRef("source_ref"), status=InboxEvent.Status.PROCESSED,
        pk__gt=OuterRef("pk"))
    return (scope.of_companies(InboxEvent.objects.filter(
        status__in=[InboxEvent.Status.REJECTED, InboxEvent.Status.IGNORED],
        received_at__gte=scope.now - EVENTS_SHOWN_FOR))
        .exclude(Exists(dealt_with)))


def events_rows(problems, scope):
    grouped = (problems.values("company_id", "company__name").order_by()
               .annotate(rejected=Count("pk", filter=Q(status=InboxEvent.Status.REJECTED)),
                         ignored=Count("pk", filter=Q(status=InboxEvent.Status.IGNORED)),
                         last=Max("received_at")))
    rows = []
    for group in grouped:
        parts = []
        if group["rejected"]:
            parts.append(ngettext("%(n)s événement partenaire refusé",
                                  "%(n)s événements partenaires refusés",
                                  group["rejected"]) % {"n": group["rejected"]})
        if group["ignored"]:
            parts.append(ngettext("%(n)s événement partenaire ignoré",
                                  "%(n)s événements partenaires ignorés",
                                  group["ignored"]) % {"n": group["ignored"]})
        text = _("%(events)s (dernier reçu le %(day)s) : voir les raisons.") % {
            "events": ", ".join(parts),
            "day": short_date(group["last"])}
        rows.append(AttentionRow(
            kind="events", severity=Severity.WARNING, company_id=group["company_id"],
            company_name=group["company__name"], text=text, url=export_space(group["company_id"]),
            count=group["rejected"] + group["ignored"]))
    return rows


def entries_problems(scope):
    return scope.of_companies(Entry.objects.filter(state=Entry.State.DRAFT))


def entries_rows(problems, scope):
    grouped = (problems.values("company_id", "company__name").order_by()
               .annotate(n=Count("pk"), first=Min("date"), last=Max("date")))
    return [AttentionRow(
        kind="entries_to_export", severity=Severity.INFO, company_id=group["company_id"],
        company_name=group["company__name"],
        text=ngettext("%(n)s écriture à exporter (du %(first)s au %(last)s).",
                      "%(n)s écritures à exporter (du %(first)s au %(last)s).", group["n"]) % {
            "n": group["n"], "first": short_date(group["first"]),
            "last": short_date(group["last"])},
        url=export_space(group["company_id"]), count=group["n"]) for group in grouped]


def integrity_problems(scope):
    return scope.of_companies(IntegrityCheck.objects.filter(intact=False))


def integrity_rows(problems, scope):
    rows = []
    for check in problems.select_related("company"):
        n = len(check.problems)
        first = check.problems[0] if check.problems else ""
        text = ngettext("Inaltérabilité : %(n)s anomalie trouvée le %(day)s",
                        "Inaltérabilité : %(n)s anomalies trouvées le %(day)s", n) % {
            "n": n, "day": short_date(check.checked_at)}
        rows.append(AttentionRow(
            kind="integrity", severity=Severity.ERROR, company_id=check.company_id,
            company_name=check.company.name, text=f"{text} — {first}" if first else text,
            url=export_space(check.company_id, "#integrite"), count=n))
    return rows


register_attention_source(AttentionSource(
    kind="integrity", label=gettext_lazy("Anomalies d'inaltérabilité"), severity=Severity.ERROR,
    problems=integrity_problems, rows=integrity_rows, order=10,
    summary=lambda rows, items: ngettext("%(n)s entreprise aux écritures altérées",
                                         "%(n)s entreprises aux écritures altérées",
                                         rows) % {"n": rows}))
register_attention_source(AttentionSource(
    kind="events", label=gettext_lazy("Événements partenaires refusés ou ignorés"),
    severity=Severity.WARNING, problems=events_problems, rows=events_rows, order=60,
    summary=lambda rows, items: ngettext(
        "%(items)s événement refusé ou ignoré (%(rows)s entreprise(s))",
        "%(items)s événements refusés ou ignorés (%(rows)s entreprise(s))",
        items) % {"items": items, "rows": rows}))
register_attention_source(AttentionSource(
    kind="entries_to_export", label=gettext_lazy("Écritures à exporter"), severity=Severity.INFO,
    problems=entries_problems, rows=entries_rows, order=90,
    summary=lambda rows, items: ngettext(
        "%(items)s écriture à exporter (%(rows)s entreprise(s))",
        "%(items)s écritures à exporter (%(rows)s entreprise(s))",
        items) % {"items": items, "rows": rows}))
