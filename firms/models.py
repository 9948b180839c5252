"""Firms (*cabinets*), their sites, their users and their partner conventions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.models import TimeStampedModel
from meg.validators import validate_siren


class Partner(models.TextChoices):
    """The partners MEG works with; their packages (partners/*) store these codes."""

    PROGBAT = "progbat", "ProGBat"
    LIBEO = "libeo", "Libeo"


class Firm(TimeStampedModel):
    """An accounting firm (*cabinet d'expertise comptable*): the tenant of the firm dashboard."""

    name = models.CharField(_("nom"), max_length=200)
    siren = models.CharField(_("SIREN"), max_length=9, unique=True, validators=[validate_siren])
    mfa_required = models.BooleanField(
        _("MFA obligatoire"), default=False,
        help_text=_("Chaque utilisateur du cabinet doit configurer la double authentification "
                    "avant d'accéder à MEG."))

    class Meta:
        verbose_name = _("cabinet")
        verbose_name_plural = _("cabinets")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(siren__regex=r"^[0-9]{9}$"),
                                   name="firm_siren_nine_digits"),
        ]

    def __str__(self):
        return self.name


class Site(TimeStampedModel):
    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="sites",
                             verbose_name=_("cabinet"))
    name = models.CharField(_("nom"), max_length=200)
    city = models.CharField(_("ville"), max_length=120, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "name"], name="site_name_unique_per_firm"),
        ]

    def __str__(self):
        return self.name


class FirmMembership(TimeStampedModel):
    """A firm user (*collaborateur*): an accountant working for one firm."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrateur")
        COLLABORATEUR = "collaborateur", _("Collaborateur")

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("cabinet"))
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="firm_membership", verbose_name=_("utilisateur"))
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices,
                            default=Role.COLLABORATEUR)
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="memberships", verbose_name=_("site"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("utilisateur cabinet")
        verbose_name_plural = _("utilisateurs cabinet")
        ordering = ["user__last_name", "user__first_name", "user__email"]

    def __str__(self):
        return f"{self.user} — {self.firm} ({self.get_role_display()})"

    @property
    def is_admin(self):
        return self.role == self.Role.ADMIN


class PartnerConvention(TimeStampedModel):
    """A convention signed by the firm with a partner (*prescripteur* or *distributeur*)."""

    # Only ProGBat signs conventions with firms.
    PARTNERS = [Partner.PROGBAT]

    class Kind(models.TextChoices):
        PRESCRIPTEUR = "prescripteur", _("Prescripteur")
        DISTRIBUTEUR = "distributeur", _("Distributeur (revendeur)")

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="conventions",
                             verbose_name=_("cabinet"))
    partner = models.CharField(_("partenaire"), max_length=20,
                               choices=[(p.value, p.label) for p in PARTNERS])

    class TrialPlan(models.TextChoices):
        START_PLUS = "start_plus", "Start +"
        PREMIUM = "premium", "Premium"

    kind = models.CharField(_("type de convention"), max_length=20, choices=Kind.choices)
    signed_at = models.DateField(_("signée le"))
    trial_plan = models.CharField(
        _("offre d'essai"), max_length=20, choices=TrialPlan.choices,
        default=TrialPlan.START_PLUS,
        help_text=_("Prescripteur : offre du mois d'essai des comptes créés depuis MEG."))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("convention partenaire")
        verbose_name_plural = _("conventions partenaires")
        constraints = [
            models.UniqueConstraint(fields=["firm", "partner"],
                                    name="one_convention_per_partner_per_firm"),
        ]

    def __str__(self):
        return f"{self.firm} — {self.get_partner_display()} ({self.get_kind_display()})"


class FirmNews(TimeStampedModel):
    """A piece of news (*actualité cabinet*) the firm publishes to its client companies."""

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="news",
                             verbose_name=_("cabinet"))
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"))
    published = models.BooleanField(_("publiée"), default=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+", verbose_name=_("auteur"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("actualité cabinet")
        verbose_name_plural = _("actualités cabinet")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

