"""The two OpenID provider pages MEG adapts: the consent screen says exactly what goes out,
and token introspection answers only the resource servers MEG trusts."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.views import AuthorizationView, IntrospectTokenView
from oauthlib.common import Request as OauthlibRequest

from .oidc import COMPANY_SCOPE, MegOIDCValidator, user_claims


def shared_data(user, scopes):
    """``[(label, value or None)]``: what MEG sends for each requested scope, in French."""
    claims = user_claims(user)
    descriptions = get_scopes_backend().get_all_scopes()
    values = {
        "email": claims["email"],
        "profile": claims["name"],
        COMPANY_SCOPE: (f"{claims['meg_company_name']} (SIREN {claims['meg_company_siren']})"
                        if "meg_company_siren" in claims else
                        _("aucune entreprise en cours de connexion : rien ne sera transmis")),
    }
    return [(descriptions[scope], values.get(scope)) for scope in scopes
            if scope in descriptions]


class ConsentView(AuthorizationView):
    """django-oauth-toolkit's authorization endpoint, whose consent screen lists each piece
    of data with its value (the template: oauth2_provider/authorize.html)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "scopes" in context and self.request.user.is_authenticated:
            context["shared"] = shared_data(self.request.user, context["scopes"])
            context["is_libeo"] = (
                context["application"].client_id == settings.LIBEO_OIDC_CLIENT_ID)
        return context


def authenticated_client(request):
    """The confidential client whose credentials (HTTP Basic, or in the body) the request
    carries, or None."""
    core = get_oauthlib_core()
    uri, http_method, body, headers = core._extract_params(request)
    oauth_request = OauthlibRequest(uri, http_method, body, headers)
    if not MegOIDCValidator().authenticate_client(oauth_request):
        return None
    client = oauth_request.client
    return client if client.client_type == client.CLIENT_CONFIDENTIAL else None


@method_decorator(csrf_exempt, name="dispatch")
class ResourceServerIntrospectionView(View):
    """RFC 7662 token introspection, for the clients named in MEG_OIDC_INTROSPECTION_CLIENTS
    only: any other client (or a bearer token, or a user) could otherwise read every token."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        client = authenticated_client(request)
        if client is None:
            response = JsonResponse({"error": "invalid_client"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="MEG"'
            return response
        if client.client_id not in settings.MEG_OIDC_INTROSPECTION_CLIENTS:
            return JsonResponse({"error": "unauthorized_client"}, status=403)
        return IntrospectTokenView.get_token_response(request.POST.get("token"))
