from django.urls import path

from . import views

app_name = "purchases"
base = "entreprise/<int:company_id>/achats/"

urlpatterns = [
    path(base, views.PurchasesView.as_view(), name="home"),
    path(f"{base}nouvelle/", views.InvoiceCreateView.as_view(), name="create"),
    path(f"{base}options/", views.OptionsView.as_view(), name="options"),
    path(f"{base}libeo/connecter/", views.LibeoConnectView.as_view(), name="libeo_connect"),
    path(f"{base}libeo/retour/", views.LibeoReturnView.as_view(), name="libeo_return"),
    path(f"{base}<int:invoice_id>/", views.InvoiceView.as_view(), name="invoice"),
    path(f"{base}<int:invoice_id>/payer/", views.PayView.as_view(), name="pay"),
    path(f"{base}<int:invoice_id>/paiement/", views.PaymentStateView.as_view(),
         name="payment_state"),
]
