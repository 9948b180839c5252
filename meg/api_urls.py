from django.urls import path
from rest_framework.routers import DefaultRouter

from accounting import api as accounting_api
from companies.api import CompanyViewSet
from purchases import api as purchases_api

router = DefaultRouter()
router.register("companies", CompanyViewSet, basename="company")

company = "companies/<int:company_id>/"
urlpatterns = [
    *router.urls,
    path("exports/batch/", accounting_api.BatchExportListView.as_view(), name="batch-exports"),
    path("exports/batch/<int:batch_id>/", accounting_api.BatchExportDetailView.as_view(),
         name="batch-export"),
    path("exports/batch/<int:batch_id>/file", accounting_api.BatchExportFileView.as_view(),
         name="batch-export-file"),
    path(f"{company}journals/", accounting_api.JournalListView.as_view(), name="journals"),
    path(f"{company}journals/<int:journal_id>/", accounting_api.JournalDetailView.as_view(),
         name="journal"),
    path(f"{company}fiscal-years/", accounting_api.FiscalYearListView.as_view(),
         name="fiscal-years"),
    path(f"{company}fiscal-years/<str:end>/close", accounting_api.FiscalYearCloseView.as_view(),
         name="fiscal-year-close"),
    path(f"{company}entries/", accounting_api.EntryListView.as_view(), name="entries"),
    path(f"{company}exports/", accounting_api.ExportListView.as_view(), name="exports"),
    path(f"{company}exports/<int:export_id>/", accounting_api.ExportDetailView.as_view(),
         name="export"),
    path(f"{company}exports/<int:export_id>/file", accounting_api.ExportFileView.as_view(),
         name="export-file"),
    path(f"{company}payments/", purchases_api.PaymentListView.as_view(), name="payments"),
]
