"""What every partner integration keeps: users' own connections, and consents."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from firms.models import Partner  # partner packages import it from here too
from meg.models import TimeStampedModel

from .crypto import EncryptedTextField


class PartnerConnection(TimeStampedModel):
    """A firm user's own OAuth2 link to their account at a partner (never per firm)."""

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connecté")
        EXPIRED = "expired", _("Expirée")
        REVOKED = "revoked", _("Déconnecté")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="partner_connections", verbose_name=_("utilisateur"))
    partner = models.CharField(_("partenaire"), max_length=20, choices=Partner.choices)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.CONNECTED)
    access_token = EncryptedTextField(_("jeton d'accès (chiffré)"), blank=True)
    refresh_token = EncryptedTextField(_("jeton de rafraîchissement (chiffré)"), blank=True)
    expires_at = models.DateTimeField(_("expiration du jeton d'accès"), null=True, blank=True)
    scope = models.CharField(_("portée"), max_length=200, blank=True)
    connected_at = models.DateTimeField(_("connecté le"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("rafraîchi le"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("connexion partenaire")
        verbose_name_plural = _("connexions partenaires")
        constraints = [
            models.UniqueConstraint(fields=["user", "partner"], name="one_connection_per_partner"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_partner_display()} ({self.get_status_display()})"

    def __repr__(self):  # never the tokens
        return f"<PartnerConnection {self.pk} {self.partner} user={self.user_id} {self.status}>"

    @property
    def is_connected(self):
        return self.status == self.Status.CONNECTED


class Consent(models.Model):
    """A user's consent to share the company's data with a partner, on a given text version."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="consents", verbose_name=_("entreprise"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="consents", verbose_name=_("donné par"))
    partner = models.CharField(_("partenaire"), max_length=20, choices=Partner.choices)
    text_version = models.CharField(_("version du texte"), max_length=40)
    text_sha256 = models.CharField(_("empreinte SHA-256 du texte"), max_length=64)
    given_at = models.DateTimeField(_("donné le"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("retiré le"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("retiré par"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("consentement")
        verbose_name_plural = _("consentements")
        ordering = ["-given_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "partner"],
                                    condition=Q(withdrawn_at__isnull=True),
                                    name="one_active_consent_per_partner"),
        ]

    def __str__(self):
        return f"{self.company} — {self.get_partner_display()} ({self.user})"

    @property
    def is_active(self):
        return self.withdrawn_at is None

    @staticmethod
    def fingerprint(text):
        return hashlib.sha256(text.encode()).hexdigest()


class OutboxMessage(models.Model):
    """A call MEG owes a partner, written in the same transaction as the change that causes it,
    then relayed by Celery with retries (DESIGN §8). The idempotency key is stable across
    retries, so the partner never applies it twice.

    A worker delivering it holds a lease (``sending`` until ``leased_until``), not a row lock:
    if the worker dies mid-call, the message is claimable again once the lease has expired."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENDING = "sending", _("Envoi en cours")
        RETRYING = "retrying", _("Nouvel essai prévu")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec")
        SKIPPED = "skipped", _("Sans objet (supprimé)")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, null=True,
                                blank=True, related_name="+", verbose_name=_("entreprise"))
    partner = models.CharField(_("partenaire"), max_length=20, choices=Partner.choices)
    action = models.CharField(_("action"), max_length=60)
    payload = models.JSONField(_("contenu"), default=dict)
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=120, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("demandé par"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochain essai"), null=True, blank=True)
    leased_until = models.DateTimeField(_("envoi réservé jusqu'à"), null=True, blank=True)
    lease_token = models.CharField(_("jeton de réservation"), max_length=32, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    result = models.JSONField(_("réponse"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("appel sortant")
        verbose_name_plural = _("appels sortants (outbox)")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.action} {self.idempotency_key} ({self.get_status_display()})"


class OutboxAttempt(models.Model):
    """One delivery attempt of an outbox message, kept for good (Saleor's
    ``EventDeliveryAttempt``): support sees when each try ran, how long it took, what the
    partner answered and why it did not go through."""

    class Outcome(models.TextChoices):
        IN_FLIGHT = "", _("En cours")
        SENT = "sent", _("Envoyé")
        RETRY = "retry", _("Nouvel essai prévu")
        FAILED = "failed", _("Échec")
        SKIPPED = "skipped", _("Sans objet (supprimé)")
        # The worker never reported before its lease ran out (killed, or far too slow): the
        # message was claimed again, whatever this attempt did is not its outcome.
        EXPIRED = "expired", _("Interrompu (réservation expirée)")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, null=True,
                                blank=True, related_name="+", verbose_name=_("entreprise"))
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE,
                                related_name="delivery_attempts", verbose_name=_("appel"))
    number = models.PositiveSmallIntegerField(_("n°"))
    started_at = models.DateTimeField(_("commencé le"))
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("durée (ms)"), null=True, blank=True)
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices,
                               default=Outcome.IN_FLIGHT, blank=True)
    status_code = models.PositiveSmallIntegerField(_("code HTTP"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("tentative d'appel sortant")
        verbose_name_plural = _("tentatives d'appels sortants")
        ordering = ["message_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "message", "number"],
                                    name="one_attempt_per_number"),
        ]

    def __str__(self):
        return f"{self.message_id} #{self.number} ({self.get_outcome_display() or '…'})"
