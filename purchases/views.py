"""The Achats module in the company space: invoices, règlements, "Payer", and Options."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from companies.selectors import is_module_admin, user_can_use_module
from meg.views import CompanyMixin, add_service_errors
from partners.libeo import services as libeo

from . import selectors, services
from .forms import LibeoKeyForm, PurchaseFilterForm, SupplierInvoiceForm
from .models import SupplierInvoice

MODULE = "achats"


class AchatsMixin(CompanyMixin):
    def load_objects(self):
        if not user_can_use_module(self.request.user, self.company, MODULE):
            raise PermissionDenied
        self.is_admin = is_module_admin(self.request.user, self.company, MODULE)

    def get_context_data(self, **kwargs):
        return super().get_context_data(is_achats_admin=self.is_admin, **kwargs)


class InvoiceMixin(AchatsMixin):
    def load_objects(self):
        super().load_objects()
        self.invoice = get_object_or_404(SupplierInvoice, company=self.company,
                                         pk=self.kwargs["invoice_id"])


class PurchasesView(AchatsMixin, TemplateView):
    """Invoices, or with ``?onglet=reglements`` the *Règlements* tab."""

    template_name = "purchases/list.html"

    def get_context_data(self, **kwargs):
        form = PurchaseFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        invoices = selectors.invoices_for(company=self.company, query=filters.get("q", ""),
                                          payment_method=filters.get("payment_method", ""),
                                          status=filters.get("status", ""))
        return super().get_context_data(
            form=form, tab=self.request.GET.get("onglet", "factures"),
            page=Paginator(invoices, 25).get_page(self.request.GET.get("page")), **kwargs)


class InvoiceCreateView(AchatsMixin, TemplateView):
    template_name = "purchases/invoice_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(form=kwargs.pop("form", None) or SupplierInvoiceForm(),
                                        **kwargs)

    def post(self, request, company_id):
        form = SupplierInvoiceForm(request.POST, request.FILES)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                invoice = services.invoice_create(company=self.company, actor=request.user,
                                                  **fields)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Facture enregistrée."))
                return redirect("purchases:invoice", company_id=company_id,
                                invoice_id=invoice.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InvoiceView(InvoiceMixin, TemplateView):
    """One invoice: its details, its edit form, its payment state and "Payer"."""

    template_name = "purchases/invoice.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            invoice=self.invoice, form=kwargs.pop("form", None)
            or SupplierInvoiceForm(instance=self.invoice),
            payment=services.live_payment(self.invoice) or self.invoice.payments.first(),
            can_pay=services.can_pay(self.request.user, self.invoice), **kwargs)

    def post(self, request, company_id, invoice_id):
        form = SupplierInvoiceForm(request.POST, request.FILES, instance=SupplierInvoice.objects
                                   .get(pk=self.invoice.pk))
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                services.invoice_update(invoice=self.invoice, actor=request.user, **fields)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Facture modifiée."))
                return redirect("purchases:invoice", company_id=company_id,
                                invoice_id=invoice_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PaymentStateView(InvoiceMixin, TemplateView):
    """The payment cell, polled by htmx until the payment settles."""

    template_name = "purchases/_payment_state.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            invoice=self.invoice,
            payment=services.live_payment(self.invoice) or self.invoice.payments.first(),
            can_pay=services.can_pay(self.request.user, self.invoice), **kwargs)


class PayView(InvoiceMixin, View):
    def post(self, request, company_id, invoice_id):
        try:
            services.invoice_pay(invoice=self.invoice, actor=request.user)
        except services.ConnectionNeeded:
            connect = (f"{reverse('purchases:libeo_connect', args=[company_id])}"
                       f"?{urlencode({'facture': invoice_id})}")
            if request.headers.get("HX-Request"):
                # A whole-page step: htmx must navigate, not swap the page into the cell.
                return HttpResponse(status=204, headers={"HX-Redirect": connect})
            return redirect(connect)
        except ValidationError as error:
            if request.headers.get("HX-Request"):  # shown in the payment box itself
                return render(request, "purchases/_payment_state.html", {
                    "company": self.company, "invoice": self.invoice,
                    "payment": services.live_payment(self.invoice)
                    or self.invoice.payments.first(),
                    "can_pay": services.can_pay(request.user, self.invoice),
                    "pay_error": " ".join(error.messages)})
            messages.error(request, " ".join(error.messages))
        if request.headers.get("HX-Request"):
            return redirect(reverse("purchases:payment_state", args=[company_id, invoice_id]))
        return redirect(reverse("purchases:invoice", args=[company_id, invoice_id]))


class OptionsView(AchatsMixin, TemplateView):
    """*Achats → ⚙ → Options*: the Libeo API key, for Achats administrators only."""

    template_name = "purchases/options.html"

    def load_objects(self):
        super().load_objects()
        if not self.is_admin:
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            connection=libeo.libeo_refresh(company=self.company),
            form=kwargs.pop("form", None) or LibeoKeyForm(), **kwargs)

    def post(self, request, company_id):
        if "remove" in request.POST:
            libeo.libeo_key_remove(company=self.company, actor=request.user)
            messages.success(request, _("La clé Libeo a été retirée."))
            return redirect("purchases:options", company_id=company_id)
        form = LibeoKeyForm(request.POST)
        if form.is_valid():
            try:
                libeo.libeo_key_set(company=self.company, actor=request.user,
                                    api_key=form.cleaned_data["api_key"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("La connexion avec Libeo est établie."))
                return redirect("purchases:options", company_id=company_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LibeoConnectView(AchatsMixin, TemplateView):
    """The page shown by "Payer" when Libeo is not connected: « Me connecter avec MEG »."""

    template_name = "purchases/libeo_connect.html"

    def invoice(self):
        invoice_id = self.request.GET.get("facture") or self.request.POST.get("facture")
        if not invoice_id:
            return None
        return get_object_or_404(SupplierInvoice, company=self.company, pk=invoice_id)

    def get_context_data(self, **kwargs):
        return super().get_context_data(invoice=self.invoice(), **kwargs)

    def post(self, request, company_id):
        invoice = self.invoice()
        if not self.is_admin:
            messages.error(request, _("Seul un administrateur du module Achats peut connecter "
                                      "Libeo."))
            return redirect("purchases:home", company_id=company_id)
        libeo.libeo_connect_start(company=self.company, actor=request.user, invoice=invoice)
        back = reverse("purchases:libeo_return", args=[company_id])
        if invoice is not None:
            back += f"?{urlencode({'facture': invoice.pk})}"
        return redirect(libeo.client.connect_url(request.build_absolute_uri(back)))


class LibeoReturnView(AchatsMixin, View):
    """Back from Libeo with a one-time code: the key is fetched, then back to the invoice."""

    def get(self, request, company_id):
        invoice_id = request.GET.get("facture")
        target = (reverse("purchases:invoice", args=[company_id, invoice_id]) if invoice_id
                  else reverse("purchases:home", args=[company_id]))
        try:
            libeo.libeo_connect_complete(company=self.company, actor=request.user,
                                         code=request.GET.get("code", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(target)
        messages.success(request, _("Votre compte Libeo est connecté à MEG. Vous pouvez payer "
                                    "la facture."))
        return redirect(target)
