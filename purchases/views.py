"""The Achats module in the company space: invoices, règlements and "Payer". Payment
providers bring their own pages (options, connection), linked from here through the protocol."""


from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from companies.selectors import is_module_admin, user_can_use_module
from meg.views import CompanyMixin, add_service_errors

from . import selectors, services
from .forms import PurchaseFilterForm, SupplierForm, SupplierInvoiceForm
from .models import Supplier, SupplierInvoice
from .providers import payment_provider, payment_providers
from .suppliers import supplier_update

MODULE = "achats"


class AchatsMixin(CompanyMixin):
    def load_objects(self):
        if not user_can_use_module(self.request.user, self.company, MODULE):
            raise PermissionDenied
        self.is_admin = is_module_admin(self.request.user, self.company, MODULE)

    def get_context_data(self, **kwargs):
        return super().get_context_data(is_achats_admin=self.is_admin,
                                        achats_options=self.provider_options(), **kwargs)

    def provider_options(self):
        """``(provider name, url)`` of each provider's options page, for administrators."""
        if not self.is_admin:
            return []
        return [(provider.name, url) for provider in payment_providers()
                if (url := provider.options_url(self.company))]


def payment_box(user, invoice, **extra):
    """The context of the payment box (``_payment_state.html``), wherever it is drawn."""
    payment = services.live_payment(invoice) or invoice.payments.first()
    provider = payment_provider(payment.provider) if payment is not None else None
    return {"invoice": invoice, "payment": payment,
            "can_pay": services.can_pay(user, invoice),
            "provider_name": provider.name if provider else getattr(payment, "provider", ""),
            "paid_outside_meg": services.provider_for(invoice) is None,
            "payable_methods": _(" » ou « ").join(services.payable_methods()), **extra}


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


def invoice_form_context(company):
    """What the invoice form needs besides itself: the known suppliers (a datalist)."""
    return {"suppliers": selectors.suppliers_for(company=company)}


class InvoiceCreateView(AchatsMixin, TemplateView):
    template_name = "purchases/invoice_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(form=kwargs.pop("form", None) or SupplierInvoiceForm(),
                                        **invoice_form_context(self.company), **kwargs)

    def post(self, request, company_id):
        form = SupplierInvoiceForm(request.POST, request.FILES)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                invoice = services.invoice_create(company=self.company, actor=request.user,
                                                  vat_lines=form.vat_lines, **fields)
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
            form=kwargs.pop("form", None) or SupplierInvoiceForm(instance=self.invoice),
            vat_lines=self.invoice.vat_lines.all(), **invoice_form_context(self.company),
            **payment_box(self.request.user, self.invoice), **kwargs)

    def post(self, request, company_id, invoice_id):
        form = SupplierInvoiceForm(request.POST, request.FILES, instance=SupplierInvoice.objects
                                   .get(pk=self.invoice.pk))
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                services.invoice_update(invoice=self.invoice, actor=request.user,
                                        vat_lines=form.vat_lines, **fields)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Facture modifiée."))
                return redirect("purchases:invoice", company_id=company_id,
                                invoice_id=invoice_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InvoiceDocumentView(InvoiceMixin, View):
    """« Voir la facture (PDF) »: the stored PDF, to whoever may open the invoice (the file
    itself has no public address)."""

    def get(self, request, company_id, invoice_id):
        if not self.invoice.pdf:
            raise Http404
        try:
            handle = self.invoice.pdf.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        name = slugify(f"facture {self.invoice.supplier_name} {self.invoice.number}")
        response = FileResponse(handle, content_type="application/pdf",
                                filename=f"{name[:80] or 'facture'}.pdf")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class PaymentStateView(InvoiceMixin, TemplateView):
    """The payment cell, polled by htmx until the payment settles."""

    template_name = "purchases/_payment_state.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**payment_box(self.request.user, self.invoice),
                                        **kwargs)


class PayView(InvoiceMixin, View):
    def post(self, request, company_id, invoice_id):
        try:
            services.invoice_pay(invoice=self.invoice, actor=request.user)
        except services.ConnectionNeeded as needed:
            connect = needed.provider.connect_url(self.company, self.invoice)
            if request.headers.get("HX-Request"):
                # A whole-page step: htmx must navigate, not swap the page into the cell.
                return HttpResponse(status=204, headers={"HX-Redirect": connect})
            return redirect(connect)
        except ValidationError as error:
            if request.headers.get("HX-Request"):  # shown in the payment box itself
                return render(request, "purchases/_payment_state.html", {
                    "company": self.company, **payment_box(
                        request.user, self.invoice, pay_error=" ".join(error.messages))})
            messages.error(request, " ".join(error.messages))
        if request.headers.get("HX-Request"):
            return redirect(reverse("purchases:payment_state", args=[company_id, invoice_id]))
        return redirect(reverse("purchases:invoice", args=[company_id, invoice_id]))


class SuppliersView(AchatsMixin, TemplateView):
    """The company's suppliers, with their auxiliary account and default expense account."""

    template_name = "purchases/suppliers.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab="fournisseurs",
            page=Paginator(selectors.suppliers_for(company=self.company), 50).get_page(
                self.request.GET.get("page")), **kwargs)


class SupplierView(AchatsMixin, TemplateView):
    """One supplier: its accounts, editable by Achats administrators and the company's
    accountants."""

    template_name = "purchases/supplier.html"

    def load_objects(self):
        super().load_objects()
        self.supplier = get_object_or_404(Supplier, company=self.company,
                                          pk=self.kwargs["supplier_id"])
        self.can_edit = self.is_admin or self.can_manage

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab="fournisseurs", supplier=self.supplier, can_edit=self.can_edit,
            form=kwargs.pop("form", None) or SupplierForm(instance=self.supplier),
            invoices=self.supplier.invoices.order_by("-issue_date", "-id")[:20], **kwargs)

    def post(self, request, company_id, supplier_id):
        if not self.can_edit:
            raise PermissionDenied
        form = SupplierForm(request.POST, instance=Supplier.objects.get(pk=self.supplier.pk))
        if form.is_valid():
            try:
                supplier_update(supplier=self.supplier, actor=request.user,
                                aux_account=form.cleaned_data["aux_account"],
                                expense_account=form.cleaned_data["expense_account"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Fournisseur enregistré."))
                return redirect("purchases:supplier", company_id=company_id,
                                supplier_id=supplier_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)
