"""Libeo's own pages: login, the user's companies, a company (plan, users, invoices received,
payments), Configuration → Intégrations (the API key for MEG).

Just enough of the partner's interface for a person, or a browser test, to see what MEG sent
and paid, copy a key, upgrade the plan and invite the accountant.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import AccountantForm
from .models import ApiKey, Membership, Payment, Plan
from .seed import DEMO_API_KEY


class LoginPage(LoginView):
    template_name = "libeo/login.html"
    redirect_authenticated_user = True


def _require_owner(membership):
    if membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Réservé à l'utilisateur principal du compte Libeo.")


@login_required
def companies(request):
    return render(request, "libeo/companies.html",
                  {"memberships": selectors.memberships_for(request.user)})


@login_required
def company_page(request, siren):
    membership = selectors.get_membership_for(request.user, siren)
    company = membership.company
    payments = list(selectors.company_payments(company))
    for payment in payments:  # as the API shows it now (a scheduled payment pays by itself)
        status, payment.shown_executed_at = services.clock.state(payment)
        payment.shown_status = Payment.Status(status).label
    return render(request, "libeo/company.html", {
        "membership": membership, "company": company,
        "users": selectors.company_users(company),
        "invoices": selectors.company_invoices(company),
        "payments": payments,
        "payments_this_month": services.payments_this_month(company),
    })


@login_required
@require_POST
def plan_switch(request, siren):
    membership = selectors.get_membership_for(request.user, siren)
    _require_owner(membership)
    company = membership.company
    plan = Plan.FREE if company.plan == Plan.PARTNERSHIPS else Plan.PARTNERSHIPS
    services.plan_switch(company=company, plan=plan)
    messages.success(request, "Plan Partnerships activé : paiements illimités pour 9 €/mois, "
                              "sans engagement (simulation)." if plan == Plan.PARTNERSHIPS else
                              "Retour à l'abonnement gratuit : 5 paiements par mois.")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):  # own pages only
        return redirect(target)
    return redirect("company", siren=siren)


@login_required
def users_page(request, siren):
    membership = selectors.get_membership_for(request.user, siren)
    company = membership.company
    form, status = AccountantForm(), 200
    if request.method == "POST":
        _require_owner(membership)
        form = AccountantForm(request.POST)
        if form.is_valid():
            try:
                added = services.accountant_add(company=company,
                                                email=form.cleaned_data["email"])
            except services.Refused as refusal:
                form.add_error("email", refusal.detail)
            else:
                messages.success(request, f"Accès expert-comptable donné à {added.user.email} : "
                                          "il peut payer vos factures depuis MEG.")
                return redirect("users", siren=siren)
        status = 400
    return render(request, "libeo/users.html", {
        "membership": membership, "company": company, "form": form,
        "users": selectors.company_users(company),
    }, status=status)


@login_required
@require_POST
def accountant_remove(request, siren):
    membership = selectors.get_membership_for(request.user, siren)
    _require_owner(membership)
    if services.accountant_remove(company=membership.company):
        messages.success(request, "Accès expert-comptable retiré.")
    return redirect("users", siren=siren)


def _integrations_membership(request):
    siren = request.GET.get("entreprise") or request.POST.get("entreprise")
    if siren:
        return selectors.get_membership_for(request.user, siren)
    first = selectors.memberships_for(request.user).first()
    if first is None:
        raise PermissionDenied("Vous n'êtes utilisateur d'aucun compte Libeo.")
    return first


def _integrations(request, membership, *, new_key=None):
    company = membership.company
    return render(request, "libeo/integrations.html", {
        "membership": membership, "company": company, "new_key": new_key,
        "memberships": selectors.memberships_for(request.user),
        "api_keys": selectors.active_api_keys(company),
        "demo_key": DEMO_API_KEY, "seed_origin": ApiKey.Origin.SEED,
    })


@login_required
def integrations(request):
    """Configuration → Intégrations: the MEG box, whose « Se connecter » shows a new key."""
    return _integrations(request, _integrations_membership(request))


@login_required
@require_POST
def integrations_meg_connect(request):
    membership = _integrations_membership(request)
    secret = services.api_key_issue(company=membership.company, origin=ApiKey.Origin.PAGE)
    # Shown in this answer only: Libeo keeps the key's digest, never the key.
    return _integrations(request, membership, new_key=secret)


@login_required
@require_POST
def api_key_revoke(request, key_id):
    membership = _integrations_membership(request)
    key = selectors.get_active_api_key(membership.company, key_id)
    services.api_key_revoke(api_key=key)
    messages.success(request, f"Clé {key.prefix}… révoquée : MEG ne peut plus l'utiliser.")
    return redirect(f"{reverse('integrations')}?entreprise={membership.company.siren}")
