"""API routes under ``/api/v1/``: no trailing slash in the contract, one tolerated."""

from django.urls import re_path

from . import views

ACCOUNT = r"^accounts/(?P<account_id>[\w-]+)"
INVOICE = r"^invoices/(?P<invoice_id>[\w-]+)"

urlpatterns = [
    re_path(r"^accounts/?$", views.Accounts.as_view()),
    re_path(ACCOUNT + r"/?$", views.AccountDetail.as_view()),
    re_path(ACCOUNT + r"/link/?$", views.AccountLink.as_view()),
    re_path(ACCOUNT + r"/users/?$", views.AccountUsers.as_view()),
    re_path(ACCOUNT + r"/licence/?$", views.AccountLicence.as_view()),
    re_path(ACCOUNT + r"/sso/?$", views.AccountSso.as_view()),
    re_path(ACCOUNT + r"/settings/?$", views.AccountSettings.as_view()),
    re_path(ACCOUNT + r"/invoices/?$", views.AccountInvoices.as_view()),
    re_path(r"^invoices/?$", views.Invoices.as_view()),
    # Before the invoice routes: "lock" is not an invoice id.
    re_path(r"^invoices/lock/?$", views.InvoicesLock.as_view()),
    re_path(INVOICE + r"/?$", views.InvoiceDetail.as_view()),
    re_path(INVOICE + r"/validate/?$", views.InvoiceValidate.as_view()),
    re_path(INVOICE + r"/resend/?$", views.InvoiceResend.as_view()),
    re_path(INVOICE + r"/lock/?$", views.InvoiceLock.as_view()),
    re_path(INVOICE + r"/document/?$", views.InvoiceDocument.as_view()),
]
