"""The one User model of MEG: a person who logs in with an e-mail address.

A person can be a firm user, a company user of several companies, or both; those roles live in
``firms.FirmMembership`` and ``companies.CompanyMembership``, not here.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError(_("Une adresse e-mail est obligatoire."))
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("adresse e-mail"), unique=True)
    # Empty until the user chooses in the user menu: MEG then speaks French (meg/locale.py).
    language = models.CharField(_("langue"), max_length=10, blank=True,
                                choices=settings.LANGUAGES)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        full_name = self.get_full_name()
        return f"{full_name} <{self.email}>" if full_name else self.email

    @property
    def display_name(self):
        return self.get_full_name() or self.email


class ApiToken(AbstractAuthToken):
    """A REST API token (django-rest-knox): only its SHA-512 digest and first characters are
    stored; the token itself is shown once, when it is created.

    Sent as ``Authorization: Token <token>``. Revoking deletes the row.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(_("empreinte"), max_length=CONSTANTS.DIGEST_LENGTH, unique=True,
                              editable=False)
    token_key = models.CharField(_("début du jeton"), db_index=True, editable=False,
                                 max_length=CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH
                                 + CONSTANTS.TOKEN_KEY_LENGTH)
    name = models.CharField(_("nom"), max_length=100, blank=True,
                            help_text=_("À quoi sert ce jeton (logiciel, script…)."))
    created = models.DateTimeField(_("créé le"), auto_now_add=True)
    expiry = models.DateTimeField(_("expire le"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True,
                                        editable=False)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.token_key}… ({self.user.email})"
