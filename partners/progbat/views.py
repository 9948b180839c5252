"""ProGBat pages: the user's OAuth connection, and the module in the company space."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from accounting.models import Entry
from companies.models import CompanyMembership
from companies.selectors import user_can_use_module
from meg.lean import machine_endpoint
from meg.views import CompanyMixin, FirmMixin
from partners.common.exceptions import PartnerError

from . import resend, services, webhooks
from .consent import CONSENT_TEXT, CONSENT_VERSION
from .forms import CredentialsForm
from .models import ProgbatLink
from .services.linking import active_consent

logger = logging.getLogger(__name__)
SESSION_KEY = "progbat_oauth"


def redirect_uri(request):
    return settings.PROGBAT_REDIRECT_URI or request.build_absolute_uri(
        reverse("progbat:oauth_callback"))


class ConnectView(FirmMixin, View):
    """*Connexion*: send the user to ProGBat's login page, with state and PKCE."""

    def post(self, request):
        authorization = services.connection_start(redirect_uri=redirect_uri(request))
        request.session[SESSION_KEY] = {"state": authorization.state,
                                        "verifier": authorization.code_verifier,
                                        "redirect_uri": redirect_uri(request)}
        return redirect(authorization.url)


class CallbackView(FirmMixin, View):
    """ProGBat sends the user back here with a code and the state we gave."""

    def get(self, request):
        pending = request.session.pop(SESSION_KEY, None)
        state = request.GET.get("state", "")
        if not pending or not state or not constant_time_compare(state, pending["state"]):
            return HttpResponseBadRequest(_("Demande de connexion ProGBat inconnue ou expirée : "
                                            "recommencez depuis Connexions partenaires."))
        target = redirect("firms:partner_connections")
        if request.GET.get("error"):
            messages.warning(request, _("Connexion ProGBat annulée."))
            return target
        try:
            services.connection_complete(user=request.user, code=request.GET.get("code", ""),
                                         redirect_uri=pending["redirect_uri"],
                                         code_verifier=pending["verifier"])
        except PartnerError as error:
            logger.warning("ProGBat code exchange failed: %s", type(error).__name__)
            messages.error(request, _("La connexion à ProGBat a échoué : réessayez. Si le "
                                      "problème persiste, ProGBat est peut-être indisponible."))
            return target
        messages.success(request, _("Votre compte MEG est connecté à votre compte ProGBat."))
        return target


class DisconnectView(FirmMixin, View):
    def post(self, request):
        services.connection_disconnect(user=request.user)
        messages.success(request, _("Votre compte ProGBat est déconnecté."))
        return redirect("firms:partner_connections")


class ModuleView(CompanyMixin, TemplateView):
    """The ProGBat module of the company space: consent, credentials, state, and "Ouvrir"."""

    template_name = "partners/progbat/module.html"

    def load_objects(self):
        if not user_can_use_module(self.request.user, self.company, "progbat"):
            raise PermissionDenied
        self.link = ProgbatLink.objects.filter(company=self.company).first()
        if self.link is None:
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        consent = active_consent(self.company)
        is_dirigeant = CompanyMembership.objects.filter(
            company=self.company, user=self.request.user,
            role=CompanyMembership.Role.DIRIGEANT).exists()
        return super().get_context_data(
            link=self.link, consent=consent, consent_text=CONSENT_TEXT,
            consent_version=CONSENT_VERSION, is_dirigeant=is_dirigeant,
            credentials_form=kwargs.pop("credentials_form", None) or CredentialsForm(),
            module_name="ProGBat", **kwargs)

    def post(self, request, company_id):
        action = request.POST.get("action")
        try:
            if action == "consent":
                services.progbat_consent_give(company=self.company, user=request.user)
                self._link()
            elif action == "retry":
                self._link()
            elif action == "withdraw":
                services.progbat_consent_withdraw(company=self.company, user=request.user)
                messages.success(request, _("Consentement retiré : la liaison ProGBat est "
                                            "suspendue."))
            elif action == "credentials":
                form = CredentialsForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(credentials_form=form),
                                                   status=400)
                try:
                    services.progbat_link_credentials(company=self.company, actor=request.user,
                                                      **form.cleaned_data)
                except ValidationError as error:
                    form.add_error(None, error)
                    return self.render_to_response(
                        self.get_context_data(credentials_form=form), status=400)
                messages.success(request, _("Compte ProGBat lié à « %(name)s ».")
                                 % {"name": self.company.name})
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("progbat:module", company_id=company_id)

    def _link(self):
        link = services.progbat_link_company(company=self.company, actor=self.request.user)
        if link.status == ProgbatLink.Status.ERROR:
            messages.error(self.request, link.error_detail)
        elif link.is_active:
            messages.success(self.request, _("La liaison ProGBat est active."))


class OpenView(ModuleView):
    """Opens ProGBat (in the new tab the form targets) through a one-time SSO URL."""

    def post(self, request, company_id):
        try:
            url = services.progbat_open(company=self.company, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("progbat:module", company_id=company_id)
        return redirect(url)

    def get(self, request, company_id):
        return redirect("progbat:module", company_id=company_id)


@machine_endpoint  # no session, user or tenancy middleware: see meg.lean
@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    """``POST /partners/progbat/webhooks/``: signed by ProGBat, never by a browser session."""

    http_method_names = ["post"]

    def post(self, request):
        answer = webhooks.receive(request.body, request.headers)
        return JsonResponse(answer.body, status=answer.status)


class EntryResendView(CompanyMixin, View):
    """« Demander la mise à jour à ProGBat » on a draft entry (firm users managing the company)."""

    manage = True

    def load_objects(self):
        # Only the company's own ProGBat entries: anything else is not found.
        self.entry = get_object_or_404(Entry, pk=self.kwargs["entry_id"], company=self.company,
                                       journal__source="progbat")

    def post(self, request, company_id, entry_id):
        try:
            resend.progbat_entry_resend(entry=self.entry, actor=request.user)
        except resend.ResendRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _(
                "Mise à jour demandée à ProGBat : la nouvelle version remplacera ce brouillon "
                "dès sa réception."))
        return redirect("accounting:export_space", company_id=self.company.pk)
