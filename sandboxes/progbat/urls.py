"""Routes of the sandbox: OAuth server, JSON API, ProGBat's pages, and the test controls."""

from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from oauth2_provider.views import AuthorizationView, RevokeTokenView

from sandboxes.common.views import page_not_found

from . import control, views
from .oauth import TokenView

urlpatterns = [
    # Exactly the contract's paths (DESIGN §5.1), without a trailing slash.
    path("oauth/authorize", AuthorizationView.as_view(), name="authorize"),
    path("oauth/token", TokenView.as_view(), name="token"),
    path("oauth/revoke", RevokeTokenView.as_view(), name="revoke-token"),
    path("api/v1/", include("sandboxes.progbat.api.urls")),
    path("login", views.LoginPage.as_view(), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    path("sso/<str:token>", views.sso_redeem, name="sso"),
    path("", views.home, name="home"),
    path("accounts/<str:account_id>/", views.account_page, name="account"),
    path("accounts/<str:account_id>/settings/", views.account_settings, name="account-settings"),
    path("accounts/<str:account_id>/invoices/", views.invoice_create, name="invoice-create"),
    path("accounts/<str:account_id>/invoices/<str:invoice_id>/validate/", views.invoice_validate,
         name="invoice-validate"),
    path("accounts/<str:account_id>/invoices/<str:invoice_id>/edit/", views.invoice_edit,
         name="invoice-edit"),
    path("backoffice/", views.backoffice, name="backoffice"),
    path("backoffice/accounts/<str:account_id>/licence/", views.backoffice_licence,
         name="backoffice-licence"),
]

if settings.PROGBAT_SANDBOX_CONTROL:
    urlpatterns.append(path("_sandbox/", include(control.urlpatterns)))

handler404 = page_not_found
