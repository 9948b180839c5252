"""Routes of the sandbox: JSON API, « Me connecter avec MEG », Libeo's pages, test controls."""

from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from sandboxes.common.views import page_not_found

from . import connect, control, views

urlpatterns = [
    path("api/v1/", include("sandboxes.libeo.api.urls")),
    # Exactly the contract's path (DESIGN §6), without a trailing slash.
    path("connect/meg", connect.connect_start, name="connect-meg"),
    path("connect/meg/callback", connect.connect_callback, name="connect-meg-callback"),
    path("connect/meg/compte", connect.connect_account, name="connect-meg-account"),
    path("", views.LoginPage.as_view(), name="login"),
    path("deconnexion", LogoutView.as_view(), name="logout"),
    path("entreprises/", views.companies, name="companies"),
    path("entreprises/<str:siren>/", views.company_page, name="company"),
    path("entreprises/<str:siren>/abonnement/", views.plan_switch, name="plan-switch"),
    path("entreprises/<str:siren>/utilisateurs/", views.users_page, name="users"),
    path("entreprises/<str:siren>/utilisateurs/expert-comptable/retirer/",
         views.accountant_remove, name="accountant-remove"),
    path("configuration/integrations", views.integrations, name="integrations"),
    path("configuration/integrations/meg/se-connecter", views.integrations_meg_connect,
         name="integrations-meg-connect"),
    path("configuration/integrations/cles/<int:key_id>/revoquer", views.api_key_revoke,
         name="api-key-revoke"),
]

if settings.LIBEO_SANDBOX_CONTROL:
    urlpatterns.append(path("_sandbox/", include(control.urlpatterns)))

handler404 = page_not_found
