"""API endpoints: validate the body, call one service or selector, answer JSON."""

import itertools

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from rest_framework.response import Response
from rest_framework.views import APIView

from sandboxes.common.errors import json_error

from .. import control, documents, selectors, services
from ..formats import iso_utc
from . import serializers as shapes


class Accounts(APIView):
    def get(self, request):
        siren = shapes.validated(shapes.SirenQuery, request.query_params)["siren"]
        accounts = selectors.accounts_search(siren=siren)
        return Response({"results": [shapes.account_data(account) for account in accounts]})

    def post(self, request):
        account = services.account_create(**shapes.validated(shapes.AccountCreate, request.data))
        return Response(shapes.account_data(account), status=201)


class AccountDetail(APIView):
    def get(self, request, account_id):
        return Response(shapes.account_data(selectors.get_account(account_id)))


class AccountLink(APIView):
    """The proof that whoever links MEG to an existing account knows one of its logins."""

    def post(self, request, account_id):
        credentials = shapes.validated(shapes.Credentials, request.data)
        account = selectors.account_check_credentials(
            account=selectors.get_account(account_id), **credentials)
        return Response(shapes.account_data(account))


class AccountUsers(APIView):
    def post(self, request, account_id):
        grant = shapes.validated(shapes.AccessGrant, request.data)
        access, created = services.account_grant_access(
            account=selectors.get_account(account_id), **grant)
        return Response({"email": access.user.email, "role": access.role, "created": created},
                        status=201 if created else 200)


class AccountLicence(APIView):
    def post(self, request, account_id):
        plan = shapes.validated(shapes.Licence, request.data)["plan"]
        account = services.account_assign_licence(account=selectors.get_account(account_id),
                                                  plan=plan)
        return Response(shapes.account_data(account))


class AccountSso(APIView):
    def post(self, request, account_id):
        email = shapes.validated(shapes.SsoRequest, request.data)["email"]
        ticket = services.sso_ticket_issue(account=selectors.get_account(account_id), email=email)
        url = request.build_absolute_uri(reverse("sso", args=[ticket.token]))
        return Response({"url": url, "expires_at": iso_utc(ticket.expires_at)})


class AccountSettings(APIView):
    def get(self, request, account_id):
        return Response(shapes.settings_data(selectors.get_account(account_id)))

    def put(self, request, account_id):
        new_settings = shapes.validated(shapes.AccountingSettings, request.data)
        account = services.account_update_settings(account=selectors.get_account(account_id),
                                                   **new_settings)
        return Response(shapes.settings_data(account))


class AccountInvoices(APIView):
    def get(self, request, account_id):
        account = selectors.get_account(account_id)
        invoices = account.invoices.prefetch_related("lines")
        return Response({"results": [shapes.invoice_data(invoice) for invoice in invoices]})

    def post(self, request, account_id):
        data = shapes.validated(shapes.InvoiceCreate, request.data)
        invoice = services.invoice_create(
            account=selectors.get_account(account_id), number=data["number"],
            date=data["date"], customer_name=data["customer"]["name"],
            customer_account=data["customer"]["account"], lines=data["lines"])
        return Response(shapes.invoice_data(invoice), status=201)


class Invoices(APIView):
    """``GET /api/v1/invoices?account_id=…&validated_from=…&validated_to=…&cursor=…``: the
    account's validated invoices, each as in a webhook's ``data.invoice`` (current version)."""

    def get(self, request):
        query = shapes.validated(shapes.InvoicesQuery, request.query_params)
        account = selectors.get_account(query["account_id"])
        size = control.invoices_page_size()
        invoices = selectors.invoices_validated(
            account=account, validated_from=query["validated_from"],
            validated_to=query["validated_to"], after=query.get("after"), limit=size + 1)
        page, more = invoices[:size], len(invoices) > size
        return Response({"results": selectors.webhook_invoices(page),
                         "next_cursor": shapes.cursor_encode(page[-1]) if more else None})


class InvoiceDetail(APIView):
    def get(self, request, invoice_id):
        return Response(shapes.invoice_data(selectors.get_invoice(invoice_id)))

    def patch(self, request, invoice_id):
        changes = shapes.invoice_changes(shapes.validated(shapes.InvoicePatch, request.data))
        invoice = services.invoice_update(invoice=selectors.get_invoice(invoice_id), **changes)
        return Response(shapes.invoice_data(invoice))


class InvoiceValidate(APIView):
    def post(self, request, invoice_id):
        invoice = services.invoice_validate(invoice=selectors.get_invoice(invoice_id))
        return Response(shapes.invoice_data(invoice))


class InvoiceResend(APIView):
    def post(self, request, invoice_id):
        invoice = services.invoice_resend(invoice=selectors.get_invoice(invoice_id))
        return Response({"id": invoice.id, "version": invoice.version, "status": "queued"},
                        status=202)


class InvoiceLock(APIView):
    def post(self, request, invoice_id):
        export_id = shapes.validated(shapes.LockRequest, request.data)["export_id"]
        invoice = services.invoice_lock(invoice=selectors.get_invoice(invoice_id),
                                        export_id=export_id)
        return Response({"id": invoice.id, "locked": True, "export_id": invoice.export_id})


class InvoicesLock(APIView):
    """``POST /api/v1/invoices/lock`` ``{export_id, invoice_ids}`` (at most 1,000): one call
    for a batch of MEG's export, idempotent."""

    def post(self, request):
        data = shapes.validated(shapes.LockBatchRequest, request.data)
        return Response(services.invoices_lock(invoice_ids=data["invoice_ids"],
                                               export_id=data["export_id"]))


class InvoiceDocument(APIView):
    """``GET /api/v1/invoices/{id}/document``: the invoice's PDF (the *pièce*)."""

    def get(self, request, invoice_id):
        invoice = selectors.get_invoice(invoice_id)
        if invoice.status != invoice.Status.VALIDATED:
            return json_error("invoice_not_validated",
                              "Une facture brouillon n'a pas encore de document.", 409)
        fault = documents.current_fault()
        if fault == "500":
            return json_error("server_error", "Panne simulée du document.", 500)
        if fault == "not_pdf":
            return HttpResponse(f"<html><body>Facture {invoice.number}</body></html>",
                                content_type="application/pdf")
        if fault == "too_big":
            pdf = documents.invoice_pdf(invoice)
            padding = documents.TOO_BIG_BYTES - len(pdf)
            chunk = b"%" + b"0" * 65535 + b"\n"
            return StreamingHttpResponse(
                itertools.chain([pdf], itertools.repeat(chunk, padding // len(chunk) + 1)),
                content_type="application/pdf")
        response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response
