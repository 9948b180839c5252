from django.urls import path

from . import views

app_name = "purchases"
base = "entreprise/<int:company_id>/achats/"

urlpatterns = [
    path(base, views.PurchasesView.as_view(), name="home"),
    path(f"{base}nouvelle/", views.InvoiceCreateView.as_view(), name="create"),
    path(f"{base}<int:invoice_id>/", views.InvoiceView.as_view(), name="invoice"),
    path(f"{base}<int:invoice_id>/facture.pdf", views.InvoiceDocumentView.as_view(),
         name="document"),
    path(f"{base}<int:invoice_id>/payer/", views.PayView.as_view(), name="pay"),
    path(f"{base}<int:invoice_id>/paiement/", views.PaymentStateView.as_view(),
         name="payment_state"),
    path(f"{base}fournisseurs/", views.SuppliersView.as_view(), name="suppliers"),
    path(f"{base}fournisseurs/<int:supplier_id>/", views.SupplierView.as_view(),
         name="supplier"),
]
