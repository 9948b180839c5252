"""MEG's OpenID provider under ``/o/``: only what "Me connecter avec MEG" uses.

Listed one by one rather than including ``oauth2_provider.urls``, which would also publish the
application management pages (any logged-in user could register a client), the authorized
tokens pages, the device flow and dynamic client registration. Clients are created in the
Django admin or with ``manage.py oidc_client``. The namespace stays ``oauth2_provider``:
django-oauth-toolkit reverses its URLs by it (discovery document, redirects).
"""

from django.urls import path, re_path
from oauth2_provider import views as oauth_views

from .oidc_views import ConsentView, ResourceServerIntrospectionView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", ConsentView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", ResourceServerIntrospectionView.as_view(), name="introspect"),
    path("userinfo/", oauth_views.UserInfoView.as_view(), name="user-info"),
    path(".well-known/jwks.json", oauth_views.JwksInfoView.as_view(), name="jwks-info"),
    # The same pattern as django-oauth-toolkit's: the trailing slash is tolerated.
    re_path(r"^\.well-known/openid-configuration/?$",
            oauth_views.ConnectDiscoveryInfoView.as_view(), name="oidc-connect-discovery-info"),
]
