from django.urls import path

from . import views

app_name = "firms"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("parametres/sites/", views.SitesView.as_view(), name="sites"),
    path("parametres/utilisateurs/", views.FirmUsersView.as_view(), name="users"),
    path("parametres/utilisateurs/<int:membership_id>/", views.FirmUserDetailView.as_view(),
         name="user_detail"),
    path("parametres/utilisateurs-entreprises/", views.CompanyUsersView.as_view(),
         name="company_users"),
    path("parametres/actualites/", views.NewsView.as_view(), name="news"),
    path("parametres/connexions-partenaires/", views.PartnerConnectionsView.as_view(),
         name="partner_connections"),
    path("parametres/securite/", views.SecurityView.as_view(), name="security"),
    path("parametres/jetons-api/", views.ApiTokensView.as_view(), name="api_tokens"),
    path("a-traiter/", views.AttentionView.as_view(), name="attention"),
    path("journal-activite/", views.AuditView.as_view(), name="audit"),
]
