"""Reads of the firm dashboard, always starting from the firm."""

import datetime

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from companies.models import Company, Licence, Tier

from .models import FirmMembership


def firm_membership_for(user):
    """The user's firm membership, or None for company-only users. Cached on the user object."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_meg_firm_membership"):
        user._meg_firm_membership = (
            FirmMembership.objects.select_related("firm", "site").filter(user=user).first())
    return user._meg_firm_membership


def dashboard_figures(*, firm, today=None):
    """Every figure of the firm dashboard, in a fixed number of queries whatever the firm's size.

    Licences: *activées* are valid today, *à expiration* are valid today and end within
    ``MEG_LICENCE_EXPIRY_WARNING_DAYS`` (a subset of the activated ones), *expirées* have ended.
    """
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.MEG_LICENCE_EXPIRY_WARNING_DAYS)
    State, Dossier = Company.State, Company.DossierType
    companies = Company.objects.filter(firm=firm).aggregate(
        created=Count("id"),
        activated=Count("id", filter=Q(state=State.ACTIVATED)),
        inactivated=Count("id", filter=Q(state=State.INACTIVATED)),
        engagement=Count("id", filter=Q(dossier_type=Dossier.ENGAGEMENT)),
        tresorerie=Count("id", filter=Q(dossier_type=Dossier.TRESORERIE)),
    )
    valid = Q(starts_on__lte=today, ends_on__gte=today)
    licences = Licence.objects.filter(firm=firm).aggregate(
        activated=Count("id", filter=valid),
        expiring=Count("id", filter=valid & Q(ends_on__lte=horizon)),
        expired=Count("id", filter=Q(ends_on__lt=today)),
        free=Count("id", filter=valid & Q(tier=Tier.FREE)),
        premium=Count("id", filter=valid & Q(tier=Tier.PREMIUM)),
    )
    return {
        "companies": companies,
        "licences": licences,
        "dossiers": [
            (Dossier.ENGAGEMENT.label, companies["engagement"]),
            (Dossier.TRESORERIE.label, companies["tresorerie"]),
        ],
        "licence_split": [
            (Tier.FREE.label, licences["free"]),
            (Tier.PREMIUM.label, licences["premium"]),
        ],
        "today": today,
    }


def firm_users(*, firm):
    return (FirmMembership.objects.filter(firm=firm).select_related("user", "site")
            .annotate(portfolio_size=Count("user__portfolio",
                                           filter=Q(user__portfolio__firm=firm)))
            .order_by("user__last_name", "user__first_name", "user__email"))


def firm_users_mfa(*, firm):
    """The firm's users, each with ``has_mfa``: an authenticator app or a security key."""
    factors = Authenticator.objects.filter(
        user_id=OuterRef("user_id"),
        type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
    return (FirmMembership.objects.filter(firm=firm).select_related("user")
            .annotate(has_mfa=Exists(factors))
            .order_by("user__last_name", "user__first_name", "user__email"))
