"""Firm dashboard (``/cabinet/``) and its *Paramètres* pages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from audit.selectors import audit_events_for
from companies.models import Company
from companies.selectors import company_users_of_firm
from companies.services import accountant_attach, accountant_detach
from meg.extensions import registry
from meg.views import FirmMixin, add_service_errors

from . import services
from .attention import AttentionFilterForm, attention_counts, attention_rows, attention_scope
from .forms import (
    AuditFilterForm,
    ConventionForm,
    FirmUserEditForm,
    FirmUserForm,
    NewsForm,
    SiteForm,
)
from .models import FirmMembership, FirmNews, PartnerConvention, Site
from .selectors import dashboard_figures, firm_users

PAGE_SIZE = 25


def paginate(request, queryset, per_page=PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class DashboardView(FirmMixin, TemplateView):
    template_name = "firms/dashboard.html"

    def get_context_data(self, **kwargs):
        panels = [(panel.template_name, panel.context(self.request, firm=self.firm))
                  for panel in registry.dashboard_panels]
        return super().get_context_data(figures=dashboard_figures(firm=self.firm),
                                        attention=attention_counts(attention_scope(firm=self.firm)),
                                        panels=panels, **kwargs)


class FirmUsersView(FirmMixin, FormView):
    """*Utilisateurs Cabinets*: the list, and (admins) the form to add one."""

    template_name = "firms/firm_users.html"
    form_class = FirmUserForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "firm": self.firm}

    def get_context_data(self, **kwargs):
        return super().get_context_data(page=paginate(self.request, firm_users(firm=self.firm)),
                                        **kwargs)

    def form_valid(self, form):
        if not self.membership.is_admin:
            messages.error(self.request, _("Seul un administrateur du cabinet peut ajouter "
                                           "des utilisateurs."))
            return redirect("firms:users")
        try:
            membership = services.firm_user_create(firm=self.firm, actor=self.request.user,
                                                   **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("%(email)s a été ajouté au cabinet. Il définira son mot "
                                         "de passe via « Mot de passe oublié ».")
                         % {"email": membership.user.email})
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
        attached = (Company.objects.filter(firm=self.firm, accountants__user=self.target)
                    .order_by("name"))
        available = (Company.objects.filter(firm=self.firm)
                     .exclude(accountants__user=self.target).order_by("name").only("id", "name"))
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
        return super().get_context_data(form=form, total=len(rows),
                                        page=paginate(self.request, rows), **kwargs)
