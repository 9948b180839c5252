from django.urls import path

from . import backfill_views, views

app_name = "progbat"

urlpatterns = [
    path("partners/progbat/oauth/connect/", views.ConnectView.as_view(), name="oauth_connect"),
    path("partners/progbat/oauth/callback/", views.CallbackView.as_view(),
         name="oauth_callback"),
    path("partners/progbat/oauth/disconnect/", views.DisconnectView.as_view(),
         name="oauth_disconnect"),
    path("partners/progbat/webhooks/", views.WebhookView.as_view(), name="webhooks"),
    path("entreprise/<int:company_id>/progbat/", views.ModuleView.as_view(), name="module"),
    path("entreprise/<int:company_id>/progbat/ouvrir/", views.OpenView.as_view(), name="open"),
    path("entreprise/<int:company_id>/progbat/ecritures/<int:entry_id>/mise-a-jour/",
         views.EntryResendView.as_view(), name="entry_resend"),
    path("entreprise/<int:company_id>/progbat/factures-anterieures/",
         backfill_views.BackfillView.as_view(), name="backfill"),
    path("entreprise/<int:company_id>/progbat/factures-anterieures/<int:backfill_id>/",
         backfill_views.BackfillDetailView.as_view(), name="backfill_detail"),
]
