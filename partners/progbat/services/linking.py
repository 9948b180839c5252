"""A company's ProGBat link: activation, consent, finding or creating the account, credentials.

Every partner call happens while the link row is locked, so a double click or two users at
once never create two accounts; a failure leaves the link in ``error`` with its reason, and the
same action can be retried.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from audit.services import audit_record
from companies.models import CompanyMembership
from companies.selectors import dirigeant_of
from firms.models import PartnerConvention
from firms.selectors import firm_membership_for
from meg.validators import validate_siret
from partners.common.exceptions import PartnerRejected
from partners.common.models import Consent, Partner

from ..consent import CONSENT_TEXT, CONSENT_VERSION
from ..models import ProgbatLink, ProgbatUserAccess
from .calls import PARTNER_FAILURES, call_progbat, failure_message
from .connection import ConnectionUnusable, connection_for

Status = ProgbatLink.Status


def _convention(firm):
    return PartnerConvention.objects.filter(firm=firm, partner=Partner.PROGBAT
                                            ).first()


def progbat_activation_check(company, actor):
    """Why ProGBat cannot be switched on for this company, as a ValidationError, or None."""
    reasons = []
    if firm_membership_for(actor) is None:
        reasons.append(_("Seul un utilisateur du cabinet peut activer ProGBat."))
    else:
        connection = connection_for(actor)
        if connection is None or connection.status == connection.Status.REVOKED:
            reasons.append(_("Connectez d'abord votre compte ProGBat : Paramètres → Connexions "
                             "partenaires → Connexion."))
        elif not connection.is_connected:
            reasons.append(_("Votre connexion ProGBat a expiré : Paramètres → Connexions "
                             "partenaires → Reconnecter."))
    if _convention(company.firm) is None:
        reasons.append(_("Votre cabinet n'a pas de convention ProGBat (prescripteur ou "
                         "distributeur) : contactez ProGBat pour la signer, puis enregistrez-la "
                         "dans Paramètres → Cabinets / Sites."))
    try:
        validate_siret(company.siret)
    except ValidationError:
        reasons.append(_("Le SIRET de l'entreprise est invalide : corrigez-le sur la fiche de "
                         "l'entreprise (le compte ProGBat est recherché par son SIREN)."))
    if reasons:
        raise ValidationError([_("ProGBat ne peut pas être activé pour « %(name)s » :")
                               % {"name": company.name}, *reasons])


@transaction.atomic
def progbat_link_activate(company, actor):
    """The module is switched on: the link waits for a first user's consent."""
    now = timezone.now()
    link, created = ProgbatLink.objects.select_for_update().get_or_create(
        company=company, defaults={"firm": company.firm, "activated_at": now,
                                   "activated_by": actor})
    if not created:
        link.activated_at, link.activated_by = now, actor
        link.save(update_fields=["activated_at", "activated_by", "updated_at"])
    return link


def _locked_link(company):
    return ProgbatLink.objects.select_for_update().get(company=company)


def active_consent(company):
    return Consent.objects.filter(company=company, partner=Partner.PROGBAT,
                                  withdrawn_at__isnull=True).first()


@transaction.atomic
def progbat_consent_give(*, company, user):
    link = _locked_link(company)
    if active_consent(company) is None:
        Consent.objects.create(firm=company.firm, company=company, user=user,
                               partner=Partner.PROGBAT, text_version=CONSENT_VERSION,
                               text_sha256=Consent.fingerprint(CONSENT_TEXT))
        audit_record(firm=company.firm, company=company, actor=user,
                     action="progbat.consent_given",
                     summary=lambda: _("Consentement ProGBat donné par %(email)s (version %(v)s)")
                     % {"email": user.email, "v": CONSENT_VERSION})
    if link.consented_at is None or link.status == Status.PAUSED:
        link.consented_at, link.consented_by = timezone.now(), user
    if link.status == Status.PAUSED:
        link.status = Status.ACTIVE if link.linked_at else Status.PENDING_CONSENT
    link.save()
    return link


@transaction.atomic
def progbat_consent_withdraw(*, company, user):
    """The dirigeant withdraws the consent: the link is paused, nothing more is exchanged."""
    if not CompanyMembership.objects.filter(company=company, user=user,
                                            role=CompanyMembership.Role.DIRIGEANT).exists():
        raise ValidationError(_("Seul le dirigeant de l'entreprise peut retirer le "
                                "consentement."))
    consent = active_consent(company)
    if consent is None:
        return _locked_link(company)
    consent.withdrawn_at, consent.withdrawn_by = timezone.now(), user
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    link = _locked_link(company)
    link.status = Status.PAUSED
    link.save(update_fields=["status", "updated_at"])
    audit_record(firm=company.firm, company=company, actor=user,
                 action="progbat.consent_withdrawn",
                 summary=lambda: _("Consentement ProGBat retiré par %(email)s : liaison suspendue")
                 % {"email": user.email})
    return link


def _dirigeant_conflict(company, dirigeant):
    """Another company whose link uses the same dirigeant (ProGBat: one company each)."""
    with scopes_disabled():
        other = (ProgbatLink.objects.exclude(company=company)
                 .exclude(status__in=[Status.PENDING_CONSENT, Status.ERROR])
                 .filter(company__memberships__user=dirigeant,
                         company__memberships__role=CompanyMembership.Role.DIRIGEANT)
                 .select_related("company").first())
    return other.company if other else None


def _dirigeant_message(company, dirigeant, other=None):
    where = (_("« %(name)s »") % {"name": other.name}
             if other is not None and other.firm_id == company.firm_id
             else _("une autre entreprise"))
    return _("ProGBat n'accepte qu'une seule entreprise par dirigeant, et %(person)s est déjà "
             "dirigeant de %(where)s sur ProGBat. Pour lier « %(company)s », désignez dans MEG "
             "un autre utilisateur comme dirigeant de cette entreprise (fiche de l'entreprise → "
             "Utilisateurs → « Définir comme dirigeant »), puis réessayez.") % {
        "person": dirigeant.display_name, "where": where, "company": company.name}


def _fail(link, code, detail):
    link.status, link.error_code, link.error_detail = Status.ERROR, code, detail[:500]
    link.save(update_fields=["status", "error_code", "error_detail", "updated_at"])
    audit_record(firm=link.firm, company=link.company, actor=None, action="progbat.link_error",
                 summary=lambda: _("Liaison ProGBat en erreur : %(detail)s") % {"detail": detail},
                 data={"code": code})
    from ..notices import link_error

    link_error(link)
    return link


def _apply_account(link, account):
    link.progbat_account_id = account.id
    link.plan = account.plan
    link.licence_status = account.licence_status
    link.trial_ends_at = account.trial_ends_at
    link.error_code = link.error_detail = ""


def _activate(link, actor):
    link.status, link.linked_at = Status.ACTIVE, timezone.now()
    audit_record(firm=link.firm, company=link.company, actor=actor, action="progbat.linked",
                 summary=lambda: _("Liaison ProGBat active (compte %(id)s)")
                 % {"id": link.progbat_account_id})


@transaction.atomic
def progbat_link_company(*, company, actor):
    """After consent: find the company's ProGBat account by SIREN, or create it.

    Found → the first user proves the link with ProGBat credentials. Not found → created from
    MEG's data: with a one-month trial for a *prescripteur* firm, without licence ("licence à
    attribuer") for a *distributeur* firm.
    """
    link = _locked_link(company)
    if link.status not in (Status.PENDING_CONSENT, Status.ERROR):
        return link
    if active_consent(company) is None:
        raise ValidationError(_("Le consentement au partage des données est requis."))
    dirigeant = dirigeant_of(company)
    if dirigeant is None:  # invited, not yet accepted (companies.invitations)
        return _fail(link, "no_dirigeant", _(
            "L'entreprise n'a pas encore de dirigeant : la personne invitée doit d'abord "
            "accepter son invitation. Réessayez ensuite."))
    other = _dirigeant_conflict(company, dirigeant)
    if other is not None:
        return _fail(link, "dirigeant_multi", _dirigeant_message(company, dirigeant, other))
    convention = _convention(company.firm)
    if convention is None:
        return _fail(link, "no_convention", _("Le cabinet n'a plus de convention ProGBat."))
    try:
        accounts = call_progbat(link, actor, lambda c: c.find_accounts(siren=company.siren))
        if accounts:
            _apply_account(link, accounts[0])
            link.status = Status.PENDING_CREDENTIALS
        else:
            prescripteur = convention.kind == PartnerConvention.Kind.PRESCRIPTEUR
            account = call_progbat(link, actor, lambda c: c.create_account(
                siret=company.siret, name=company.name,
                address=" ".join(filter(None, [company.address, company.postal_code,
                                               company.city])),
                dirigeant={"email": dirigeant.email, "first_name": dirigeant.first_name,
                           "last_name": dirigeant.last_name},
                plan=convention.trial_plan if prescripteur else None,
                trial_days=settings.PROGBAT_TRIAL_DAYS if prescripteur else 0))
            _apply_account(link, account)
            ProgbatUserAccess.objects.get_or_create(link=link, user=dirigeant, defaults={
                "firm": company.firm, "role": "dirigeant"})
            _activate(link, actor)
    except PartnerRejected as error:
        if error.code == "dirigeant_taken":
            return _fail(link, error.code, _dirigeant_message(company, dirigeant))
        return _fail(link, error.code, failure_message(error))
    except PARTNER_FAILURES as error:
        code = ("connection_expired" if isinstance(error, ConnectionUnusable)
                else "progbat_unavailable")
        return _fail(link, code, failure_message(error))
    link.save()
    return link


def progbat_link_credentials(*, company, actor, username, password):
    """An existing ProGBat account: its credentials, entered once per company, prove the link."""
    with transaction.atomic():
        link = _locked_link(company)
        if link.status != Status.PENDING_CREDENTIALS:
            return link
        try:
            account = call_progbat(link, actor, lambda c: c.link_account(
                account_id=link.progbat_account_id, username=username, password=password))
        except PARTNER_FAILURES as error:
            failure = error
        else:
            _apply_account(link, account)
            _activate(link, actor)
            link.save()
            return link
    if isinstance(failure, PartnerRejected) and failure.code == "bad_credentials":
        raise ValidationError(_("Identifiants ProGBat incorrects pour ce compte. Vérifiez "
                                "l'identifiant et le mot de passe ProGBat de l'entreprise."),
                              code="bad_credentials")
    raise ValidationError(failure_message(failure,
                                          refused=_("ProGBat a refusé la liaison : %(detail)s")))
