"""Companies (*entreprises*), their users, the module catalogue, activations and licences."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.models import TimeStampedModel
from meg.validators import normalize_siret, validate_siret


class Company(TimeStampedModel):
    """A client company of a firm, identified by its SIRET."""

    class DossierType(models.TextChoices):
        ENGAGEMENT = "engagement", _("Engagement")
        TRESORERIE = "tresorerie", _("Compta de trésorerie")

    class State(models.TextChoices):
        CREATED = "created", _("Créée")
        ACTIVATED = "activated", _("Activée")
        INACTIVATED = "inactivated", _("Inactivée")

    firm = models.ForeignKey("firms.Firm", on_delete=models.PROTECT, related_name="companies",
                             verbose_name=_("cabinet"))
    name = models.CharField(_("raison sociale"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, validators=[validate_siret],
                             help_text=_("14 chiffres ; le SIREN en est les 9 premiers."))
    dossier_type = models.CharField(_("type de dossier"), max_length=20,
                                    choices=DossierType.choices, default=DossierType.ENGAGEMENT)
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.CREATED, db_index=True)
    address = models.CharField(_("adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    fiscal_year_end_day = models.PositiveSmallIntegerField(_("jour de clôture"), default=31)
    fiscal_year_end_month = models.PositiveSmallIntegerField(_("mois de clôture"), default=12)
    activated_at = models.DateTimeField(_("activée le"), null=True, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("entreprise")
        verbose_name_plural = _("entreprises")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "siret"], name="company_siret_unique_per_firm",
                                    violation_error_message=_(
                                        "Une entreprise de votre cabinet porte déjà ce SIRET.")),
            models.CheckConstraint(condition=Q(siret__regex=r"^[0-9]{14}$"),
                                   name="company_siret_fourteen_digits"),
            models.CheckConstraint(
                condition=Q(fiscal_year_end_month__gte=1, fiscal_year_end_month__lte=12,
                            fiscal_year_end_day__gte=1, fiscal_year_end_day__lte=31),
                name="company_fiscal_year_end_in_calendar"),
        ]
        indexes = [models.Index(fields=["firm", "state"]), models.Index(fields=["firm", "name"])]

    def __str__(self):
        return self.name

    @property
    def siren(self):
        return self.siret[:9]

    def fiscal_year_end_for(self, day):
        """The closing date of the fiscal year that contains ``day``."""
        def closing(year):
            # 29 February closings fall back to the 28th in common years.
            last = 28 if self.fiscal_year_end_month == 2 and self.fiscal_year_end_day > 28 and (
                year % 4 or (year % 100 == 0 and year % 400)) else self.fiscal_year_end_day
            return datetime.date(year, self.fiscal_year_end_month, last)

        end = closing(day.year)
        return end if day <= end else closing(day.year + 1)

    def clean(self):
        self.siret = normalize_siret(self.siret)
        try:
            datetime.date(2024, self.fiscal_year_end_month, self.fiscal_year_end_day)
        except (TypeError, ValueError):
            raise ValidationError(
                {"fiscal_year_end_day": _("Cette date de clôture n'existe pas.")}) from None


class CompanyMembership(TimeStampedModel):
    """A company user: the *dirigeant* (business owner, exactly one) or a *salarié* (staff)."""

    class Role(models.TextChoices):
        DIRIGEANT = "dirigeant", _("Dirigeant")
        SALARIE = "salarie", _("Salarié")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships",
                                verbose_name=_("entreprise"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="company_memberships", verbose_name=_("utilisateur"))
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.SALARIE)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("utilisateur entreprise")
        verbose_name_plural = _("utilisateurs entreprise")
        ordering = ["company__name", "role", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="one_membership_per_user"),
            models.UniqueConstraint(fields=["company"], condition=Q(role="dirigeant"),
                                    name="one_dirigeant_per_company",
                                    violation_error_message=_(
                                        "Cette entreprise a déjà un dirigeant.")),
        ]

    def __str__(self):
        return f"{self.user} — {self.company} ({self.get_role_display()})"


class CompanyAccountant(TimeStampedModel):
    """A firm user attached to a company's portfolio: one of the company's accountants."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="accountants",
                                verbose_name=_("entreprise"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="portfolio", verbose_name=_("comptable"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("comptable rattaché")
        verbose_name_plural = _("comptables rattachés")
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="accountant_attached_once"),
        ]

    def __str__(self):
        return f"{self.user} → {self.company}"


class Tier(models.TextChoices):
    """The MEG offer a module belongs to and a licence grants."""

    FREE = "free", _("MEG Free")
    PREMIUM = "premium", _("MEG Premium")


class Module(models.Model):
    """An entry of the module catalogue (Achats, ProGBat, …), MEG Free or Premium."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    tier = models.CharField(_("offre"), max_length=10, choices=Tier.choices, default=Tier.FREE)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def is_premium(self):
        return self.tier == Tier.PREMIUM


class ModuleActivation(TimeStampedModel):
    """A module switched on (or off) for a company, by whom and when."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="activations",
                                verbose_name=_("entreprise"))
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="activations",
                               verbose_name=_("module"))
    enabled = models.BooleanField(_("activé"), default=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("modifié par"))
    changed_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("activation de module")
        verbose_name_plural = _("activations de modules")
        constraints = [
            models.UniqueConstraint(fields=["company", "module"], name="module_activated_once"),
        ]

    def __str__(self):
        state = _("activé") if self.enabled else _("désactivé")
        return f"{self.module} — {self.company} ({state})"


class UserModuleAccess(TimeStampedModel):
    """A per-user override of a module's default access, and the module-administrator mark.

    Without a row, the dirigeant and the attached accountants may use an activated module and
    salariés may not.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="module_accesses",
                                verbose_name=_("entreprise"))
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("module"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="module_accesses", verbose_name=_("utilisateur"))
    enabled = models.BooleanField(_("accès"), default=True)
    is_admin = models.BooleanField(_("administrateur du module"), default=False)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("accès utilisateur à un module")
        verbose_name_plural = _("accès utilisateurs aux modules")
        constraints = [
            models.UniqueConstraint(fields=["company", "module", "user"],
                                    name="one_access_row_per_user_module"),
            models.CheckConstraint(condition=Q(enabled=True) | Q(is_admin=False),
                                   name="module_admin_has_access"),
        ]

    def __str__(self):
        return f"{self.user} — {self.module} ({self.company})"


class Licence(TimeStampedModel):
    """A MEG licence held by a company user, valid from ``starts_on`` to ``ends_on`` included."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="licences",
                                verbose_name=_("entreprise"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="licences", verbose_name=_("utilisateur"))
    tier = models.CharField(_("offre"), max_length=10, choices=Tier.choices, default=Tier.FREE)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        ordering = ["-ends_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")),
                                   name="licence_ends_after_it_starts",
                                   violation_error_message=_(
                                       "La fin de la licence doit suivre son début.")),
        ]
        indexes = [models.Index(fields=["firm", "ends_on"])]

    def __str__(self):
        return f"{self.get_tier_display()} — {self.user} ({self.company})"


class Invitation(models.Model):
    """A firm asks a person, by e-mail, to join it (firm user) or one of its companies.

    The membership exists only once the person accepts. Until then the firm knows the e-mail it
    typed and nothing else; only the SHA-256 of the link's token is stored.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrateur")
        COLLABORATEUR = "collaborateur", _("Collaborateur")
        DIRIGEANT = "dirigeant", _("Dirigeant")
        SALARIE = "salarie", _("Salarié")

    FIRM_ROLES = (Role.ADMIN, Role.COLLABORATEUR)
    COMPANY_ROLES = (Role.DIRIGEANT, Role.SALARIE)

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="invitations",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="invitations", verbose_name=_("entreprise"),
                                help_text=_("Vide : invitation à devenir utilisateur du cabinet."))
    email = models.EmailField(_("adresse e-mail"))
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    site = models.ForeignKey("firms.Site", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("site"))
    token_hash = models.CharField(_("empreinte du jeton"), max_length=64, unique=True,
                                  editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("invité par"))
    created_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    declined_at = models.DateTimeField(_("refusée le"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=True, role__in=["admin", "collaborateur"])
                | Q(company__isnull=False, role__in=["dirigeant", "salarie"]),
                name="invitation_role_fits_its_target"),
            # Settled once: accepted, declined or cancelled, never two of them.
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, declined_at__isnull=True)
                | Q(accepted_at__isnull=True, cancelled_at__isnull=True)
                | Q(declined_at__isnull=True, cancelled_at__isnull=True),
                name="invitation_settled_once"),
            models.UniqueConstraint(
                fields=["firm", "company", "email"], nulls_distinct=False,
                condition=Q(accepted_at__isnull=True, declined_at__isnull=True,
                            cancelled_at__isnull=True),
                name="one_pending_invitation_per_email"),
        ]

    def __str__(self):
        return f"{self.email} → {self.company or self.firm} ({self.get_role_display()})"

    @property
    def is_settled(self):
        return bool(self.accepted_at or self.declined_at or self.cancelled_at)

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    @property
    def is_pending(self):
        return not self.is_settled and not self.is_expired
