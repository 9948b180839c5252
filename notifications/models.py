"""What MEG tells a person (in the app, and by e-mail as they choose): one row per fact, never
two for the same fact (``fact_key``), each kind with the person's own preference."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    TRIAL_ENDING = "trial_ending", _("Fin d'essai ProGBat proche")
    CONNECTION_EXPIRED = "connection_expired", _("Connexion partenaire expirée")
    LINK_ERROR = "link_error", _("Liaison ProGBat en erreur")
    PAYMENT_FAILED = "payment_failed", _("Paiement en échec")
    EVENTS_REJECTED = "events_rejected", _("Événements partenaires refusés")
    CLOSING_REMINDER = "closing_reminder", _("Rappel de clôture d'exercice")
    INTEGRITY_FAILED = "integrity_failed", _("Anomalie d'inaltérabilité des journaux")


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", _("Immédiatement")
    DIGEST = "digest", _("Résumé quotidien")
    OFF = "off", _("Jamais (seulement dans MEG)")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications", verbose_name=_("destinataire"))
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    # One notification per fact and person, however often the fact is noticed (the J-3 reminder
    # of a trial and the J-14 one are two facts; the same failure seen twice is one).
    fact_key = models.CharField(_("fait"), max_length=200)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"), blank=True)
    url = models.CharField(_("lien"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("envoyée par e-mail le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "fact_key"],
                                               name="one_notification_per_fact")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.title


class Preference(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences",
                             verbose_name=_("utilisateur"))
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    mode = models.CharField(_("envoi par e-mail"), max_length=10, choices=Mode.choices,
                            default=Mode.IMMEDIATE)

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")
        constraints = [models.UniqueConstraint(fields=["user", "kind"],
                                               name="one_preference_per_kind")]

    def __str__(self):
        return f"{self.user} — {self.get_kind_display()} : {self.get_mode_display()}"
