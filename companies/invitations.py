"""Invitations: a firm asks a person to join it or one of its companies; the person accepts.

A firm never attaches an account on its own. Every address it adds (to a company, to the firm,
as a new company's dirigeant) receives an invitation, new address or not, so that the firm's
answer and pages are the same whether the address already has an account; a new address gets
its account at once, as before, so that the person can choose a password and log in to accept.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from audit.services import audit_record
from firms.models import FirmMembership
from firms.services import firm_user_create, user_get_or_create

from .models import CompanyMembership, Invitation

logger = logging.getLogger(__name__)


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _normalize(email):
    return email.strip().lower()


def _check_target(*, firm, company, email, role):
    """Refusals about the firm's own data only: they never tell whether an account exists."""
    if company is None:
        if role not in Invitation.FIRM_ROLES:
            raise ValidationError({"role": _("Rôle inconnu.")})
        if FirmMembership.objects.filter(firm=firm, user__email__iexact=email).exists():
            raise ValidationError({"email": _("Cette personne est déjà utilisateur du cabinet.")})
        return
    if role not in Invitation.COMPANY_ROLES:
        raise ValidationError({"role": _("Rôle inconnu.")})
    if CompanyMembership.objects.filter(company=company, user__email__iexact=email).exists():
        raise ValidationError({"email": _("Cette personne est déjà utilisateur de l'entreprise.")})
    if role == Invitation.Role.DIRIGEANT:
        has_dirigeant = CompanyMembership.objects.filter(
            company=company, role=CompanyMembership.Role.DIRIGEANT).exists()
        invited = (Invitation.objects.filter(company=company, role=Invitation.Role.DIRIGEANT,
                                             accepted_at=None, declined_at=None,
                                             cancelled_at=None, expires_at__gt=timezone.now())
                   .exclude(email=email).exists())
        if has_dirigeant or invited:
            raise ValidationError({"role": _(
                "Cette entreprise a déjà un dirigeant (ou un dirigeant invité). Pour le "
                "remplacer, utilisez « Définir comme dirigeant » sur la fiche de l'utilisateur.")})


@transaction.atomic
def invitation_send(*, firm, actor, email, role, company=None, site=None, first_name="",
                    last_name="", base_url=""):
    """Invite ``email`` to the firm (``company`` None) or to one of its companies.

    Sending again to an address with a pending invitation renews it (new link, new delay).
    """
    email = _normalize(email)
    _check_target(firm=firm, company=company, email=email, role=role)
    user_get_or_create(email=email, first_name=first_name, last_name=last_name)
    invitation = (Invitation.objects.select_for_update()
                  .filter(firm=firm, company=company, email=email, accepted_at=None,
                          declined_at=None, cancelled_at=None).first()
                  or Invitation(firm=firm, company=company, email=email))
    token = secrets.token_urlsafe(32)
    invitation.role, invitation.site = role, site if company is None else None
    invitation.token_hash = token_hash(token)
    invitation.invited_by = actor
    invitation.expires_at = timezone.now() + timedelta(days=settings.MEG_INVITATION_DAYS)
    invitation.full_clean()
    invitation.save()
    audit_record(firm=firm, company=company, actor=actor, action="invitation.sent",
                 summary=lambda: _("Invitation envoyée à %(email)s (%(role)s)")
                 % {"email": email, "role": invitation.get_role_display()},
                 data={"email": email, "role": role})
    transaction.on_commit(lambda: invitation_email_send(invitation_id=invitation.pk, token=token,
                                                       base_url=base_url))
    return invitation


def invitation_email_send(*, invitation_id, token, base_url=""):
    """The invitation e-mail (French, plain text and HTML); nothing when no longer pending."""
    with scopes_disabled():
        invitation = (Invitation.objects.select_related("firm", "company", "invited_by")
                      .filter(pk=invitation_id, token_hash=token_hash(token)).first())
    if invitation is None or not invitation.is_pending:
        return
    base = (base_url or settings.MEG_BASE_URL).rstrip("/")
    context = {"invitation": invitation,
               "url": base + reverse("companies:invitation", args=[token]),
               "login_url": base + reverse("account_login"),
               "reset_url": base + reverse("account_reset_password")}
    subject = render_to_string("companies/email/invitation_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject, to=[invitation.email],
        body=render_to_string("companies/email/invitation_body.txt", context))
    message.attach_alternative(render_to_string("companies/email/invitation_body.html", context),
                               "text/html")
    try:
        message.send()
    except OSError:  # the firm can send it again; the invitation itself is saved
        logger.exception("Invitation %s: the e-mail could not be sent", invitation_id)


@transaction.atomic
def invitation_cancel(*, invitation, actor):
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.is_settled:
        return invitation
    invitation.cancelled_at = timezone.now()
    invitation.save(update_fields=["cancelled_at"])
    audit_record(firm=invitation.firm, company=invitation.company, actor=actor,
                 action="invitation.cancelled",
                 summary=lambda: _("Invitation de %(email)s annulée") % {"email": invitation.email},
                 data={"email": invitation.email})
    return invitation


def _locked_pending(invitation, user):
    with scopes_disabled():
        invitation = (Invitation.objects.select_for_update(of=("self",))
                      .select_related("firm", "company", "site").get(pk=invitation.pk))
    if invitation.email != _normalize(user.email):
        raise ValidationError(_("Cette invitation est adressée à une autre adresse e-mail."))
    if not invitation.is_pending:
        raise ValidationError(_("Cette invitation n'est plus valable : demandez au cabinet de "
                                "vous l'envoyer de nouveau."))
    return invitation


@transaction.atomic
def invitation_accept(*, invitation, user):
    """The invited person joins the firm or the company, with the role of the invitation."""
    # Lazy: companies.services imports this module for company_create.
    from .services import company_user_add

    invitation = _locked_pending(invitation, user)
    with scopes_disabled():
        if invitation.company is None:
            if FirmMembership.objects.filter(user=user).exclude(firm=invitation.firm).exists():
                raise ValidationError(_(
                    "Votre compte est déjà celui d'un utilisateur d'un autre cabinet : un compte "
                    "MEG ne peut appartenir qu'à un seul cabinet."))
            if not FirmMembership.objects.filter(user=user, firm=invitation.firm).exists():
                firm_user_create(firm=invitation.firm, actor=user, email=user.email,
                                 first_name=user.first_name, last_name=user.last_name,
                                 role=invitation.role, site=invitation.site)
        elif not CompanyMembership.objects.filter(company=invitation.company,
                                                  user=user).exists():
            company_user_add(company=invitation.company, actor=user, email=user.email,
                             role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(firm=invitation.firm, company=invitation.company, actor=user,
                 action="invitation.accepted",
                 summary=lambda: _("Invitation acceptée par %(email)s")
                 % {"email": invitation.email},
                 data={"email": invitation.email, "role": invitation.role})
    return invitation


@transaction.atomic
def invitation_decline(*, invitation, user):
    invitation = _locked_pending(invitation, user)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])
    # No actor: declining tells the firm nothing more about the account than its address.
    audit_record(firm=invitation.firm, company=invitation.company, actor=None,
                 action="invitation.declined",
                 summary=lambda: _("Invitation refusée par %(email)s")
                 % {"email": invitation.email},
                 data={"email": invitation.email})
    return invitation
