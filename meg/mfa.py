"""Multi-factor authentication: who must have it, and the middleware that sends them to set it up.

allauth.mfa does the factors (TOTP, recovery codes, WebAuthn); MEG decides who needs one: every
firm user of a firm that requires it (``Firm.mfa_required``), and the Django admin's staff in
production (``MEG_ENV=production``).
"""

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from firms.selectors import firm_membership_for

# The factors that count as MFA: recovery codes only back the others up.
FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def mfa_requirement_for(user):
    """Why ``user`` must use MFA (``"firm"`` or ``"staff"``), or None when MFA is optional."""
    if not user.is_authenticated:
        return None
    if user.is_staff and settings.PRODUCTION:
        return "staff"
    membership = firm_membership_for(user)
    if membership is not None and membership.firm.mfa_required:
        return "firm"
    return None


def has_mfa(user):
    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTORS).exists()


class MFAPolicyMiddleware:
    """Sends a user who must use MFA and has no factor yet to the TOTP setup page, whatever
    page they ask for, except what setting it up needs: the MFA pages, re-authentication (allauth
    asks for it before adding a factor) and logout.

    Views exempt from CSRF are not browser pages (the REST API, partner webhooks, OAuth token
    endpoints): they are left alone, as are static files.
    """

    ALLOWED_URL_NAMES = {"account_logout", "account_reauthenticate"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if self.is_exempt(request, view_func):
            return None
        reason = mfa_requirement_for(request.user)
        if reason is None or has_mfa(request.user):
            return None
        if reason == "staff":
            text = _("L'administration de MEG exige la double authentification : configurez "
                     "une application d'authentification pour continuer.")
        else:
            text = _("Votre cabinet exige la double authentification : configurez une "
                     "application d'authentification pour continuer.")
        messages.warning(request, text)
        setup_url = reverse("mfa_activate_totp")
        if request.headers.get("HX-Request"):  # htmx would swap the page into a fragment
            response = HttpResponse(status=204)
            response["HX-Redirect"] = setup_url
            return response
        return HttpResponseRedirect(setup_url)

    def is_exempt(self, request, view_func):
        if not request.user.is_authenticated or request.path.startswith(settings.STATIC_URL):
            return True
        if getattr(view_func, "csrf_exempt", False):
            return True
        url_name = getattr(request.resolver_match, "url_name", None) or ""
        return url_name.startswith("mfa_") or url_name in self.ALLOWED_URL_NAMES


class MFAAdapter(DefaultMFAAdapter):
    """allauth.mfa as MEG wants it: a user who must use MFA cannot remove their last factor."""

    def can_delete_authenticator(self, authenticator):
        user = authenticator.user
        if authenticator.type not in FACTORS or mfa_requirement_for(user) is None:
            return True
        others = (Authenticator.objects.filter(user_id=user.pk, type__in=FACTORS)
                  .exclude(pk=authenticator.pk))
        return others.exists()

    def build_totp_svg(self, url):
        # Drawn inline in the page (no data: image for the CSP to allow): no XML prolog.
        svg = super().build_totp_svg(url)
        return svg[svg.index("<svg"):]

    def get_public_key_credential_rp_entity(self):
        return {**super().get_public_key_credential_rp_entity(), "name": "MEG"}
