"""API routes under ``/api/v1/``: no trailing slash in the contract, one tolerated."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^me/?$", views.Me.as_view()),
    re_path(r"^invoices/(?P<external_id>[^/]+)/?$", views.InvoiceUpsert.as_view()),
    re_path(r"^payments/?$", views.Payments.as_view()),
    re_path(r"^payments/(?P<payment_id>[\w-]+)/?$", views.PaymentDetail.as_view()),
    re_path(r"^meg/connections/exchange/?$", views.ConnectionExchange.as_view()),
]
