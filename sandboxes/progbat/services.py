"""Writes of the sandbox: one atomic function per use case, shared by the API and the pages."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sandboxes.common.errors import Refused

from . import webhooks
from .models import (
    Account,
    AccountAccess,
    Invoice,
    InvoiceLine,
    LicenceStatus,
    Plan,
    SsoTicket,
    round_money,
)

SSO_TICKET_LIFETIME = timedelta(minutes=2)
PAID_PLANS = (Plan.START_PLUS, Plan.PREMIUM)
INVOICE_LOCKED = "Facture verrouillée : exportée en comptabilité dans MEG"


def _validated_save(instance):
    instance.full_clean()
    instance.save()
    return instance


def user_for_email(email):
    return get_user_model().objects.filter(email__iexact=email).order_by("pk").first()


def _user_create(*, email, first_name="", last_name=""):
    """A ProGBat user created on MEG's behalf: no password, they come in through SSO links."""
    user = get_user_model()(username=email.lower(), email=email.lower(),
                            first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    return _validated_save(user)


def _refuse_if_dirigeant_elsewhere(user, account):
    elsewhere = (AccountAccess.objects.filter(user=user, role=AccountAccess.Role.DIRIGEANT)
                 .exclude(account=account).select_related("account").first())
    if elsewhere is not None:
        raise Refused("dirigeant_taken", (
            f"{user.email} est déjà dirigeant du compte ProGBat « {elsewhere.account.name} » : "
            "ProGBat n'associe un dirigeant qu'à une seule entreprise."))


@transaction.atomic
def account_create(*, siret, name, address, dirigeant, plan, trial_days):
    """Create the account of a company unknown to ProGBat, with its dirigeant's access.

    A paid plan with trial days starts a trial; anything else gives a free account that waits
    for a licence from the distributeur's back-office.
    """
    siren = siret[:9]
    existing = Account.objects.filter(siren=siren).first()
    if existing is not None:
        raise Refused("account_exists",
                      f"Un compte ProGBat existe déjà pour le SIREN {siren} : {existing.name}.")
    user = user_for_email(dirigeant["email"])
    if user is None:
        user = _user_create(**dirigeant)
    else:
        _refuse_if_dirigeant_elsewhere(user, account=None)
    account = Account(siren=siren, siret=siret, name=name, address=address)
    if plan in PAID_PLANS and trial_days > 0:
        account.plan, account.licence_status = plan, LicenceStatus.TRIAL
        account.trial_ends_at = timezone.now() + timedelta(days=trial_days)
    _validated_save(account)
    _validated_save(AccountAccess(account=account, user=user, role=AccountAccess.Role.DIRIGEANT))
    return account


@transaction.atomic
def account_grant_access(*, account, email, role):
    """Give ``email`` access to the account; returns ``(access, created)``, never a duplicate."""
    user = user_for_email(email)
    if user is not None:
        existing = AccountAccess.objects.filter(account=account, user=user).first()
        if existing is not None:
            return existing, False
        if role == AccountAccess.Role.DIRIGEANT:
            _refuse_if_dirigeant_elsewhere(user, account)
    else:
        user = _user_create(email=email)
    return _validated_save(AccountAccess(account=account, user=user, role=role)), True


@transaction.atomic
def account_assign_licence(*, account, plan):
    account.plan, account.licence_status, account.trial_ends_at = plan, LicenceStatus.LICENSED, None
    _validated_save(account)
    webhooks.account_delivery_enqueue(account=account)
    return account


@transaction.atomic
def account_update_settings(*, account, customer_account, revenue_account, revenue_account_label,
                            vat_account):
    """Change the accounting settings; only invoices validated from now on use them."""
    account.customer_account = customer_account
    account.revenue_account = revenue_account
    account.revenue_account_label = revenue_account_label
    account.vat_account = vat_account
    return _validated_save(account)


@transaction.atomic
def sso_ticket_issue(*, account, email):
    access = (AccountAccess.objects.filter(account=account, user__email__iexact=email)
              .select_related("user").first())
    if access is None:
        raise Refused("user_not_found",
                      f"{email} n'a pas d'accès au compte ProGBat « {account.name} ».")
    return SsoTicket.objects.create(
        token=secrets.token_urlsafe(32), account=account, user=access.user,
        expires_at=timezone.now() + SSO_TICKET_LIFETIME)


@transaction.atomic
def sso_ticket_redeem(*, token):
    """Burn a one-time login link; the conditional update makes two concurrent uses impossible."""
    now = timezone.now()
    ticket = SsoTicket.objects.select_related("account", "user").filter(token=token).first()
    if ticket is None:
        raise Refused("sso_not_found", "Ce lien de connexion ProGBat n'existe pas.")
    claimed = SsoTicket.objects.filter(pk=ticket.pk, used_at__isnull=True,
                                       expires_at__gt=now).update(used_at=now)
    if not claimed:
        raise Refused("sso_expired", "Ce lien de connexion a déjà servi ou a expiré. "
                                     "Rouvrez ProGBat depuis MEG pour en obtenir un nouveau.")
    return ticket


def _replace_lines(invoice, lines):
    if not lines:
        raise ValidationError({"lines": "Une facture comporte au moins une ligne."})
    invoice.lines.all().delete()
    for position, line in enumerate(lines):
        _validated_save(InvoiceLine(
            invoice=invoice, position=position, label=line["label"],
            amount_excl_tax=round_money(line["amount_excl_tax"]), vat_rate=line["vat_rate"]))


def _for_update(invoice):
    """Re-read the invoice inside the transaction so concurrent edits cannot share a version."""
    return Invoice.objects.select_for_update().select_related("account").get(pk=invoice.pk)


@transaction.atomic
def invoice_create(*, account, number, date, customer_name, customer_account, lines):
    invoice = _validated_save(Invoice(account=account, number=number, date=date,
                                      customer_name=customer_name,
                                      customer_account=customer_account))
    _replace_lines(invoice, lines)
    return invoice


@transaction.atomic
def invoice_validate(*, invoice):
    """Validate a draft and queue ``invoice.validated``; validating twice changes nothing."""
    invoice = _for_update(invoice)
    if invoice.is_locked:
        raise Refused("invoice_locked", INVOICE_LOCKED)
    if invoice.status == Invoice.Status.VALIDATED:
        return invoice
    invoice.status, invoice.version, invoice.validated_at = (
        Invoice.Status.VALIDATED, 1, timezone.now())
    _validated_save(invoice)
    webhooks.delivery_enqueue(invoice=invoice, event_type="invoice.validated")
    return invoice


@transaction.atomic
def invoice_update(*, invoice, **changes):
    """Edit an invoice; a validated one is validated again (new version, ``invoice.updated``).

    An edit without changes still re-validates: that is how a user re-sends an entry to MEG
    after changing the accounting settings.
    """
    invoice = _for_update(invoice)
    if invoice.is_locked:
        raise Refused("invoice_locked", INVOICE_LOCKED)
    for field in ("number", "date", "customer_name", "customer_account"):
        if field in changes:
            setattr(invoice, field, changes[field])
    if invoice.status == Invoice.Status.VALIDATED:
        invoice.version += 1
        invoice.validated_at = timezone.now()
    _validated_save(invoice)
    if "lines" in changes:
        _replace_lines(invoice, changes["lines"])
    if invoice.status == Invoice.Status.VALIDATED:
        webhooks.delivery_enqueue(invoice=invoice, event_type="invoice.updated")
    return invoice


@transaction.atomic
def invoice_resend(*, invoice):
    """MEG asks for the entry again: a new version computed from today's settings, re-emitted
    as ``invoice.updated`` exactly as an edit without changes would."""
    invoice = _for_update(invoice)
    if invoice.is_locked:
        raise Refused("invoice_locked", INVOICE_LOCKED)
    if invoice.status != Invoice.Status.VALIDATED:
        raise Refused("invoice_not_validated",
                      "Seule une facture validée peut être renvoyée à MEG.")
    return invoice_update(invoice=invoice)


@transaction.atomic
def invoice_lock(*, invoice, export_id):
    """MEG exported the entry: refuse every later edit. Locking again keeps the first export."""
    invoice = _for_update(invoice)
    if not invoice.is_locked:
        invoice.export_id, invoice.locked_at = export_id, timezone.now()
        _validated_save(invoice)
    return invoice


@transaction.atomic
def invoices_lock(*, invoice_ids, export_id):
    """MEG exported a batch of entries: lock their invoices in one go (DESIGN §5.2). Locking
    again keeps the first export; ids ProGBat does not know are answered, not refused.
    Returns ``{"locked", "already_locked", "unknown"}``, each in the order asked."""
    wanted = list(dict.fromkeys(invoice_ids))
    found = dict(Invoice.objects.select_for_update().filter(pk__in=wanted)
                 .values_list("pk", "locked_at"))
    to_lock = [invoice_id for invoice_id in wanted
               if invoice_id in found and found[invoice_id] is None]
    Invoice.objects.filter(pk__in=to_lock).update(export_id=export_id, locked_at=timezone.now())
    return {"locked": to_lock,
            "already_locked": [i for i in wanted if i in found and found[i] is not None],
            "unknown": [i for i in wanted if i not in found]}
