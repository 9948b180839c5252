"""What ProGBat stores: accounts (one per SIREN), who may open them, invoices, outgoing webhooks."""

import secrets
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

CENT = Decimal("0.01")
DEFAULT_CUSTOMER_ACCOUNT = "411000"
DEFAULT_REVENUE_ACCOUNT = "706000"
DEFAULT_REVENUE_ACCOUNT_LABEL = "Prestations de services"
DEFAULT_VAT_ACCOUNT = "445720"

account_number = RegexValidator(r"^\d{3,12}$", "Un numéro de compte comporte de 3 à 12 chiffres.")


def round_money(amount):
    """Half-up to the cent, the rounding of French invoices."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def new_account_id():
    return f"acc_{secrets.token_hex(8)}"


def new_invoice_id():
    return f"inv_{secrets.token_hex(8)}"


def new_webhook_id():
    return f"msg_{uuid.uuid4()}"


class Plan(models.TextChoices):
    FREE = "free", "Gratuit"
    START_PLUS = "start_plus", "Start +"
    PREMIUM = "premium", "Premium"


class LicenceStatus(models.TextChoices):
    TRIAL = "trial", "Essai"
    LICENSED = "licensed", "Licence active"
    FREE = "free", "Version gratuite"


class Account(models.Model):
    """A company's ProGBat account; ProGBat knows one account per SIREN."""

    id = models.CharField(primary_key=True, max_length=40, default=new_account_id)
    siren = models.CharField("SIREN", max_length=9, unique=True,
                             validators=[RegexValidator(r"^\d{9}$")])
    siret = models.CharField("SIRET", max_length=14, blank=True)
    name = models.CharField("raison sociale", max_length=200)
    address = models.JSONField("adresse", blank=True, null=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    licence_status = models.CharField(max_length=20, choices=LicenceStatus.choices,
                                      default=LicenceStatus.FREE)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    # Accounting settings, applied when an invoice is validated (never retroactively).
    customer_account = models.CharField("compte clients", max_length=12,
                                        default=DEFAULT_CUSTOMER_ACCOUNT,
                                        validators=[account_number])
    revenue_account = models.CharField("compte de produits", max_length=12,
                                       default=DEFAULT_REVENUE_ACCOUNT,
                                       validators=[account_number])
    revenue_account_label = models.CharField("libellé du compte de produits", max_length=100,
                                             default=DEFAULT_REVENUE_ACCOUNT_LABEL)
    vat_account = models.CharField("compte de TVA collectée", max_length=12,
                                   default=DEFAULT_VAT_ACCOUNT, validators=[account_number])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(licence_status="trial", trial_ends_at__isnull=False)
                | ~Q(licence_status="trial"),
                name="trial_has_an_end",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.siren})"


class AccountAccess(models.Model):
    """A ProGBat user's access to an account, with their role in that company."""

    class Role(models.TextChoices):
        DIRIGEANT = "dirigeant", "dirigeant"
        EXPERT_COMPTABLE = "expert_comptable", "expert-comptable"
        COLLABORATEUR = "collaborateur", "collaborateur"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="progbat_accesses")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="one_access_per_user"),
            # ProGBat's rule, unlike MEG's: a dirigeant runs one company only.
            models.UniqueConstraint(fields=["user"], condition=Q(role="dirigeant"),
                                    name="one_account_per_dirigeant"),
        ]

    def __str__(self):
        return f"{self.user} → {self.account_id} ({self.role})"


class SsoTicket(models.Model):
    """A one-time login link MEG hands to a browser to open an account as one of its users."""

    token = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"SSO {self.user} → {self.account_id}"


class Invoice(models.Model):
    """A sales invoice: a draft until validated; validating produces its accounting entry."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        VALIDATED = "validated", "Validée"

    id = models.CharField(primary_key=True, max_length=40, default=new_invoice_id)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField("numéro", max_length=40)
    date = models.DateField("date")
    customer_name = models.CharField("client", max_length=200)
    customer_account = models.CharField("compte client", max_length=20, validators=[
        RegexValidator(r"^[0-9A-Za-z]+$", "Lettres et chiffres seulement, sans espace.")])
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # 0 for a draft, 1 at validation, +1 at each later edit (each one sends a new entry).
    version = models.PositiveIntegerField(default=0)
    validated_at = models.DateTimeField(null=True, blank=True)
    # Set when MEG exported the entry: from then on the invoice refuses every edit.
    export_id = models.CharField(max_length=100, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", version=0, validated_at__isnull=True)
                | Q(status="validated", version__gte=1, validated_at__isnull=False),
                name="version_follows_validation",
            ),
        ]

    def __str__(self):
        return f"{self.number} ({self.id})"

    @property
    def is_locked(self):
        return self.locked_at is not None

    @property
    def last_delivery(self):
        """The latest webhook about this invoice (from prefetched rows when there are some)."""
        deliveries = list(self.deliveries.all())
        return deliveries[-1] if deliveries else None

    @property
    def total_excl_tax(self):
        return sum((line.amount_excl_tax for line in self.lines.all()), Decimal("0.00"))

    @property
    def total_vat(self):
        return sum((line.vat_amount for line in self.lines.all()), Decimal("0.00"))

    @property
    def total_incl_tax(self):
        return self.total_excl_tax + self.total_vat


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    label = models.CharField("désignation", max_length=200)
    amount_excl_tax = models.DecimalField("montant HT", max_digits=12, decimal_places=2,
                                          validators=[MinValueValidator(CENT)])
    vat_rate = models.DecimalField("taux de TVA (%)", max_digits=5, decimal_places=2,
                                   validators=[MinValueValidator(0), MaxValueValidator(100)])

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.label

    @property
    def vat_amount(self):
        return round_money(self.amount_excl_tax * self.vat_rate / 100)


class WebhookDelivery(models.Model):
    """One event for MEG, written with the change it reports and delivered until MEG answers.

    The body is frozen when the event happens (the entry reflects the settings in force at
    validation); its id is the ``webhook-id`` header, the same on every retry.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        DELIVERED = "delivered", "Reçu par MEG"
        REJECTED = "rejected", "Refusé par MEG"
        FAILED = "failed", "Abandonné"

    id = models.CharField(primary_key=True, max_length=60, default=new_webhook_id)
    type = models.CharField(max_length=40)
    # Account events (``account.licence_changed``) have no invoice and version 0.
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="deliveries",
                                null=True, blank=True)
    version = models.PositiveIntegerField()
    body = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.type} {self.invoice_id} v{self.version} ({self.status})"


class RefreshTokenUse(models.Model):
    """One refresh-token grant request, counted so tests can see how often MEG refreshed."""

    succeeded = models.BooleanField()
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"refresh {'ok' if self.succeeded else 'refused'} at {self.at}"
