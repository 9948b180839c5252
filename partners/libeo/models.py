"""MEG's state of each company's Libeo account (DESIGN §6)."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.models import TimeStampedModel
from partners.common.crypto import EncryptedTextField


class LibeoConnection(TimeStampedModel):
    """The company's Libeo API key (encrypted) and what ``/me`` said of the account."""

    class Source(models.TextChoices):
        API_KEY = "api_key", _("Clé d'API collée")
        MEG_CONNECT = "meg_connect", _("Compte créé avec « Me connecter avec MEG »")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.OneToOneField("companies.Company", on_delete=models.CASCADE,
                                   related_name="libeo_connection",
                                   verbose_name=_("entreprise"))
    api_key = EncryptedTextField(_("clé d'API (chiffrée)"))
    key_last4 = models.CharField(_("fin de la clé"), max_length=4)
    source = models.CharField(_("origine"), max_length=20, choices=Source.choices)
    libeo_company_name = models.CharField(_("entreprise chez Libeo"), max_length=200)
    libeo_siren = models.CharField(_("SIREN chez Libeo"), max_length=9)
    # ``/me``'s ``account_id``: what MEG sent is remembered per Libeo account, so that a key of
    # another account re-sends an invoice before paying it there. Empty: not known yet.
    account_id = models.CharField(_("compte Libeo"), max_length=100, blank=True)
    plan = models.CharField(_("offre"), max_length=20)
    users = models.JSONField(_("utilisateurs Libeo"), default=list)
    payments_this_month = models.PositiveIntegerField(_("paiements ce mois-ci"), default=0)
    payments_limit = models.PositiveIntegerField(_("limite mensuelle"), null=True, blank=True)
    checked_at = models.DateTimeField(_("vérifiée le"))
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("connectée par"))
    # The bank account Libeo pays from, credited by the payments journal (DESIGN §7.2).
    bank_account = models.CharField(
        _("compte de banque"), max_length=10, default="512000",
        validators=[RegexValidator(r"^512[0-9]{3,7}$", _(
            "Un compte de banque du plan comptable : 512 suivi de 3 à 7 chiffres "
            "(ex. 512000)."))])

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("connexion Libeo")
        verbose_name_plural = _("connexions Libeo")

    def __str__(self):
        return f"{self.company} — Libeo ({self.plan})"

    def __repr__(self):
        return f"<LibeoConnection {self.pk} company={self.company_id} ****{self.key_last4}>"

    @property
    def masked_key(self):
        return f"•••• •••• •••• {self.key_last4}"

    @property
    def accountant_emails(self):
        return {u["email"].lower() for u in self.users if u.get("role") == "accountant"}


class LibeoInvoice(models.Model):
    """An invoice MEG has sent to a Libeo account: later edits of it are sent again (never the
    others). One row per (invoice, Libeo account): a key of another account starts from
    nothing there, so the invoice is sent (``PUT``) before its first payment on that account."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey("purchases.SupplierInvoice", on_delete=models.CASCADE,
                                related_name="libeo_sent", verbose_name=_("facture"))
    # The Libeo account (``/me``'s ``account_id``) it was sent to; empty: unknown (sent before
    # MEG tracked accounts), never trusted — the invoice is sent again before a payment.
    account_id = models.CharField(_("compte Libeo"), max_length=100, blank=True)
    sent_version = models.PositiveIntegerField(_("dernière version envoyée"), default=0)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("facture envoyée à Libeo")
        verbose_name_plural = _("factures envoyées à Libeo")
        constraints = [models.UniqueConstraint(fields=["invoice", "account_id"],
                                               name="libeo_invoice_once_per_account")]

    def __str__(self):
        return f"{self.invoice} v{self.sent_version} → {self.account_id or '?'}"


class LibeoPaymentPoll(models.Model):
    """A payment Libeo has scheduled: MEG asks Libeo what became of it (``GET
    /api/v1/payments/{id}``, beat) until it is paid, failed or cancelled — soon after it was
    scheduled, then less and less often, and again soon once its execution date has come.
    The row goes once the payment is settled."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    payment = models.OneToOneField("purchases.Payment", on_delete=models.CASCADE,
                                   related_name="libeo_poll", verbose_name=_("paiement"))
    libeo_payment_id = models.CharField(_("paiement chez Libeo"), max_length=100)
    # The Libeo account the payment was made on, and that account's key (encrypted): after a
    # key of another account, the payment is still asked about where it lives. Cleared when
    # the key is removed from MEG. Empty account: made before MEG tracked accounts.
    account_id = models.CharField(_("compte Libeo"), max_length=100, blank=True)
    account_name = models.CharField(_("entreprise chez Libeo"), max_length=200, blank=True)
    api_key = EncryptedTextField(_("clé d'API du compte (chiffrée)"), blank=True)
    key_last4 = models.CharField(_("fin de la clé"), max_length=4, blank=True)
    # Empty: not followed any more, MEG has no key of the account (``last_error`` says why,
    # and so does the payment); a key of that account pasted again resumes it.
    next_check_at = models.DateTimeField(_("prochaine vérification"), null=True, blank=True)
    # Checks since the payment was scheduled, or since its execution date came: the delay
    # before the next one doubles with each.
    checks = models.PositiveIntegerField(_("vérifications"), default=0)
    # Calls in a row that got no answer (Libeo down, 5xx, 429): retried like the outbox's calls,
    # soon at first, without waiting for the next doubled check.
    failures = models.PositiveSmallIntegerField(_("échecs d'appel consécutifs"), default=0)
    last_checked_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("programmé le"), auto_now_add=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("paiement Libeo à suivre")
        verbose_name_plural = _("paiements Libeo à suivre")
        ordering = ["next_check_at", "id"]
        indexes = [models.Index(fields=["next_check_at"])]

    def __str__(self):
        if self.next_check_at is None:
            return f"{self.libeo_payment_id} (suivi arrêté)"
        return f"{self.libeo_payment_id} (prochaine vérification {self.next_check_at:%d/%m %H:%M})"


class LibeoConnectIntent(models.Model):
    """The company a user was paying for when sent to "Me connecter avec MEG".

    MEG's OpenID provider reads it to tell Libeo which company to create.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} → {self.company}"


class RedeemedAuthorizationCode(models.Model):
    """An authorization code of MEG's OpenID provider, once exchanged for tokens.

    django-oauth-toolkit deletes a code when it is used; this row keeps its digest and what it
    gave, so that the same code presented again revokes those tokens (RFC 6749 §4.1.2).
    """

    code_digest = models.CharField(_("empreinte du code (SHA-256)"), max_length=64, unique=True)
    # Plain ids, not foreign keys: django-oauth-toolkit's models are swappable, and a token
    # deleted since (expired, revoked) simply has nothing left to revoke.
    client_id = models.CharField(_("client OpenID"), max_length=100, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("utilisateur"))
    access_token_id = models.BigIntegerField(_("jeton d'accès délivré (id)"), null=True,
                                             blank=True)
    token_family = models.UUIDField(_("famille des jetons de rafraîchissement"), null=True,
                                    blank=True)
    redeemed_at = models.DateTimeField(_("échangé le"), auto_now_add=True)
    replayed_at = models.DateTimeField(_("représenté le"), null=True, blank=True)

    class Meta:
        verbose_name = _("code d'autorisation échangé")
        verbose_name_plural = _("codes d'autorisation échangés")
        ordering = ["-redeemed_at"]

    def __str__(self):
        return f"{self.client_id} → {self.user} ({self.redeemed_at:%Y-%m-%d %H:%M})"
