from django.urls import path, register_converter

from . import views
from .module_pages import PlaceholderModuleConverter

register_converter(PlaceholderModuleConverter, "placeholder_module")

app_name = "companies"

urlpatterns = [
    # Firm dashboard
    path("cabinet/entreprises/", views.CompanyListView.as_view(), name="list"),
    path("cabinet/entreprises/nouvelle/", views.CompanyCreateView.as_view(), name="create"),
    path("cabinet/entreprises/<int:company_id>/", views.CompanyDetailView.as_view(),
         name="detail"),
    path("cabinet/entreprises/<int:company_id>/modifier/", views.CompanyEditView.as_view(),
         name="edit"),
    path("cabinet/entreprises/<int:company_id>/etat/", views.CompanyStateView.as_view(),
         name="state"),
    path("cabinet/entreprises/<int:company_id>/utilisateurs/",
         views.CompanyUsersActionView.as_view(), name="users_action"),
    path("cabinet/entreprises/<int:company_id>/comptables/",
         views.CompanyAccountantsView.as_view(), name="accountants"),
    path("cabinet/entreprises/<int:company_id>/licences/", views.CompanyLicenceView.as_view(),
         name="licences"),
    # The link of an invitation e-mail: the invited person accepts or declines.
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    # Company space
    path("entreprise/<int:company_id>/", views.CompanySpaceView.as_view(), name="space"),
    path("entreprise/<int:company_id>/parametres/modules/", views.ModuleSettingsView.as_view(),
         name="module_settings"),
    path("entreprise/<int:company_id>/parametres/utilisateurs/",
         views.CompanyUserAccessListView.as_view(), name="user_access_list"),
    path("entreprise/<int:company_id>/parametres/utilisateurs/<int:user_id>/",
         views.UserModuleAccessView.as_view(), name="user_access"),
    # Only modules without a page of their own (see companies.module_pages).
    path("entreprise/<int:company_id>/<placeholder_module:module_code>/",
         views.ModuleView.as_view(), name="module"),
]
