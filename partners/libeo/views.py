"""Libeo's pages in the Achats module: the API key (*Achats → ⚙ → Options*), « Me connecter
avec MEG », and the return from Libeo with a one-time code."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from meg.views import add_service_errors
from purchases.models import SupplierInvoice
from purchases.views import AchatsMixin

from . import client, services
from .forms import LibeoBankAccountForm, LibeoKeyForm


def own_invoice(company, invoice_id):
    """The company's invoice named by ``?facture=`` (digits), or None: a return URL is not
    trusted to name anything else."""
    if not (invoice_id.isascii() and invoice_id.isdigit() and len(invoice_id) <= 18):
        return None  # 18 digits: within PostgreSQL's bigint
    return SupplierInvoice.objects.filter(company=company, pk=int(invoice_id)).first()


class OptionsView(AchatsMixin, TemplateView):
    """*Achats → ⚙ → Options*: the Libeo API key, for Achats administrators only."""

    template_name = "libeo/options.html"

    def load_objects(self):
        super().load_objects()
        if not self.is_admin:
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        connection = services.libeo_refresh(company=self.company)
        bank_form = kwargs.pop("bank_form", None) or (connection and LibeoBankAccountForm(
            initial={"bank_account": connection.bank_account}))
        return super().get_context_data(
            connection=connection, bank_form=bank_form,
            form=kwargs.pop("form", None) or LibeoKeyForm(), **kwargs)

    def post(self, request, company_id):
        if "bank_account" in request.POST:
            return self.post_bank_account(request, company_id)
        if "remove" in request.POST:
            services.libeo_key_remove(company=self.company, actor=request.user)
            messages.success(request, _("La clé Libeo a été retirée."))
            return redirect("libeo:options", company_id=company_id)
        form = LibeoKeyForm(request.POST)
        if form.is_valid():
            try:
                services.libeo_key_set(company=self.company, actor=request.user,
                                       api_key=form.cleaned_data["api_key"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("La connexion avec Libeo est établie."))
                return redirect("libeo:options", company_id=company_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


    def post_bank_account(self, request, company_id):
        form = LibeoBankAccountForm(request.POST)
        if form.is_valid():
            try:
                services.libeo_bank_account_set(company=self.company, actor=request.user,
                                                bank_account=form.cleaned_data["bank_account"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Le compte de banque est enregistré."))
                return redirect("libeo:options", company_id=company_id)
        return self.render_to_response(self.get_context_data(bank_form=form), status=400)


class ConnectView(AchatsMixin, TemplateView):
    """The page shown by "Payer" when Libeo is not connected: « Me connecter avec MEG »."""

    template_name = "libeo/connect.html"

    def invoice(self):
        invoice_id = self.request.GET.get("facture") or self.request.POST.get("facture")
        if not invoice_id:
            return None
        invoice = own_invoice(self.company, invoice_id)
        if invoice is None:
            raise Http404
        return invoice

    def get_context_data(self, **kwargs):
        return super().get_context_data(invoice=self.invoice(), **kwargs)

    def post(self, request, company_id):
        invoice = self.invoice()
        if not self.is_admin:
            messages.error(request, _("Seul un administrateur du module Achats peut connecter "
                                      "Libeo."))
            return redirect("purchases:home", company_id=company_id)
        services.libeo_connect_start(company=self.company, actor=request.user)
        back = reverse("libeo:return", args=[company_id])
        if invoice is not None:
            back += f"?{urlencode({'facture': invoice.pk})}"
        return redirect(client.connect_url(request.build_absolute_uri(back)))


class ReturnView(AchatsMixin, View):
    """Back from Libeo with a one-time code: the key is fetched, then back to the invoice."""

    def get(self, request, company_id):
        invoice = own_invoice(self.company, request.GET.get("facture", ""))
        target = (reverse("purchases:invoice", args=[company_id, invoice.pk]) if invoice
                  else reverse("purchases:home", args=[company_id]))
        try:
            services.libeo_connect_complete(company=self.company, actor=request.user,
                                            code=request.GET.get("code", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(target)
        messages.success(request, _("Votre compte Libeo est connecté à MEG. Vous pouvez payer "
                                    "la facture."))
        return redirect(target)
