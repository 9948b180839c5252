"""What partner connections put on the firm's attention board (*À traiter*): a collaborateur's
own connection that expired. Only its owner can reconnect it (connections are per user, never
per firm), so the row names them. One query whatever the number of users or companies."""

from django.db.models import Count, F, Q
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

from .models import PartnerConnection


def expired_connections(scope):
    return scope.of_users(PartnerConnection.objects.filter(
        status=PartnerConnection.Status.EXPIRED))


def expired_connection_rows(problems, scope):
    connections = (problems.select_related("user")
                   .annotate(portfolio=Count("user__portfolio",
                                             filter=Q(user__portfolio__firm=F("firm")))))
    rows = []
    for connection in connections:
        text = _("Connexion %(partner)s expirée (depuis le %(day)s) : à reconnecter par son "
                 "titulaire dans Paramètres → Connexions partenaires.") % {
            "partner": connection.get_partner_display(),
            "day": short_date(connection.updated_at)}
        rows.append(AttentionRow(
            kind="connection_expired", severity=Severity.ERROR, company_id=None,
            company_name=ngettext("%(n)s entreprise de son portefeuille",
                                  "%(n)s entreprises de son portefeuille",
                                  connection.portfolio) % {"n": connection.portfolio},
            text=text, url=reverse("firms:partner_connections"), user=connection.user,
            count=connection.portfolio))
    return rows


register_attention_source(AttentionSource(
    kind="connection_expired", label=gettext_lazy("Connexions partenaires expirées"),
    severity=Severity.ERROR, problems=expired_connections, rows=expired_connection_rows,
    per="pk", order=15,
    summary=lambda rows, items: ngettext("%(n)s collaborateur doit se reconnecter",
                                         "%(n)s collaborateurs doivent se reconnecter",
                                         rows) % {"n": rows}))
