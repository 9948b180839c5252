"""The Achats module: supplier invoices, how each is paid (règlement) and its payments.

Payments are provider-agnostic: a provider (see ``purchases.providers``) serves one payment
method, makes the payments asked of it, and reports their outcome through ``payment_settle``.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.models import TimeStampedModel


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
    supplier_iban = models.CharField(_("IBAN du fournisseur"), max_length=34, blank=True)
    number = models.CharField(_("numéro de facture"), max_length=60)
    issue_date = models.DateField(_("date de facture"))
    due_date = models.DateField(_("échéance"))
    amount_excl_tax = models.DecimalField(_("montant HT"), max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(_("TVA"), max_digits=12, decimal_places=2,
                                     default=Decimal("0.00"))
    amount_incl_tax = models.DecimalField(_("montant TTC"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("devise"), max_length=3, default="EUR")
    pdf = models.FileField(_("facture (PDF)"), upload_to="achats/%Y/%m/", blank=True)
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
