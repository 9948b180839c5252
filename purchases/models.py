"""The Achats module: supplier invoices, how each is paid (règlement) and its payments.

Payments are provider-agnostic: a provider (see ``purchases.providers``) serves one payment
method, makes the payments asked of it, and reports their outcome through ``payment_settle``.
"""

import re
import unicodedata
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.models import TimeStampedModel
from meg.storage import documents


def invoice_document_name(invoice, filename):
    """A name nobody can guess (the file is served only by the invoice's document view)."""
    return f"achats/{invoice.company_id}/{uuid.uuid4().hex}.pdf"

# What a supplier invoice may be booked to (DESIGN §7.2): an expense (60 to 67, but not 603
# "variation des stocks" nor 609 "rabais obtenus") or a fixed asset (20 to 23); whether the
# company's chart has it is accounting's to say, when the invoice is booked.
expense_account_validator = RegexValidator(
    r"^(?:60(?![39])|6[1-7]|2[0-3])[0-9]{1,18}$",
    _("Compte de charges (60 à 67, hors 603 et 609) ou d'immobilisation (20 à 23) attendu, "
      "par exemple 607000 ou 218300."))
aux_account_validator = RegexValidator(
    r"^[A-Z0-9]{2,17}$", _("De 2 à 17 lettres majuscules ou chiffres (ex. FMATERIAUX)."))
DEFAULT_EXPENSE_ACCOUNT = "607000"
AUX_CODE_LENGTH = 10


def aux_code_from_name(name):
    """``Matériaux Rhône`` → ``FMATERIAUX``: "F", then the name's letters and digits, without
    accents, upper-case, 10 characters in all."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    letters = re.sub(r"[^A-Z0-9]", "", ascii_name.upper())
    return ("F" + (letters or "OURN"))[:AUX_CODE_LENGTH]


class Supplier(TimeStampedModel):
    """A supplier of the company, with its auxiliary account in the books (CompAuxNum of its
    401 lines) and the account its invoices are booked to by default."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="suppliers", verbose_name=_("entreprise"))
    name = models.CharField(_("nom"), max_length=200)
    aux_account = models.CharField(
        _("compte auxiliaire"), max_length=17, validators=[aux_account_validator],
        help_text=_("Le compte du fournisseur sous le 401 dans les écritures (CompAuxNum)."))
    expense_account = models.CharField(
        _("compte de charge par défaut"), max_length=20, default=DEFAULT_EXPENSE_ACCOUNT,
        validators=[expense_account_validator],
        help_text=_("Proposé pour ses factures ; modifiable facture par facture."))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("fournisseur")
        verbose_name_plural = _("fournisseurs")
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "company", name="supplier_name_once",
                                    violation_error_message=_(
                                        "Ce fournisseur existe déjà dans l'entreprise.")),
            models.UniqueConstraint(fields=["company", "aux_account"],
                                    name="supplier_aux_account_once",
                                    violation_error_message=_(
                                        "Ce compte auxiliaire est déjà celui d'un autre "
                                        "fournisseur de l'entreprise.")),
        ]

    def __str__(self):
        return self.name


class SupplierInvoice(TimeStampedModel):
    class PaymentMethod(models.TextChoices):
        LIBEO = "libeo", _("Virement par Libeo")
        TRANSFER = "transfer", _("Virement manuel")
        CHEQUE = "cheque", _("Chèque")
        DIRECT_DEBIT = "direct_debit", _("Prélèvement")
        CASH = "cash", _("Espèces")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="supplier_invoices", verbose_name=_("entreprise"))
    supplier_name = models.CharField(_("fournisseur"), max_length=200)
    # Set by the services from ``supplier_name``; empty only on rows written around them.
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="invoices", verbose_name=_("fiche fournisseur"))
    expense_account = models.CharField(
        _("compte de charge"), max_length=20, blank=True,
        validators=[expense_account_validator],
        help_text=_("Vide : le compte par défaut du fournisseur (607000 pour un nouveau). "
                    "Une immobilisation (20 à 23) est comptabilisée avec la TVA 44562."))
    supplier_iban = models.CharField(_("IBAN du fournisseur"), max_length=34, blank=True)
    number = models.CharField(_("numéro de facture"), max_length=60)
    issue_date = models.DateField(_("date de facture"))
    due_date = models.DateField(_("échéance"))
    amount_excl_tax = models.DecimalField(_("montant HT"), max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(_("TVA"), max_digits=12, decimal_places=2,
                                     default=Decimal("0.00"))
    amount_incl_tax = models.DecimalField(_("montant TTC"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("devise"), max_length=3, default="EUR")
    pdf = models.FileField(_("facture (PDF)"), upload_to=invoice_document_name,
                           storage=documents, blank=True)
    payment_method = models.CharField(_("mode de règlement"), max_length=20,
                                      choices=PaymentMethod.choices,
                                      default=PaymentMethod.TRANSFER)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("saisie par"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("facture fournisseur")
        verbose_name_plural = _("factures fournisseurs")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "supplier_name", "number"],
                                    name="supplier_invoice_once",
                                    violation_error_message=_(
                                        "Cette facture de ce fournisseur est déjà saisie.")),
            models.CheckConstraint(
                condition=Q(amount_incl_tax=F("amount_excl_tax") + F("vat_amount")),
                name="invoice_incl_tax_is_excl_plus_vat",
                violation_error_message=_("Le TTC doit être égal au HT plus la TVA.")),
            models.CheckConstraint(condition=Q(amount_excl_tax__gte=0, vat_amount__gte=0),
                                   name="invoice_amounts_positive"),
            models.CheckConstraint(condition=Q(due_date__gte=F("issue_date")),
                                   name="invoice_due_after_issue",
                                   violation_error_message=_(
                                       "L'échéance ne peut précéder la date de facture.")),
        ]
        indexes = [models.Index(fields=["company", "due_date"])]

    def __str__(self):
        return f"{self.supplier_name} {self.number}"


class SupplierInvoiceVatLine(models.Model):
    """One VAT rate of an invoice: its base (HT) and its VAT. The invoice's totals are their
    sums (``purchases.services``), so HT + TVA = TTC holds on the invoice as before."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("entreprise"))
    invoice = models.ForeignKey(SupplierInvoice, on_delete=models.CASCADE,
                                related_name="vat_lines", verbose_name=_("facture"))
    rate = models.DecimalField(_("taux (%)"), max_digits=5, decimal_places=2)
    base_amount = models.DecimalField(_("base HT"), max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(_("TVA"), max_digits=12, decimal_places=2)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("ligne de TVA")
        verbose_name_plural = _("lignes de TVA")
        ordering = ["invoice", "-rate"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "rate"], name="vat_line_rate_once",
                                    violation_error_message=_(
                                        "Une seule ligne par taux de TVA.")),
            models.CheckConstraint(condition=Q(base_amount__gte=0, vat_amount__gte=0,
                                               rate__gte=0, rate__lte=100),
                                   name="vat_line_amounts_positive"),
        ]

    def __str__(self):
        return f"{self.rate} % : {self.base_amount} + {self.vat_amount}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("En cours")
    RETRYING = "retrying", _("Nouvel essai")
    SCHEDULED = "scheduled", _("Programmé")
    PAID = "paid", _("Payé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


# Module-level so that ``Payment.Meta`` (which cannot see the class body) builds its constraint
# from the same tuple.
PAYMENT_ALIVE = (PaymentStatus.PENDING, PaymentStatus.RETRYING, PaymentStatus.SCHEDULED,
                 PaymentStatus.PAID)
# A payment that did not go: its invoice is to pay again.
PAYMENT_UNDONE = (PaymentStatus.FAILED, PaymentStatus.CANCELLED)


class Payment(models.Model):
    """One attempt to pay an invoice through a provider; at most one alive per invoice."""

    Status = PaymentStatus
    ALIVE = PAYMENT_ALIVE
    UNDONE = PAYMENT_UNDONE

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="payments", verbose_name=_("entreprise"))
    invoice = models.ForeignKey(SupplierInvoice, on_delete=models.PROTECT,
                                related_name="payments", verbose_name=_("facture"))
    provider = models.CharField(_("prestataire"), max_length=20)  # PaymentProvider.code
    attempt = models.PositiveSmallIntegerField(_("tentative"), default=1)
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=120, unique=True)
    amount = models.DecimalField(_("montant"), max_digits=12, decimal_places=2)
    execution_date = models.DateField(_("date d'exécution"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    provider_payment_id = models.CharField(_("référence chez le prestataire"), max_length=100,
                                           blank=True)
    error_code = models.CharField(_("code d'erreur"), max_length=60, blank=True)
    error_detail = models.CharField(_("raison"), max_length=500, blank=True)
    executed_at = models.DateTimeField(_("argent parti le"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("demandé par"))
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice"],
                                    condition=Q(status__in=[s.value for s in PAYMENT_ALIVE]),
                                    name="one_live_payment_per_invoice"),
            models.UniqueConstraint(fields=["invoice", "attempt"], name="payment_attempt_once"),
        ]

    def __str__(self):
        return f"{self.invoice} — {self.get_status_display()}"

    @property
    def is_alive(self):
        return self.status in self.ALIVE
