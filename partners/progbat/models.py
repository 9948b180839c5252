"""MEG's state of the ProGBat link of each company (DESIGN §4)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.models import TimeStampedModel


class ProgbatLink(TimeStampedModel):
    """The link between a MEG company and its ProGBat account.

    ``pending_consent`` → (``pending_credentials`` for an existing account) → ``active``; ``error``
    keeps a readable reason and can be retried; ``paused`` while the consent is withdrawn.
    """

    class Status(models.TextChoices):
        PENDING_CONSENT = "pending_consent", _("En attente de consentement")
        PENDING_CREDENTIALS = "pending_credentials", _("En attente des identifiants ProGBat")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Suspendue (consentement retiré)")
        ERROR = "error", _("En erreur")

    class LicenceStatus(models.TextChoices):
        TRIAL = "trial", _("Essai")
        LICENSED = "licensed", _("Licence active")
        FREE = "free", _("Licence à attribuer")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.OneToOneField("companies.Company", on_delete=models.CASCADE,
                                   related_name="progbat_link", verbose_name=_("entreprise"))
    status = models.CharField(_("état"), max_length=30, choices=Status.choices,
                              default=Status.PENDING_CONSENT, db_index=True)
    activated_at = models.DateTimeField(_("activée le"))
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("activée par"))
    consented_at = models.DateTimeField(_("consentement le"), null=True, blank=True)
    consented_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("consentement de"))
    progbat_account_id = models.CharField(_("compte ProGBat"), max_length=64, blank=True,
                                          db_index=True)
    linked_at = models.DateTimeField(_("liée le"), null=True, blank=True)
    plan = models.CharField(_("offre ProGBat"), max_length=30, blank=True)
    licence_status = models.CharField(_("licence ProGBat"), max_length=20,
                                      choices=LicenceStatus.choices, blank=True)
    trial_ends_at = models.DateTimeField(_("fin d'essai"), null=True, blank=True)
    error_code = models.CharField(_("code d'erreur"), max_length=60, blank=True)
    error_detail = models.CharField(_("raison"), max_length=500, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("liaison ProGBat")
        verbose_name_plural = _("liaisons ProGBat")
        constraints = [
            models.UniqueConstraint(fields=["progbat_account_id"],
                                    condition=~models.Q(progbat_account_id=""),
                                    name="progbat_account_linked_once"),
        ]

    def __str__(self):
        return f"{self.company} — {self.get_status_display()}"

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    PLAN_LABELS = {"start_plus": "Start +", "premium": "Premium", "free": _("gratuite")}

    @property
    def plan_label(self):
        return self.PLAN_LABELS.get(self.plan, self.plan)

    @property
    def licence_to_assign(self):
        return self.licence_status == self.LicenceStatus.FREE


class ProgbatUserAccess(models.Model):
    """A MEG user's access created on the company's ProGBat account (created once)."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    link = models.ForeignKey(ProgbatLink, on_delete=models.CASCADE, related_name="accesses",
                             verbose_name=_("liaison"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("utilisateur"))
    role = models.CharField(_("rôle ProGBat"), max_length=30)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("accès ProGBat")
        verbose_name_plural = _("accès ProGBat")
        constraints = [
            models.UniqueConstraint(fields=["link", "user"], name="progbat_access_once"),
        ]

    def __str__(self):
        return f"{self.user} — {self.role}"


class ProgbatBackfill(models.Model):
    """« Importer les factures antérieures »: invoices validated before the link, for a period,
    listed from ProGBat for a preview, then (once confirmed) taken into the journal as their
    webhooks would have been. The link stays non-retroactive by default: only this confirmed
    request takes earlier invoices in, and only those it listed.

    ``items`` holds one row per listed invoice (number, date, customer, amounts, ``verdict``
    ``import`` | ``already`` | ``closed`` | ``invalid``, ``reason``, then ``result`` once
    handled); ``invoices`` the invoice objects as ProGBat gave them (what is imported).
    """

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Aperçu")
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("Import en cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="progbat_backfills", verbose_name=_("entreprise"))
    date_from = models.DateField(_("validées du"))
    date_to = models.DateField(_("validées au"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.PREVIEW)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("demandé par"))
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("confirmé par"))
    confirmed_at = models.DateTimeField(_("confirmé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    items = models.JSONField(_("factures listées"), default=list, blank=True)
    invoices = models.JSONField(_("factures ProGBat"), default=list, blank=True)
    imported = models.PositiveIntegerField(_("importées"), default=0)
    skipped = models.PositiveIntegerField(_("écartées"), default=0)
    error = models.CharField(_("erreur"), max_length=500, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("import de factures antérieures ProGBat")
        verbose_name_plural = _("imports de factures antérieures ProGBat")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(date_from__lte=models.F("date_to")),
                                   name="progbat_backfill_period_coherent"),
        ]

    def __str__(self):
        return f"{self.company} {self.date_from} → {self.date_to} ({self.get_status_display()})"
