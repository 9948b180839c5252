"""What Libeo stores: company accounts, their users and API keys, invoices received, payments."""

import datetime
import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

FREE_PLAN_MONTHLY_PAYMENTS = 5
API_KEY_PREFIX_CHARS = 12

siren_format = RegexValidator(r"^\d{9}$", "Un SIREN comporte 9 chiffres.")


def new_payment_id():
    return f"pay_{secrets.token_hex(8)}"


def secret_digest(secret):
    """How API keys and exchange codes are stored: their SHA-256, never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Plan(models.TextChoices):
    FREE = "free", "Gratuit"
    PARTNERSHIPS = "partnerships", "Partnerships"


class Company(models.Model):
    """A company's Libeo account. Libeo opens one account per SIREN; a test may open another
    one beside it (``POST /_sandbox/companies`` with ``another_account``: the company's second
    account, with its own ``account_id``, keys, invoices and payments)."""

    class Origin(models.TextChoices):
        SEED = "seed", "données de démonstration"
        MEG = "meg", "créé depuis MEG"
        CONTROL = "control", "créé par un test"

    siren = models.CharField("SIREN", max_length=9, db_index=True, validators=[siren_format])
    name = models.CharField("raison sociale", max_length=200)
    plan = models.CharField("abonnement", max_length=20, choices=Plan.choices,
                            default=Plan.FREE)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self):
        return f"{self.name} ({self.siren})"

    @property
    def account_id(self):
        """The Libeo account's identifier (``/me``): a company re-created after a reset is
        another account, with another id."""
        return f"acc_{self.pk:06d}"

    @property
    def payments_limit(self):
        """Payments allowed per calendar month; None when unlimited."""
        return FREE_PLAN_MONTHLY_PAYMENTS if self.plan == Plan.FREE else None


class Membership(models.Model):
    """A Libeo user of a company account. Both plans include 1 user and 1 accountant access."""

    class Role(models.TextChoices):
        OWNER = "owner", "utilisateur principal"
        ACCOUNTANT = "accountant", "expert-comptable"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="libeo_memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-role", "created_at"]  # the owner first, then the accountant
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="one_membership_per_user"),
            models.UniqueConstraint(fields=["company", "role"], name="one_user_per_role"),
        ]

    def __str__(self):
        return f"{self.user} → {self.company} ({self.role})"


class ApiKey(models.Model):
    """A key a company gives to MEG; only its digest and first characters are kept."""

    class Origin(models.TextChoices):
        SEED = "seed", "clé de démonstration"
        PAGE = "page", "Configuration → Intégrations"
        MEG = "meg", "connexion depuis MEG"
        CONTROL = "control", "créée par un test"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=API_KEY_PREFIX_CHARS)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.prefix}… ({self.company})"


class ExchangeCode(models.Model):
    """The one-time code Libeo hands to MEG's browser redirect; MEG trades it for an API key."""

    digest = models.CharField(max_length=64, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="exchange_codes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"code for {self.company} ({'used' if self.used_at else 'unused'})"


class Invoice(models.Model):
    """A supplier invoice MEG sent (upserted) to pay it; its external id is MEG's."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invoices")
    external_id = models.CharField(max_length=100)
    supplier_name = models.CharField("fournisseur", max_length=200)
    supplier_iban = models.CharField("IBAN", max_length=34)
    number = models.CharField("numéro", max_length=60)
    issue_date = models.DateField("date d'émission")
    due_date = models.DateField("échéance")
    amount_excl_tax = models.DecimalField("HT", max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField("TVA", max_digits=12, decimal_places=2)
    amount_incl_tax = models.DecimalField("TTC", max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField("état chez MEG", max_length=40)
    # How many times MEG sent it (1 at creation, +1 on every later PUT, identical or not).
    versions = models.PositiveIntegerField(default=0)
    last_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "external_id"],
                                    name="one_invoice_per_external_id"),
            models.CheckConstraint(
                condition=Q(amount_incl_tax=models.F("amount_excl_tax") + models.F("vat_amount")),
                name="incl_tax_is_excl_plus_vat"),
        ]

    def __str__(self):
        return f"{self.number} ({self.external_id})"


class InvoiceVersion(models.Model):
    """Each body MEG sent for an invoice, in order: the history of re-sends."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    body = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "version"]
        constraints = [models.UniqueConstraint(fields=["invoice", "version"],
                                               name="one_body_per_version")]

    def __str__(self):
        return f"{self.invoice} v{self.version}"


class Payment(models.Model):
    """A payment ordered by MEG, with the idempotency key and the answer it got (replayed)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Programmé"
        PAID = "paid", "Payé"
        FAILED = "failed", "Échoué"
        CANCELLED = "cancelled", "Annulé"

    # What no longer commits the invoice's money nor counts against the plan.
    RELEASED = (Status.FAILED, Status.CANCELLED)

    id = models.CharField(primary_key=True, max_length=40, default=new_payment_id)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="payments")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField("montant", max_digits=12, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    execution_date = models.DateField("date d'exécution")
    status = models.CharField(max_length=20, choices=Status.choices)
    # When the money left (a paid payment), and why a payment did not go (failed, cancelled).
    executed_at = models.DateTimeField("exécuté le", null=True, blank=True)
    failure_reason = models.CharField("raison", max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=255)
    # SHA-256 of the normalised request: the same key with another body is refused.
    request_fingerprint = models.CharField(max_length=64)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The guard of idempotency: two concurrent requests with one key cannot both insert.
            models.UniqueConstraint(fields=["company", "idempotency_key"],
                                    name="one_payment_per_idempotency_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["company", "created_at"])]

    def __str__(self):
        return f"{self.id} {self.amount} ({self.status})"

    def state_at(self, now, *, pay_after_seconds=None):
        """``(status, executed_at)`` at ``now``: a scheduled payment is paid by itself at the
        start of its execution date (Paris), or ``pay_after_seconds`` after it was made when
        that is sooner (the sandbox's fast mode); the bank's verdicts set through the test
        controls are stored and win."""
        if self.status != self.Status.SCHEDULED:
            return self.status, self.executed_at
        due = self.due_at(pay_after_seconds=pay_after_seconds)
        if due <= now:
            return self.Status.PAID, due
        return self.status, None

    def due_at(self, *, pay_after_seconds=None):
        """When a scheduled payment leaves by itself."""
        day_starts = timezone.make_aware(
            datetime.datetime.combine(self.execution_date, datetime.time()))
        due = max(day_starts, self.created_at)
        if pay_after_seconds is not None:
            due = min(due, self.created_at + datetime.timedelta(seconds=pay_after_seconds))
        return due
