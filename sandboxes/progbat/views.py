"""ProGBat's own pages: login, the user's accounts, an account (settings, invoices), back-office.

Just enough of the partner's interface for a person, or a browser test, to see whose account
MEG opened, set up its accounting, validate invoices and meet the lock on exported ones.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import (
    AccountingSettingsForm,
    InvoiceForm,
    InvoiceLineFormSet,
    LicenceForm,
    invoice_lines,
)
from .models import Account, LicenceStatus


class LoginPage(LoginView):
    template_name = "progbat/login.html"


@login_required
def home(request):
    return render(request, "progbat/home.html", {
        "accesses": selectors.accesses_for(request.user).order_by("account__name"),
        "is_distributeur": selectors.is_distributeur(request.user),
    })


def _account_page(request, access, *, settings_form=None, invoice_form=None, lines=None,
                  status=200):
    account = access.account
    if settings_form is None:
        settings_form = AccountingSettingsForm(instance=account)
    if invoice_form is None:
        invoice_form = InvoiceForm(prefix="invoice")
    if lines is None:
        lines = InvoiceLineFormSet(prefix="lines", initial=[{"vat_rate": "20.00"}])
    return render(request, "progbat/account.html", {
        "access": access,
        "account": account,
        "invoices": account.invoices.prefetch_related("lines", "deliveries"),
        "settings_form": settings_form,
        "invoice_form": invoice_form,
        "lines": lines,
    }, status=status)


@login_required
def account_page(request, account_id):
    return _account_page(request, selectors.get_access_for(request.user, account_id))


@login_required
@require_POST
def account_settings(request, account_id):
    access = selectors.get_access_for(request.user, account_id)
    form = AccountingSettingsForm(request.POST)
    if not form.is_valid():
        return _account_page(request, access, settings_form=form, status=400)
    services.account_update_settings(account=access.account, **form.cleaned_data)
    messages.success(request, "Paramétrage comptable enregistré. Il s'applique aux factures "
                              "validées à partir de maintenant.")
    return redirect("account", account_id=account_id)


@login_required
@require_POST
def invoice_create(request, account_id):
    access = selectors.get_access_for(request.user, account_id)
    form = InvoiceForm(request.POST, prefix="invoice")
    lines = InvoiceLineFormSet(request.POST, prefix="lines")
    if not (form.is_valid() and lines.is_valid()):
        return _account_page(request, access, invoice_form=form, lines=lines, status=400)
    invoice = services.invoice_create(account=access.account, lines=invoice_lines(lines),
                                      **form.cleaned_data)
    messages.success(request, f"Facture {invoice.number} créée (brouillon).")
    return redirect("account", account_id=account_id)


def _invoice_for(request, account_id, invoice_id):
    access = selectors.get_access_for(request.user, account_id)
    return access, selectors.get_account_invoice(access.account, invoice_id)


@login_required
@require_POST
def invoice_validate(request, account_id, invoice_id):
    _, invoice = _invoice_for(request, account_id, invoice_id)
    try:
        services.invoice_validate(invoice=invoice)
    except services.Refused as refusal:
        messages.error(request, refusal.detail)
    else:
        messages.success(request, f"Facture {invoice.number} validée : l'écriture part vers MEG.")
    return redirect("account", account_id=account_id)


@login_required
def invoice_edit(request, account_id, invoice_id):
    """Edit an invoice; once MEG exported it, the page says so and ProGBat refuses the edit."""
    access, invoice = _invoice_for(request, account_id, invoice_id)
    error, status = None, 200
    if request.method == "POST":
        form = InvoiceForm(request.POST, prefix="invoice")
        lines = InvoiceLineFormSet(request.POST, prefix="lines")
        if form.is_valid() and lines.is_valid():
            try:
                invoice = services.invoice_update(invoice=invoice, lines=invoice_lines(lines),
                                                  **form.cleaned_data)
            except services.Refused as refusal:
                error, status = refusal.detail, 409
            else:
                messages.success(request, f"Facture {invoice.number} modifiée.")
                return redirect("account", account_id=account_id)
        else:
            status = 400
    else:
        form = InvoiceForm(instance=invoice, prefix="invoice")
        lines = InvoiceLineFormSet(prefix="lines", initial=[
            {"label": line.label, "amount_excl_tax": line.amount_excl_tax,
             "vat_rate": f"{line.vat_rate:.2f}"} for line in invoice.lines.all()])
    return render(request, "progbat/invoice_edit.html", {
        "access": access, "account": access.account, "invoice": invoice, "form": form,
        "lines": lines, "error": error, "locked_notice": services.INVOICE_LOCKED,
    }, status=status)


def _require_distributeur(user):
    if not selectors.is_distributeur(user):
        raise PermissionDenied("Le back-office est réservé aux distributeurs ProGBat.")


@login_required
def backoffice(request):
    _require_distributeur(request.user)
    return render(request, "progbat/backoffice.html", {
        "accounts": selectors.accounts_all(),
        "unlicensed": (LicenceStatus.FREE, LicenceStatus.TRIAL),
        "licence_form": LicenceForm(),
    })


@login_required
@require_POST
def backoffice_licence(request, account_id):
    _require_distributeur(request.user)
    account = get_object_or_404(Account, pk=account_id)
    form = LicenceForm(request.POST)
    if form.is_valid():
        services.account_assign_licence(account=account, plan=form.cleaned_data["plan"])
        messages.success(request, f"Licence {account.get_plan_display()} attribuée à "
                                  f"{account.name}.")
    else:
        messages.error(request, "Choisissez une licence Start + ou Premium.")
    return redirect("backoffice")


def sso_redeem(request, token):
    """Open the account of a one-time link as its user: the way MEG sends people to ProGBat."""
    try:
        ticket = services.sso_ticket_redeem(token=token)
    except services.Refused as refusal:
        status = 404 if refusal.code == "sso_not_found" else 410
        return render(request, "progbat/sso_invalid.html", {"detail": refusal.detail},
                      status=status)
    login(request, ticket.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("account", account_id=ticket.account_id)
