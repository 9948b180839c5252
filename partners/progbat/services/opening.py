"""Opening ProGBat in a new tab through a one-time SSO URL."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from companies.models import CompanyMembership
from firms.selectors import firm_membership_for

from ..models import ProgbatLink, ProgbatUserAccess
from .calls import PARTNER_FAILURES, call_progbat, failure_message


def progbat_role_for(company, user):
    """Firm users get an ``expert_comptable`` access; company users their own role."""
    if firm_membership_for(user) is not None:
        return "expert_comptable"
    is_dirigeant = CompanyMembership.objects.filter(
        company=company, user=user, role=CompanyMembership.Role.DIRIGEANT).exists()
    return "dirigeant" if is_dirigeant else "collaborateur"


def progbat_open(*, company, user):
    """The one-time URL that opens the company's ProGBat account as ``user``.

    The first time a user opens it, their access to the ProGBat account is created, once.
    """
    with transaction.atomic():
        link = ProgbatLink.objects.select_for_update().get(company=company)
        if not link.is_active:
            raise ValidationError(_("La liaison ProGBat de cette entreprise n'est pas active."))
        try:
            _ensure_access(link, company, user)
            account = call_progbat(link, user, lambda c: c.get_account(
                account_id=link.progbat_account_id))
            link.plan, link.licence_status = account.plan, account.licence_status
            link.trial_ends_at = account.trial_ends_at
            link.save(update_fields=["plan", "licence_status", "trial_ends_at", "updated_at"])
            return call_progbat(link, user, lambda c: c.sso_url(
                account_id=link.progbat_account_id, email=user.email))
        except PARTNER_FAILURES as error:
            failure = error
    raise ValidationError(failure_message(failure,
                                          refused=_("ProGBat a refusé l'ouverture : %(detail)s")))


def _ensure_access(link, company, user):
    if ProgbatUserAccess.objects.filter(link=link, user=user).exists():
        return
    role = progbat_role_for(company, user)
    call_progbat(link, user, lambda c: c.add_user(account_id=link.progbat_account_id,
                                                  email=user.email, role=role))
    ProgbatUserAccess.objects.create(firm=company.firm, link=link, user=user, role=role)
    audit_record(firm=company.firm, company=company, actor=user,
                 action="progbat.access_created",
                 summary=lambda: _("Accès ProGBat « %(role)s » créé pour %(email)s")
                 % {"role": role, "email": user.email})
