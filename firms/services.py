"""Writes of the firm side: firm users, sites, news, partner conventions and security policy."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from audit.services import audit_record

from .models import FirmMembership, FirmNews, PartnerConvention, Site


def user_get_or_create(*, email, first_name="", last_name=""):
    """Find a person by e-mail (case-insensitive) or create them without a usable password."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    return user


@transaction.atomic
def firm_user_create(*, firm, actor, email, first_name, last_name, role, site=None):
    user = user_get_or_create(email=email, first_name=first_name, last_name=last_name)
    with scopes_disabled():
        # Another firm's membership is invisible in the firm's scope but still forbids a second.
        if FirmMembership.objects.filter(user=user).exists():
            raise ValidationError({"email": _("Cette personne est déjà utilisateur d'un cabinet.")})
    membership = FirmMembership(firm=firm, user=user, role=role, site=site)
    membership.full_clean()
    membership.save()
    audit_record(firm=firm, actor=actor, action="firm_user.created",
                 summary=lambda: _("Utilisateur cabinet ajouté : %(email)s")
                 % {"email": user.email},
                 data={"user_id": user.pk, "role": role})
    return membership


@transaction.atomic
def firm_user_update(*, membership, actor, role, site=None):
    if (membership.role == FirmMembership.Role.ADMIN and role != FirmMembership.Role.ADMIN
            and not FirmMembership.objects.filter(firm=membership.firm,
                                                  role=FirmMembership.Role.ADMIN)
            .exclude(pk=membership.pk).exists()):
        raise ValidationError({"role": _("Le cabinet doit garder au moins un administrateur.")})
    membership.role = role
    membership.site = site
    membership.full_clean()
    membership.save()
    audit_record(firm=membership.firm, actor=actor, action="firm_user.updated",
                 summary=lambda: _("Utilisateur cabinet modifié : %(email)s")
                 % {"email": membership.user.email},
                 data={"user_id": membership.user_id, "role": role,
                       "site_id": site.pk if site else None})
    return membership


@transaction.atomic
def site_create(*, firm, actor, name, city=""):
    site = Site(firm=firm, name=name, city=city)
    site.full_clean()
    site.save()
    audit_record(firm=firm, actor=actor, action="site.created",
                 summary=lambda: _("Site créé : %(name)s") % {"name": name})
    return site


@transaction.atomic
def news_publish(*, firm, actor, title, body, published=True):
    news = FirmNews(firm=firm, title=title, body=body, published=published, author=actor)
    news.full_clean()
    news.save()
    audit_record(firm=firm, actor=actor, action="news.created",
                 summary=lambda: _("Actualité publiée : %(title)s") % {"title": title})
    return news


@transaction.atomic
def news_delete(*, news, actor):
    audit_record(firm=news.firm, actor=actor, action="news.deleted",
                 summary=lambda: _("Actualité supprimée : %(title)s") % {"title": news.title})
    news.delete()


@transaction.atomic
def convention_set(*, firm, actor, partner, kind, signed_at, trial_plan="start_plus"):
    convention, _created = PartnerConvention.objects.update_or_create(
        firm=firm, partner=partner,
        defaults={"kind": kind, "signed_at": signed_at, "trial_plan": trial_plan})
    audit_record(firm=firm, actor=actor, action="convention.set",
                 summary=lambda: _("Convention %(partner)s : %(kind)s")
                 % {"partner": convention.get_partner_display(),
                    "kind": convention.get_kind_display()})
    return convention


@transaction.atomic
def firm_mfa_required_set(*, firm, actor, required):
    """Require MFA of every firm user (or stop requiring it): meg.mfa enforces it per request."""
    if firm.mfa_required == required:
        return firm
    firm.mfa_required = required
    firm.save(update_fields=["mfa_required", "updated_at"])
    audit_record(firm=firm, actor=actor, action="firm.mfa_required",
                 summary=lambda: (
                     _("MFA obligatoire activée pour les utilisateurs du cabinet") if required
                     else _("MFA obligatoire désactivée pour les utilisateurs du cabinet")),
                 data={"mfa_required": required})
    return firm
