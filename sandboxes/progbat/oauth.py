"""The OAuth2 server MEG connects to: django-oauth-toolkit, with the sandbox's few additions."""

from django.conf import settings
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from .models import RefreshTokenUse


class ExactRedirectUriValidator(OAuth2Validator):
    """Accepts only a redirect URI registered for the client, compared as a whole string.

    DOT lets a loopback redirect URI come with any port (RFC 8252 §7.3, meant for native
    apps); MEG is a web application with one registered callback, so the port counts too.
    """

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri in request.client.redirect_uris.split()


class TokenView(oauth_views.TokenView):
    """DOT's token endpoint, counting refresh requests so tests can see how MEG refreshes."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if request.POST.get("grant_type") == "refresh_token":
            RefreshTokenUse.objects.create(succeeded=response.status_code == 200)
        return response


def meg_application_sync():
    """Register MEG's OAuth client from the environment, the only client the sandbox knows.

    The secret is stored as given: it comes from the environment on every start, and hashing
    it would cost each token request a slow password-hash check.
    """
    application_model = get_application_model()
    application_model.objects.exclude(client_id=settings.PROGBAT_CLIENT_ID).delete()
    application = (application_model.objects.filter(client_id=settings.PROGBAT_CLIENT_ID).first()
                   or application_model(client_id=settings.PROGBAT_CLIENT_ID))
    application.name = "MEG"
    application.client_type = application_model.CLIENT_CONFIDENTIAL
    application.authorization_grant_type = application_model.GRANT_AUTHORIZATION_CODE
    application.redirect_uris = " ".join(settings.PROGBAT_REDIRECT_URIS)
    application.skip_authorization = True  # ProGBat's login page is the only step
    application.hash_client_secret = False
    application.client_secret = settings.PROGBAT_CLIENT_SECRET
    application.full_clean()
    application.save()
    return application
