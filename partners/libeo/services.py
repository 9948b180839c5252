"""Libeo use cases: the company's API key, "Me connecter avec MEG", and who may pay."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from companies.selectors import is_module_admin, user_can_use_module
from firms.selectors import firm_membership_for
from partners.common.exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable
from purchases.services import payment_note

from . import client
from .models import LibeoConnectIntent, LibeoConnection, LibeoPaymentPoll

ACHATS = "achats"
UNAVAILABLE = gettext_lazy("Libeo ne répond pas pour le moment : réessayez dans quelques minutes.")


def require_achats_admin(user, company):
    if not is_module_admin(user, company, ACHATS):
        raise PermissionDenied(_("Réservé aux administrateurs du module Achats."))


def connection_of(company):
    return LibeoConnection.objects.filter(company=company).first()


def _checked(company, api_key):
    """``/me`` for this key, refusing keys of another company."""
    try:
        info = client.me(api_key)
    except PartnerUnauthorized:
        raise ValidationError({"api_key": _(
            "Libeo refuse cette clé. Copiez-la de nouveau dans Libeo : Configuration → "
            "Intégrations → MEG → Se connecter.")}) from None
    except (PartnerUnavailable, PartnerRejected):
        raise ValidationError(UNAVAILABLE) from None
    if info.siren != company.siren:
        raise ValidationError({"api_key": _(
            "Cette clé ouvre le compte Libeo de « %(name)s » (SIREN %(siren)s), pas celui de "
            "« %(company)s ».") % {"name": info.name, "siren": info.siren,
                                    "company": company.name}})
    return info


def _store(company, actor, api_key, info, source):
    connection, _created = LibeoConnection.objects.update_or_create(company=company, defaults={
        "firm_id": company.firm_id, "api_key": api_key, "key_last4": api_key[-4:],
        "source": source, "libeo_company_name": info.name, "libeo_siren": info.siren,
        "account_id": info.account_id, "plan": info.plan, "users": info.users,
        "payments_this_month": info.payments_this_month, "payments_limit": info.payments_limit,
        "checked_at": timezone.now(), "connected_by": actor})
    audit_record(firm=company.firm, company=company, actor=actor, action="libeo.connected",
                 summary=lambda: _("Libeo connecté (%(source)s), clé se terminant par %(last4)s")
                 % {"source": connection.get_source_display(), "last4": api_key[-4:]})
    _payments_follow_again(connection)
    return connection


def _payments_follow_again(connection):
    """The payments made on the key's account are asked about with this key from now on;
    those MEG had stopped following (no key of their account) are followed again now."""
    if not connection.account_id:
        return
    polls = LibeoPaymentPoll.objects.filter(payment__company_id=connection.company_id,
                                            account_id=connection.account_id)
    for poll in polls.filter(next_check_at__isnull=True).select_related("payment"):
        payment_note(payment=poll.payment)  # the « no longer followed » note goes
    polls.filter(next_check_at__isnull=True).update(next_check_at=timezone.now(),
                                                    last_error="", checks=0)
    polls.update(api_key=connection.api_key, key_last4=connection.key_last4,
                 account_name=connection.libeo_company_name)


@transaction.atomic
def libeo_key_set(*, company, actor, api_key):
    """*Clé d'api LIBEO*: checked against ``/me`` before it is saved, stored encrypted."""
    require_achats_admin(actor, company)
    api_key = (api_key or "").strip()
    if len(api_key) < 8:
        raise ValidationError({"api_key": _("Collez la clé d'API complète affichée par Libeo.")})
    return _store(company, actor, api_key, _checked(company, api_key),
                  LibeoConnection.Source.API_KEY)


@transaction.atomic
def libeo_key_remove(*, company, actor):
    require_achats_admin(actor, company)
    deleted, _rows = LibeoConnection.objects.filter(company=company).delete()
    # No key of the company stays in MEG: payments still scheduled at Libeo are no longer
    # asked about (the user is told at their next check); a key pasted again resumes them.
    LibeoPaymentPoll.objects.filter(payment__company=company).update(api_key="", key_last4="")
    if deleted:
        audit_record(firm=company.firm, company=company, actor=actor,
                     action="libeo.disconnected", summary=lambda: _("Clé Libeo retirée"))


@transaction.atomic
def libeo_bank_account_set(*, company, actor, bank_account):
    """The bank account Libeo pays from (512…): paid payments credit it in the Libeo payments
    journal from now on; entries already booked keep theirs."""
    require_achats_admin(actor, company)
    connection = LibeoConnection.objects.select_for_update().filter(company=company).first()
    if connection is None:
        raise ValidationError(_("Connectez d'abord Libeo."))
    before, connection.bank_account = connection.bank_account, (bank_account or "").strip()
    connection.clean_fields(exclude=[field.name for field in LibeoConnection._meta.fields
                                     if field.name != "bank_account"])
    if connection.bank_account == before:
        return connection
    connection.save(update_fields=["bank_account", "updated_at"])
    audit_record(firm=company.firm, company=company, actor=actor,
                 action="libeo.bank_account_changed",
                 summary=lambda: _("Compte de banque des paiements Libeo : %(before)s → %(after)s")
                 % {"before": before, "after": connection.bank_account})
    return connection


def libeo_refresh(*, company):
    """Read ``/me`` again (plan, payments used this month, users); quiet when Libeo is down."""
    connection = connection_of(company)
    if connection is None:
        return None
    try:
        info = client.me(connection.api_key)
    except (PartnerUnavailable, PartnerRejected, PartnerUnauthorized):
        return connection
    LibeoConnection.objects.filter(pk=connection.pk).update(
        plan=info.plan, users=info.users, payments_this_month=info.payments_this_month,
        payments_limit=info.payments_limit, checked_at=timezone.now(),
        **({"account_id": info.account_id} if info.account_id else {}))
    connection.refresh_from_db()
    return connection



@transaction.atomic
def libeo_connect_start(*, company, actor):
    """Remember which company the user is connecting, for MEG's OpenID claims."""
    require_achats_admin(actor, company)
    return LibeoConnectIntent.objects.create(firm_id=company.firm_id, company=company,
                                             user=actor)


@transaction.atomic
def libeo_connect_complete(*, company, actor, code):
    """Back from Libeo with a one-time code: exchange it for the new account's API key."""
    require_achats_admin(actor, company)
    try:
        api_key = client.exchange_code(code)
    except PartnerRejected:
        raise ValidationError(_("Ce lien de connexion Libeo a expiré ou a déjà servi : "
                                "recommencez « Me connecter avec MEG ».")) from None
    except (PartnerUnavailable, PartnerUnauthorized):
        raise ValidationError(UNAVAILABLE) from None
    return _store(company, actor, api_key, _checked(company, api_key),
                  LibeoConnection.Source.MEG_CONNECT)


def libeo_can_pay(user, invoice):
    """Company users with the Achats module; firm users only if their e-mail is an
    ``accountant`` of the company's Libeo account."""
    company = invoice.company
    if not user_can_use_module(user, company, ACHATS):
        return False
    membership = firm_membership_for(user)
    if membership is not None and membership.firm_id == company.firm_id:
        connection = connection_of(company)
        return connection is not None and user.email.lower() in connection.accountant_emails
    return True
