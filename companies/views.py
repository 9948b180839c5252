"""Company management from the firm dashboard, and the company space with its settings."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from firms.models import FirmMembership
from meg.views import CompanyMixin, FirmMixin, add_service_errors
from users.adapters import AFTER_LOGIN_SESSION_KEY

from . import invitations, selectors, services
from .forms import CompanyCreateForm, CompanyFilterForm, CompanyForm, CompanyUserForm, LicenceForm
from .models import Company, Invitation, Licence, Module

# --- Firm dashboard: /cabinet/entreprises/ -------------------------------------------------


class CompanyListView(FirmMixin, TemplateView):
    template_name = "companies/company_list.html"

    def get_template_names(self):
        if self.request.headers.get("HX-Request") and not self.request.headers.get(
                "HX-Boosted"):
            return ["companies/_company_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        form = CompanyFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        companies = selectors.company_list(firm=self.firm, query=filters.get("q", ""),
                                           state=filters.get("state", ""),
                                           dossier_type=filters.get("dossier_type", ""))
        page = Paginator(companies, 25).get_page(self.request.GET.get("page"))
        return super().get_context_data(form=form, page=page, **kwargs)


class CompanyCreateView(FirmMixin, FormView):
    template_name = "companies/company_form.html"
    form_class = CompanyCreateForm

    def form_valid(self, form):
        try:
            company = services.company_create(firm=self.firm, actor=self.request.user,
                                              base_url=self.request.build_absolute_uri("/"),
                                              **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("L'entreprise « %(name)s » a été créée. Invitation "
                                         "envoyée à %(email)s.")
                         % {"name": company.name, "email": form.cleaned_data["dirigeant_email"]})
        return redirect("companies:detail", company_id=company.pk)


class FirmCompanyMixin(FirmMixin):
    """A company of the user's firm, else 404."""

    def load_objects(self):
        self.company = get_object_or_404(Company.objects.select_related("firm"),
                                         firm=self.firm, pk=self.kwargs["company_id"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(company=self.company, **kwargs)

    def render_detail(self, **forms):
        """Show the company page again, with the invalid form(s) and their errors."""
        view = CompanyDetailView(request=self.request, kwargs=self.kwargs, args=())
        view.membership, view.firm, view.company = self.membership, self.firm, self.company
        return view.render_to_response(view.get_context_data(**forms), status=400)


class CompanyDetailView(FirmCompanyMixin, TemplateView):
    template_name = "companies/company_detail.html"

    def get_context_data(self, **kwargs):
        company = self.company
        accountants = selectors.company_accountants(company=company)
        attachable = (FirmMembership.objects.filter(firm=self.firm).select_related("user")
                      .exclude(user__portfolio__company=company))
        context = {
            "members": selectors.company_members(company=company),
            "invitations": selectors.pending_invitations(firm=self.firm, company=company),
            "accountants": accountants,
            "attachable": attachable,
            "licences": Licence.objects.filter(company=company).select_related("user"),
            "user_form": kwargs.pop("user_form", None) or CompanyUserForm(),
            "licence_form": kwargs.pop("licence_form", None) or LicenceForm(company=company),
        }
        return super().get_context_data(**context, **kwargs)


class CompanyEditView(FirmCompanyMixin, FormView):
    template_name = "companies/company_form.html"
    form_class = CompanyForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Company(pk=self.company.pk,
                                                                 firm=self.company.firm,
                                                                 **{f: getattr(self.company, f)
                                                                    for f in
                                                                    services.COMPANY_FIELDS})}

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in services.COMPANY_FIELDS}
        try:
            services.company_update(company=self.company, actor=self.request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Entreprise enregistrée."))
        return redirect("companies:detail", company_id=self.company.pk)


class CompanyStateView(FirmCompanyMixin, View):
    def post(self, request, company_id):
        state = request.POST.get("state")
        if state not in {Company.State.ACTIVATED, Company.State.INACTIVATED}:
            messages.error(request, _("Action inconnue."))
        else:
            try:
                company = services.company_set_state(company=self.company, actor=request.user,
                                                     state=state)
                messages.success(request, _("« %(name)s » est maintenant %(state)s.")
                                 % {"name": company.name,
                                    "state": company.get_state_display().lower()})
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        return redirect("companies:detail", company_id=company_id)


class CompanyUsersActionView(FirmCompanyMixin, View):
    """Invite a company user, cancel an invitation, make one dirigeant, or remove one."""

    def post(self, request, company_id):
        company = self.company
        action = request.POST.get("action", "add")
        try:
            if action == "add":
                return self._invite()
            if action == "cancel_invitation":
                invitation = get_object_or_404(Invitation, firm=self.firm, company=company,
                                               pk=request.POST.get("invitation_id") or 0)
                invitations.invitation_cancel(invitation=invitation, actor=request.user)
                messages.success(request, _("Invitation de %(email)s annulée.")
                                 % {"email": invitation.email})
                return redirect("companies:detail", company_id=company_id)
            user = selectors.get_company_user(company=company,
                                              user_id=request.POST.get("user_id"))
            if action == "dirigeant":
                services.company_dirigeant_change(company=company, actor=request.user,
                                                  user=user)
                messages.success(request, _("%(email)s est désormais le dirigeant.")
                                 % {"email": user.email})
            elif action == "remove":
                services.company_user_remove(company=company, actor=request.user, user=user)
                messages.success(request, _("Utilisateur retiré."))
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("companies:detail", company_id=company_id)

    def _invite(self):
        """The same answer whether the address has an account or not: an invitation."""
        form = CompanyUserForm(self.request.POST)
        if not form.is_valid():
            return self.render_detail(user_form=form)
        try:
            invitation = invitations.invitation_send(
                firm=self.firm, company=self.company, actor=self.request.user,
                base_url=self.request.build_absolute_uri("/"), **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_detail(user_form=form)
        messages.success(self.request, _("Invitation envoyée à %(email)s.")
                         % {"email": invitation.email})
        return redirect("companies:detail", company_id=self.company.pk)


class CompanyAccountantsView(FirmCompanyMixin, View):
    def post(self, request, company_id):
        membership = get_object_or_404(FirmMembership, firm=self.firm,
                                       user_id=request.POST.get("user_id") or 0)
        service = (services.accountant_detach if request.POST.get("action") == "detach"
                   else services.accountant_attach)
        service(company=self.company, actor=request.user, user=membership.user)
        messages.success(request, _("Comptables rattachés mis à jour."))
        return redirect("companies:detail", company_id=company_id)


class CompanyLicenceView(FirmCompanyMixin, View):
    def post(self, request, company_id):
        form = LicenceForm(request.POST, company=self.company)
        if form.is_valid():
            try:
                services.licence_grant(company=self.company, actor=request.user,
                                       **form.cleaned_data)
                messages.success(request, _("Licence attribuée."))
                return redirect("companies:detail", company_id=company_id)
            except ValidationError as error:
                add_service_errors(form, error)
        return self.render_detail(licence_form=form)


# --- Company space: /entreprise/<id>/ -----------------------------------------------------


class CompanySpaceView(CompanyMixin, TemplateView):
    template_name = "companies/space.html"


class ModuleSettingsView(CompanyMixin, TemplateView):
    """*Paramètres → Modules*: "activer l'accès" per module, then "Enregistrer"."""

    template_name = "companies/module_settings.html"
    manage = True

    def get_context_data(self, **kwargs):
        catalogue = list(selectors.module_catalogue(company=self.company))
        return super().get_context_data(
            has_premium=selectors.has_premium_licence(company=self.company,
                                                      today=timezone.localdate()),
            free_modules=[m for m in catalogue if not m.is_premium],
            premium_modules=[m for m in catalogue if m.is_premium], **kwargs)

    def post(self, request, company_id):
        try:
            changed = services.modules_save(company=self.company, actor=request.user,
                                            enabled_codes=request.POST.getlist("modules"))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return self.render_to_response(self.get_context_data(), status=400)
        if changed:
            messages.success(request, _("Modules enregistrés : %(names)s.")
                             % {"names": ", ".join(m.name for m in changed)})
        else:
            messages.info(request, _("Aucun changement."))
        return redirect("companies:module_settings", company_id=company_id)


class CompanyUserAccessListView(CompanyMixin, TemplateView):
    template_name = "companies/user_access_list.html"
    manage = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            members=selectors.company_members(company=self.company),
            accountants=selectors.company_accountants(company=self.company), **kwargs)


class UserModuleAccessView(CompanyMixin, TemplateView):
    """One user of the company: switch each activated module on/off, mark administrators."""

    template_name = "companies/user_access.html"
    manage = True

    def load_objects(self):
        self.target = selectors.get_company_user(company=self.company,
                                                 user_id=self.kwargs["user_id"])

    def get_context_data(self, **kwargs):
        rows = selectors.module_accesses_for(company=self.company, user=self.target)
        return super().get_context_data(target=self.target, rows=rows, **kwargs)

    def post(self, request, company_id, user_id):
        modules = {m.code: m for m in Module.objects.filter(activations__company=self.company,
                                                            activations__enabled=True)}
        module = modules.get(request.POST.get("module"))
        if module is None:
            raise Http404("Module non activé pour cette entreprise.")
        try:
            services.user_module_access_set(
                company=self.company, actor=request.user, user=self.target, module=module,
                enabled=request.POST.get("enabled") == "on",
                is_admin=request.POST.get("is_admin") == "on")
            messages.success(request, _("Accès de %(email)s enregistré.")
                             % {"email": self.target.email})
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("companies:user_access", company_id=company_id, user_id=user_id)


class ModuleView(CompanyMixin, TemplateView):
    """A module's page in the company space; modules without their own page land here."""

    template_name = "companies/module.html"

    def get_context_data(self, **kwargs):
        module = get_object_or_404(Module, code=self.kwargs["module_code"])
        if not selectors.user_can_use_module(self.request.user, self.company, module.code):
            raise PermissionDenied
        return super().get_context_data(module=module, **kwargs)



# --- Invitations: /invitations/<token>/ ---------------------------------------------------

class InvitationView(LoginRequiredMixin, TemplateView):
    """The invited person accepts or declines. Anyone else gets the 404 of an unknown link."""

    template_name = "companies/invitation.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            # Back here after logging in, even through « Mot de passe oublié » (users.adapters).
            request.session[AFTER_LOGIN_SESSION_KEY] = request.path
            return self.handle_no_permission()
        self.invitation = selectors.invitation_for(user=request.user, token=kwargs["token"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(invitation=self.invitation, **kwargs)

    def post(self, request, token):
        action = request.POST.get("action")
        if action not in {"accept", "decline"}:
            raise Http404
        service = (invitations.invitation_accept if action == "accept"
                   else invitations.invitation_decline)
        try:
            service(invitation=self.invitation, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("companies:invitation", token=token)
        request.session.pop(AFTER_LOGIN_SESSION_KEY, None)
        if action == "decline":
            messages.info(request, _("Invitation refusée."))
            return redirect("home")
        target = self.invitation.company or self.invitation.firm
        messages.success(request, _("Bienvenue : vous avez rejoint « %(name)s ».")
                         % {"name": target.name})
        if self.invitation.company is not None:
            return redirect("companies:space", company_id=self.invitation.company_id)
        return redirect("home")
