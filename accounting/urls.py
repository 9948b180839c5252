from django.urls import path

from . import batch_views, views

app_name = "accounting"

urlpatterns = [
    path("entreprise/<int:company_id>/export-ecritures/", views.ExportSpaceView.as_view(),
         name="export_space"),
    path("entreprise/<int:company_id>/export-ecritures/exports/<int:export_id>/",
         views.ExportStatusView.as_view(), name="export_status"),
    path("entreprise/<int:company_id>/export-ecritures/exports/<int:export_id>/fichier/",
         views.ExportFileView.as_view(), name="export_file"),
    path("entreprise/<int:company_id>/export-ecritures/ecritures/<int:entry_id>/piece.pdf",
         views.EntryDocumentView.as_view(), name="entry_document"),
    path("entreprise/<int:company_id>/export-ecritures/journaux/<int:journal_id>/",
         views.JournalEditView.as_view(), name="journal_edit"),
    path("entreprise/<int:company_id>/export-ecritures/exercices/<str:end>/cloturer/",
         views.FiscalYearCloseView.as_view(), name="fiscal_year_close"),
    path("cabinet/exports-mensuels/", batch_views.BatchExportsView.as_view(),
         name="batch_exports"),
    path("cabinet/exports-mensuels/<int:batch_id>/", batch_views.BatchExportStatusView.as_view(),
         name="batch_export_status"),
    path("cabinet/exports-mensuels/<int:batch_id>/fichier/",
         batch_views.BatchExportFileView.as_view(), name="batch_export_file"),
    path("cabinet/evenements-partenaires/", views.PartnerEventsView.as_view(),
         name="partner_events"),
]
