"""``account.licence_changed`` (DESIGN §5.2, 2026-11-30): the licence state MEG shows on the
link follows ProGBat at once, without polling.

Called by ``webhooks.receive`` once the signature is checked; answers ``(status, body)``.
Applying the same event twice sets the same values: a replay needs no inbox row.
"""

import re

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from accounting.drafts import parse_moment
from audit.services import audit_record

from .models import ProgbatLink

IDENTIFIER = re.compile(r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,64}")
PLAN = re.compile(r"[a-z_+]{1,30}")


def _read(event):
    """The event's data → (account_id, plan, licence_status, trial_ends_at), or field errors."""
    data = event.get("data")
    if not isinstance(data, dict):
        return None, {"data": _("Objet attendu.")}
    errors = {}
    account_id, plan = data.get("account_id"), data.get("plan")
    status, trial = data.get("licence_status"), data.get("trial_ends_at")
    if not isinstance(account_id, str) or not IDENTIFIER.fullmatch(account_id):
        errors["data.account_id"] = _("Identifiant de compte ProGBat invalide.")
    if not isinstance(plan, str) or not PLAN.fullmatch(plan):
        errors["data.plan"] = _("Offre ProGBat attendue.")
    if status not in ProgbatLink.LicenceStatus.values:
        errors["data.licence_status"] = _("Une valeur parmi : %(values)s.") % {
            "values": ", ".join(ProgbatLink.LicenceStatus.values)}
    trial_ends_at = None
    if trial is not None:
        trial_ends_at = parse_moment(trial)
        if trial_ends_at is None:
            errors["data.trial_ends_at"] = _("Date et heure ISO 8601 avec fuseau, ou null.")
    if errors:
        return None, errors
    return (account_id, plan, status, trial_ends_at), {}


def receive_licence_changed(event):
    read, errors = _read(event)
    if errors:
        return 400, {"error": "malformed", "detail": _("Contenu invalide."), "fields": errors}
    account_id, plan, status, trial_ends_at = read
    with scopes_disabled(), transaction.atomic():
        link = (ProgbatLink.objects.select_for_update().select_related("company")
                .filter(progbat_account_id=account_id).first())
        if link is None:
            return 404, {"error": "unknown_account",
                         "detail": _("Aucune entreprise MEG liée à ce compte ProGBat.")}
        changed = (link.plan, link.licence_status, link.trial_ends_at) != (
            plan, status, trial_ends_at)
        if changed:
            link.plan, link.licence_status, link.trial_ends_at = plan, status, trial_ends_at
            link.save(update_fields=["plan", "licence_status", "trial_ends_at", "updated_at"])
            audit_record(firm=link.company.firm, company=link.company, actor=None,
                         action="progbat.licence_changed",
                         summary=lambda: _("Licence ProGBat : %(status)s (%(plan)s)") % {
                             "status": link.get_licence_status_display(),
                             "plan": link.plan_label},
                         data={"plan": plan, "licence_status": status,
                               "trial_ends_at": trial_ends_at.isoformat() if trial_ends_at
                               else None})
    return 200, {"status": "applied"}
