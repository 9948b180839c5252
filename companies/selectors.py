"""Reads about companies, always narrowed to what the user may see.

``get_company_for`` answers 404 both for a company that does not exist and for one the user may
not see, so that ids of other tenants reveal nothing.
"""

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django_scopes import scopes_disabled

from firms.selectors import firm_membership_for
from meg.db import french_order

from .models import (
    Company,
    CompanyAccountant,
    CompanyMembership,
    Invitation,
    Licence,
    Module,
    ModuleActivation,
    Tier,
    UserModuleAccess,
)


def companies_for(user):
    """Companies the user may open: all of their firm's, plus those they are a member of."""
    if not user.is_authenticated:
        return Company.objects.none()
    visible = Q(memberships__user=user)
    membership = firm_membership_for(user)
    if membership is not None:
        visible |= Q(firm_id=membership.firm_id)
    return Company.objects.filter(
        Q(pk__in=Company.objects.filter(visible).values("pk"))).select_related("firm")


def get_company_for(user, company_id):
    try:
        return companies_for(user).get(pk=company_id)
    except (Company.DoesNotExist, ValueError, TypeError):
        raise Http404("Entreprise introuvable.") from None


def can_manage_company(user, company):
    """Firm users of the company's firm manage its settings, users and modules."""
    membership = firm_membership_for(user)
    return membership is not None and membership.firm_id == company.firm_id


def company_list(*, firm, query="", state="", dossier_type=""):
    dirigeants = CompanyMembership.objects.filter(
        role=CompanyMembership.Role.DIRIGEANT).select_related("user")
    companies = (Company.objects.filter(firm=firm)
                 .prefetch_related(Prefetch("memberships", queryset=dirigeants,
                                            to_attr="dirigeant_memberships")))
    if query:
        digits = query.replace(" ", "")
        companies = companies.filter(Q(name__icontains=query) | Q(siret__startswith=digits)
                                     | Q(city__icontains=query))
    if state:
        companies = companies.filter(state=state)
    if dossier_type:
        companies = companies.filter(dossier_type=dossier_type)
    return companies.order_by(french_order("name"), "id")


def dirigeant_of(company):
    membership = (CompanyMembership.objects.filter(company=company,
                                                   role=CompanyMembership.Role.DIRIGEANT)
                  .select_related("user").first())
    return membership.user if membership else None


def company_members(*, company):
    return (CompanyMembership.objects.filter(company=company).select_related("user")
            .order_by("role", "user__last_name", "user__email"))


def company_accountants(*, company):
    return (CompanyAccountant.objects.filter(company=company).select_related("user")
            .order_by("user__last_name", "user__email"))


def has_premium_licence(*, company, today):
    return Licence.objects.filter(company=company, tier=Tier.PREMIUM,
                                  starts_on__lte=today, ends_on__gte=today).exists()


def module_catalogue(*, company):
    """Every module, each annotated with ``is_enabled`` for this company."""
    enabled = ModuleActivation.objects.filter(company=company, module=OuterRef("pk"),
                                              enabled=True)
    return Module.objects.annotate(is_enabled=Exists(enabled)).order_by("position", "name")


def default_access(*, company, user):
    """Without an override, the dirigeant and the attached accountants use activated modules."""
    return (
        CompanyMembership.objects.filter(company=company, user=user,
                                         role=CompanyMembership.Role.DIRIGEANT).exists()
        or CompanyAccountant.objects.filter(company=company, user=user).exists()
    )


def module_accesses_for(*, company, user):
    """``[(module, has_access, is_admin, is_overridden)]`` for each module activated here."""
    activated = list(Module.objects.filter(activations__company=company,
                                           activations__enabled=True).order_by("position"))
    overrides = {row.module_id: row for row in
                 UserModuleAccess.objects.filter(company=company, user=user)}
    default = default_access(company=company, user=user)
    rows = []
    for module in activated:
        override = overrides.get(module.pk)
        if override is None:
            rows.append((module, default, False, False))
        else:
            rows.append((module, override.enabled, override.is_admin, True))
    return rows


def modules_for(user, company):
    """The activated modules this user may use in this company, in navigation order."""
    return [module for module, has_access, _admin, _o in
            module_accesses_for(company=company, user=user) if has_access]


def user_can_use_module(user, company, module_code):
    return any(module.code == module_code for module in modules_for(user, company))


def is_module_admin(user, company, module_code):
    return UserModuleAccess.objects.filter(company=company, user=user, module__code=module_code,
                                           enabled=True, is_admin=True).exists()


def company_users_of_firm(*, firm, query=""):
    members = (CompanyMembership.objects.filter(firm=firm)
               .select_related("user", "company").order_by("company__name", "role"))
    if query:
        members = members.filter(Q(user__email__icontains=query)
                                 | Q(user__last_name__icontains=query)
                                 | Q(company__name__icontains=query))
    return members


def get_company_user(*, company, user_id):
    """A user of this company (member or attached accountant), else 404."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(
        Q(company_memberships__company=company) | Q(portfolio__company=company)).distinct()
    try:
        return users.get(pk=user_id)
    except (users.model.DoesNotExist, ValueError, TypeError):
        raise Http404("Utilisateur introuvable.") from None


def pending_invitations(*, firm, company=None):
    """Invitations not yet answered (expired ones included, to be sent again), by e-mail only."""
    return (Invitation.objects.filter(firm=firm, company=company, accepted_at=None,
                                      declined_at=None, cancelled_at=None)
            .order_by("email"))


def invitation_for(*, user, token):
    """The invitation behind a link, only for the person it was sent to; else 404.

    Read across firms: the person is not yet a member of the inviting one.
    """
    from .invitations import token_hash

    with scopes_disabled():
        invitation = (Invitation.objects.select_related("firm", "company", "invited_by")
                      .filter(token_hash=token_hash(str(token)),
                              email=user.email.strip().lower()).first())
    if invitation is None:
        raise Http404("Invitation introuvable.")
    return invitation
