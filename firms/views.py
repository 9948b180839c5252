"""Firm dashboard (``/cabinet/``) and its *Paramètres* pages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from audit.selectors import audit_events_for
from companies import invitations
from companies.models import Company, Invitation
from companies.selectors import company_users_of_firm, pending_invitations
from companies.services import accountant_attach, accountant_detach
from meg.extensions import registry
from meg.views import FirmMixin, add_service_errors
from users.models import ApiToken
from users.services import api_token_create, api_token_revoke

from . import services
from .attention import (
    AttentionFilterForm,
    attention_counts_of_request,
    attention_rows,
    attention_scope,
)
from .forms import (
    ApiTokenForm,
    AuditFilterForm,
    ConventionForm,
    FirmSecurityForm,
    FirmUserEditForm,
    FirmUserForm,
    NewsForm,
    SiteForm,
)
from .models import FirmMembership, FirmNews, PartnerConvention, Site
from .selectors import dashboard_figures, firm_users, firm_users_mfa

PAGE_SIZE = 25


def paginate(request, queryset, per_page=PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class DashboardView(FirmMixin, TemplateView):
    template_name = "firms/dashboard.html"

    def get_context_data(self, **kwargs):
        panels = [(panel.template_name, panel.context(self.request, firm=self.firm))
                  for panel in registry.dashboard_panels]
        attention = attention_counts_of_request(self.request, self.firm)
        return super().get_context_data(figures=dashboard_figures(firm=self.firm),
                                        attention=attention, panels=panels, **kwargs)


class FirmUsersView(FirmMixin, FormView):
    """*Utilisateurs Cabinets*: the list, and (admins) the form to add one."""

    template_name = "firms/firm_users.html"
    form_class = FirmUserForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "firm": self.firm}

    def get_context_data(self, **kwargs):
        return super().get_context_data(page=paginate(self.request, firm_users(firm=self.firm)),
                                        invitations=pending_invitations(firm=self.firm),
                                        **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.membership.is_admin:
            messages.error(request, _("Seul un administrateur du cabinet peut ajouter "
                                      "des utilisateurs."))
            return redirect("firms:users")
        if request.POST.get("action") == "cancel_invitation":
            invitation = get_object_or_404(Invitation, firm=self.firm, company=None,
                                           pk=request.POST.get("invitation_id") or 0)
            invitations.invitation_cancel(invitation=invitation, actor=request.user)
            messages.success(request, _("Invitation de %(email)s annulée.")
                             % {"email": invitation.email})
            return redirect("firms:users")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # The same answer whether the address has an account or not: an invitation.
        try:
            invitation = invitations.invitation_send(
                firm=self.firm, actor=self.request.user,
                base_url=self.request.build_absolute_uri("/"), **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Invitation envoyée à %(email)s. La personne rejoint "
                                         "le cabinet quand elle l'accepte.")
                         % {"email": invitation.email})
        return redirect("firms:users")


class FirmUserDetailView(FirmMixin, FormView):
    """One firm user: role, site, and the companies they are attached to."""

    template_name = "firms/firm_user_detail.html"
    form_class = FirmUserEditForm

    def load_objects(self):
        self.target = get_object_or_404(FirmMembership.objects.select_related("user", "site"),
                                        firm=self.firm, pk=self.kwargs["membership_id"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "firm": self.firm,
                "initial": {"role": self.target.role, "site": self.target.site}}

    def get_context_data(self, **kwargs):
        user = self.target.user  # a FirmMembership is not a user: filtering by it raised
        attached = (Company.objects.filter(firm=self.firm, accountants__user=user)
                    .order_by("name"))
        available = (Company.objects.filter(firm=self.firm)
                     .exclude(accountants__user=user).order_by("name").only("id", "name"))
        return super().get_context_data(target=self.target, attached=attached,
                                        available=available, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.membership.is_admin:
            messages.error(request, _("Seul un administrateur du cabinet peut modifier les "
                                      "utilisateurs."))
            return redirect("firms:user_detail", membership_id=kwargs["membership_id"])
        if "attach" in request.POST or "detach" in request.POST:
            target = self.target
            company = get_object_or_404(Company, firm=self.firm,
                                        pk=request.POST.get("company_id") or 0)
            service = accountant_attach if "attach" in request.POST else accountant_detach
            service(company=company, actor=request.user, user=target.user)
            messages.success(request, _("Portefeuille mis à jour."))
            return redirect("firms:user_detail", membership_id=target.pk)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            services.firm_user_update(membership=self.target, actor=self.request.user,
                                      **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Utilisateur enregistré."))
        return redirect("firms:user_detail", membership_id=self.target.pk)


class SitesView(FirmMixin, FormView):
    """*Cabinets / Sites*."""

    template_name = "firms/sites.html"
    form_class = SiteForm

    def get_context_data(self, **kwargs):
        sites = Site.objects.filter(firm=self.firm).order_by("name")
        conventions = PartnerConvention.objects.filter(firm=self.firm)
        return super().get_context_data(sites=sites, conventions=conventions,
                                        convention_form=ConventionForm(), **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.membership.is_admin:
            messages.error(request, _("Seul un administrateur du cabinet peut modifier les "
                                      "sites et les conventions."))
            return redirect("firms:sites")
        if "convention" in request.POST:
            form = ConventionForm(request.POST)
            if form.is_valid():
                services.convention_set(firm=self.firm, actor=request.user, **form.cleaned_data)
                messages.success(request, _("Convention enregistrée."))
                return redirect("firms:sites")
            return self.render_to_response(self.get_context_data(convention_form=form))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            services.site_create(firm=self.firm, actor=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Site créé."))
        return redirect("firms:sites")


class CompanyUsersView(FirmMixin, TemplateView):
    """*Utilisateurs Entreprises*: every company user of the firm's companies."""

    template_name = "firms/company_users.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        members = company_users_of_firm(firm=self.firm, query=query)
        return super().get_context_data(page=paginate(self.request, members), query=query,
                                        **kwargs)


class NewsView(FirmMixin, FormView):
    """*Actualités cabinet*."""

    template_name = "firms/news.html"
    form_class = NewsForm

    def get_context_data(self, **kwargs):
        news = FirmNews.objects.filter(firm=self.firm).select_related("author")
        return super().get_context_data(page=paginate(self.request, news), **kwargs)

    def post(self, request, *args, **kwargs):
        if "delete" in request.POST:
            news = get_object_or_404(FirmNews, firm=self.firm, pk=request.POST.get("news_id") or 0)
            services.news_delete(news=news, actor=request.user)
            messages.success(request, _("Actualité supprimée."))
            return redirect("firms:news")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        services.news_publish(firm=self.firm, actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Actualité publiée."))
        return redirect("firms:news")


class PartnerConnectionsView(FirmMixin, TemplateView):
    """*Connexions partenaires*: each user's own links to partner accounts."""

    template_name = "firms/partner_connections.html"

    def get_context_data(self, **kwargs):
        cards = [(card.template_name, card.context(self.request))
                 for card in registry.partner_cards]
        return super().get_context_data(cards=cards, **kwargs)


class SecurityView(FirmMixin, FormView):
    """*Sécurité*: the firm's MFA policy (changed by firm admins) and who has set MFA up."""

    template_name = "firms/security.html"
    form_class = FirmSecurityForm

    def get_initial(self):
        return {"mfa_required": self.firm.mfa_required}

    def get_context_data(self, **kwargs):
        users = firm_users_mfa(firm=self.firm) if self.membership.is_admin else None
        return super().get_context_data(users=users, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.membership.is_admin:
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        required = form.cleaned_data["mfa_required"]
        services.firm_mfa_required_set(firm=self.firm, actor=self.request.user,
                                       required=required)
        messages.success(self.request, _("MFA obligatoire activée : chaque utilisateur du cabinet "
                                         "configurera la double authentification à sa prochaine "
                                         "page.") if required
                         else _("MFA obligatoire désactivée."))
        return redirect("firms:security")


class AuditView(FirmMixin, TemplateView):
    """The firm's activity log, for firm admins."""

    template_name = "firms/audit.html"
    admin_only = True

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None, firm=self.firm)
        filters = form.cleaned_data if form.is_valid() else {}
        events = audit_events_for(firm=self.firm,
                                  company_id=getattr(filters.get("company"), "pk", None),
                                  date_from=filters.get("date_from"),
                                  date_to=filters.get("date_to"))
        return super().get_context_data(form=form, page=paginate(self.request, events, 50),
                                        **kwargs)


class ApiTokensView(FirmMixin, TemplateView):
    """*Jetons d'API*: the user's own REST API tokens; a new token is shown once, here."""

    template_name = "firms/api_tokens.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ApiTokenForm())
        tokens = ApiToken.objects.filter(user=self.request.user).order_by("-created", "-id")
        return super().get_context_data(tokens=tokens, now=timezone.now(), **kwargs)

    def post(self, request):
        if "revoke" in request.POST:
            token = get_object_or_404(ApiToken, user=request.user,
                                      pk=request.POST.get("token_id") or 0)
            api_token_revoke(token=token, actor=request.user, firm=self.firm)
            messages.success(request, _("Jeton %(key)s… révoqué.") % {"key": token.token_key})
            return redirect("firms:api_tokens")
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        row, token = api_token_create(user=request.user, actor=request.user, firm=self.firm,
                                      **form.cleaned_data)
        # Rendered, not redirected: the token must not travel through the session or a URL.
        response = self.render_to_response(self.get_context_data(new_token=token, new_row=row))
        response["Cache-Control"] = "no-store"
        return response


class AttentionView(FirmMixin, TemplateView):
    """*À traiter*: what needs fixing across the firm's companies, by site or collaborateur."""

    template_name = "firms/attention.html"

    def get_context_data(self, **kwargs):
        form = AttentionFilterForm(self.request.GET or None, firm=self.firm)
        if form.is_bound and not form.is_valid():
            rows = []  # a filter naming another firm's site or user shows nothing
        else:
            filters = form.cleaned_data if form.is_bound else {}
            scope = attention_scope(firm=self.firm, site=filters.get("site"),
                                    collaborateur=filters.get("collaborateur"))
            rows = attention_rows(scope, kind=filters.get("kind"))
            if not any(filters.values()):  # the whole board: the navigation's badge too
                self.request._meg_attention_total = len(rows)
        return super().get_context_data(form=form, total=len(rows),
                                        page=paginate(self.request, rows), **kwargs)
