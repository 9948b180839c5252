"""Writes of the sandbox: one atomic function per use case, shared by the API and the pages."""

import hashlib
import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum.fr import siren as siren_number

from sandboxes.common.errors import Refused
from sandboxes.common.formats import iso_utc, money

from .models import (
    API_KEY_PREFIX_CHARS,
    ApiKey,
    Company,
    ExchangeCode,
    Invoice,
    InvoiceVersion,
    Membership,
    Payment,
    Plan,
    secret_digest,
)

EXCHANGE_CODE_LIFETIME = timedelta(minutes=5)
PLAN_LIMIT_DETAIL = (
    "Limite de l'abonnement gratuit atteinte : 5 paiements par mois. Passez au plan "
    "Partnerships (9 €/mois, sans engagement) pour des paiements illimités.")


def month_start():
    """Midnight on the first day of the current month, Paris time (the plan's counting period)."""
    now = timezone.localtime()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def payments_this_month(company):
    return (Payment.objects.filter(company=company, created_at__gte=month_start())
            .exclude(status__in=Payment.RELEASED).count())


class SettleClock:
    """When scheduled payments leave by themselves: at their execution date, as at Libeo, or
    ``pay_after_seconds`` after they were made (fast mode, for tests and benchmarks:
    ``LIBEO_SANDBOX_PAY_AFTER_SECONDS``, or ``POST /_sandbox/clock``). One process, in memory."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.pay_after_seconds = settings.LIBEO_SANDBOX_PAY_AFTER_SECONDS

    def state(self, payment, now=None):
        return payment.state_at(now or timezone.now(),
                                pay_after_seconds=self.pay_after_seconds)


clock = SettleClock()


# ---- users and company accounts ------------------------------------------------------------

def user_for_email(email, *, first_name="", last_name="", password=None):
    """The Libeo login with that e-mail, created when missing (no password unless given)."""
    user = get_user_model().objects.filter(email__iexact=email).order_by("pk").first()
    if user is not None:
        return user
    user = get_user_model()(username=email.lower(), email=email.lower(),
                            first_name=first_name[:150], last_name=last_name[:150])
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def check_siren(siren):
    if not siren_number.is_valid(siren or ""):
        raise Refused("invalid_siren", f"« {siren} » n'est pas un SIREN valide (9 chiffres, "
                                       "clé de contrôle).")


@transaction.atomic
def company_create(*, siren, name, plan=Plan.FREE, origin, users=(), another_account=False):
    """A new company account with its users (at most one owner and one accountant);
    ``another_account``: beside the SIREN's existing one (tests of a key switched between two
    accounts of one company)."""
    check_siren(siren)
    existing = Company.objects.filter(siren=siren).first()
    if existing is not None and not another_account:
        raise Refused("company_exists",
                      f"Un compte Libeo existe déjà pour le SIREN {siren} : {existing.name}.")
    roles = [user["role"] for user in users]
    if any(roles.count(role) > 1 for role in Membership.Role.values):
        raise Refused("too_many_users", "Un compte Libeo comprend 1 utilisateur et 1 accès "
                                        "expert-comptable.")
    company = Company(siren=siren, name=name, plan=plan, origin=origin)
    company.full_clean()
    company.save()
    for entry in users:
        user = user_for_email(entry["email"], first_name=entry.get("first_name", ""),
                              last_name=entry.get("last_name", ""),
                              password=entry.get("password"))
        if Membership.objects.filter(company=company, user=user).exists():
            raise Refused("too_many_users", f"{user.email} ne peut avoir qu'un rôle par compte.")
        Membership.objects.create(company=company, user=user, role=entry["role"])
    return company


@transaction.atomic
def plan_switch(*, company, plan):
    """The upgrade to Partnerships (9 €/month, unlimited) or back to the free plan, simulated."""
    company.plan = plan
    company.save(update_fields=["plan"])
    return company


@transaction.atomic
def accountant_add(*, company, email):
    """Give the company's accountant access to the account (one accountant access per plan)."""
    current = (Membership.objects.select_related("user")
               .filter(company=company, role=Membership.Role.ACCOUNTANT).first())
    if current is not None:
        raise Refused("accountant_taken", (
            f"L'accès expert-comptable est déjà attribué à {current.user.email}. Retirez-le "
            "avant d'en inviter un autre (1 accès expert-comptable par compte)."))
    user = user_for_email(email)
    if Membership.objects.filter(company=company, user=user).exists():
        raise Refused("already_member", f"{user.email} est déjà utilisateur de ce compte.")
    return Membership.objects.create(company=company, user=user,
                                     role=Membership.Role.ACCOUNTANT)


@transaction.atomic
def accountant_remove(*, company):
    deleted, _ = Membership.objects.filter(company=company,
                                           role=Membership.Role.ACCOUNTANT).delete()
    return deleted


# ---- API keys and the exchange code of "Me connecter avec MEG" ------------------------------

def api_key_issue(*, company, origin, secret=None):
    """A new key for the company; the secret is returned once and only its digest is kept."""
    secret = secret or f"lk_{secrets.token_urlsafe(32)}"
    ApiKey.objects.create(company=company, digest=secret_digest(secret),
                          prefix=secret[:API_KEY_PREFIX_CHARS], origin=origin)
    return secret


@transaction.atomic
def api_key_revoke(*, api_key):
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@transaction.atomic
def meg_account_open(*, siren, name, email, first_name="", last_name="", accountant_email=""):
    """The account-creation step of "Me connecter avec MEG", for the user MEG vouched for.

    A new SIREN gets a free account with that user as owner (and the accountant, if given).
    A SIREN Libeo knows is connected only when that user is already one of its users.
    Returns ``(company, user, created)``.
    """
    company = Company.objects.filter(siren=siren).first()
    if company is not None:
        membership = (Membership.objects.select_related("user")
                      .filter(company=company, user__email__iexact=email).first())
        if membership is None:
            raise Refused("company_exists", (
                f"Un compte Libeo existe déjà pour {company.name} (SIREN {siren}) et "
                f"{email} n'en est pas utilisateur. Demandez à son utilisateur principal de "
                "copier la clé d'API depuis Libeo : Configuration → Intégrations → MEG → "
                "Se connecter."))
        return company, membership.user, False
    users = [{"email": email, "role": Membership.Role.OWNER, "first_name": first_name,
              "last_name": last_name}]
    if accountant_email and accountant_email.lower() != email.lower():
        users.append({"email": accountant_email, "role": Membership.Role.ACCOUNTANT})
    company = company_create(siren=siren, name=name, origin=Company.Origin.MEG, users=users)
    return company, user_for_email(email), True


def exchange_code_issue(*, company, user):
    code = secrets.token_urlsafe(32)
    ExchangeCode.objects.create(digest=secret_digest(code), company=company, user=user,
                                expires_at=timezone.now() + EXCHANGE_CODE_LIFETIME)
    return code


@transaction.atomic
def exchange_code_redeem(*, code):
    """Burn a one-time code and return a new API key for its company.

    The conditional update makes two concurrent redemptions impossible; the key is created
    only now, so no secret waits in the database for MEG to come and fetch it.
    """
    now = timezone.now()
    digest = secret_digest(code)
    claimed = ExchangeCode.objects.filter(digest=digest, used_at__isnull=True,
                                          expires_at__gt=now).update(used_at=now)
    if not claimed:
        raise Refused("invalid_code", "Code de connexion inconnu, déjà utilisé ou expiré "
                                      "(il est valable 5 minutes). Recommencez la connexion.")
    exchange = ExchangeCode.objects.select_related("company").get(digest=digest)
    return api_key_issue(company=exchange.company, origin=ApiKey.Origin.MEG)


# ---- invoices and payments ------------------------------------------------------------------

def _apply(invoice, data):
    invoice.supplier_name = data["supplier"]["name"]
    invoice.supplier_iban = data["supplier"]["iban"]
    for field in ("number", "issue_date", "due_date", "amount_excl_tax", "vat_amount",
                  "amount_incl_tax", "currency", "status"):
        setattr(invoice, field, data[field])


def invoice_upsert(*, company, external_id, data, body):
    """Create or update the invoice MEG identifies by ``external_id``; every call is a version.

    Returns ``(invoice, created)``. Two concurrent first sends meet the unique constraint:
    the loser retries as an update.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                invoice = (Invoice.objects.select_for_update()
                           .filter(company=company, external_id=external_id).first())
                created = invoice is None
                if created:
                    invoice = Invoice(company=company, external_id=external_id)
                _apply(invoice, data)
                invoice.versions += 1
                invoice.last_body = body
                invoice.save()
                InvoiceVersion.objects.create(invoice=invoice, version=invoice.versions,
                                              body=body)
                return invoice, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def payment_data(payment, *, now=None):
    status, executed_at = clock.state(payment, now)
    return {
        "id": payment.id,
        "status": status,
        "executed_at": iso_utc(executed_at),
        "failure_reason": payment.failure_reason or None,
        "invoice_external_id": payment.invoice.external_id,
        "amount": money(payment.amount),
        "execution_date": payment.execution_date.isoformat(),
    }


def _fingerprint(invoice_external_id, amount, execution_date):
    canonical = json.dumps({"invoice_external_id": invoice_external_id, "amount": money(amount),
                            "execution_date": execution_date.isoformat()}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(payment, fingerprint):
    if payment.request_fingerprint != fingerprint:
        raise Refused("idempotency_key_reused", (
            "Cette clé d'idempotence a déjà servi pour un autre paiement (corps différent). "
            "Utilisez une nouvelle clé pour un nouveau paiement."))
    return payment.response_body, False


def payment_create(*, company, idempotency_key, invoice_external_id, amount, execution_date):
    """Order a payment once per idempotency key; returns ``(answer body, created)``.

    A key already used with the same request returns the stored answer without paying again;
    with another request it is refused. Only successful payments are stored against their key:
    a refusal (unknown invoice, plan limit…) may be retried with the same key once its cause is
    gone. The company row is locked for the whole decision, so the monthly count and the
    invoice's balance cannot be read stale by a concurrent payment, and the unique constraint
    on the key settles any race that would still get through.
    """
    fingerprint = _fingerprint(invoice_external_id, amount, execution_date)
    try:
        with transaction.atomic():
            company = Company.objects.select_for_update().get(pk=company.pk)
            existing = (Payment.objects.select_related("invoice")
                        .filter(company=company, idempotency_key=idempotency_key).first())
            if existing is not None:
                return _replay(existing, fingerprint)
            invoice = Invoice.objects.filter(company=company,
                                             external_id=invoice_external_id).first()
            if invoice is None:
                raise Refused("invoice_not_found", (
                    f"Aucune facture « {invoice_external_id} » chez Libeo pour ce compte : "
                    "envoyez-la (PUT /api/v1/invoices/{external_id}) avant de la payer."))
            _check_balance(invoice, amount)
            limit = company.payments_limit
            if limit is not None and payments_this_month(company) >= limit:
                raise Refused("plan_limit_reached", PLAN_LIMIT_DETAIL)
            now = timezone.now()
            paid_now = execution_date <= timezone.localdate()
            payment = Payment(company=company, invoice=invoice, amount=amount,
                              execution_date=execution_date, created_at=now,
                              status=Payment.Status.PAID if paid_now else Payment.Status.SCHEDULED,
                              executed_at=now if paid_now else None,
                              idempotency_key=idempotency_key, request_fingerprint=fingerprint)
            # The first answer, replayed as is: a payment scheduled then is « scheduled » in it.
            payment.response_body = payment_data(payment, now=now)
            payment.save(force_insert=True)
            return payment.response_body, True
    except IntegrityError:
        existing = (Payment.objects.select_related("invoice")
                    .filter(company=company, idempotency_key=idempotency_key).first())
        if existing is None:
            raise
        return _replay(existing, fingerprint)


def _check_balance(invoice, amount):
    """Never pay an invoice twice: what is paid or scheduled counts against its total."""
    committed = sum(invoice.payments.exclude(status__in=Payment.RELEASED)
                    .values_list("amount", flat=True), start=0)
    balance = invoice.amount_incl_tax - committed
    if committed and balance <= 0:
        raise Refused("invoice_already_paid", (
            f"La facture {invoice.number} est déjà payée ou programmée chez Libeo "
            f"({money(committed)} €) : aucun second paiement."))
    if amount > balance:
        raise Refused("amount_exceeds_balance", (
            f"Le montant {money(amount)} € dépasse le reste à payer de la facture "
            f"{invoice.number} ({money(balance)} €)."))


DEFAULT_REASONS = {
    Payment.Status.FAILED: "Virement rejeté par la banque du fournisseur.",
    Payment.Status.CANCELLED: "Paiement annulé dans Libeo.",
}


@transaction.atomic
def payment_set_status(*, payment, status, failure_reason="", executed_at=None):
    """For tests: what the bank said about the transfer, or the user did in Libeo. ``paid``
    records when the money left (now unless given); ``failed`` and ``cancelled`` free the
    invoice again, with their reason."""
    payment.status = status
    payment.executed_at = ((executed_at or timezone.now()) if status == Payment.Status.PAID
                           else None)
    payment.failure_reason = (failure_reason or DEFAULT_REASONS.get(status, ""))[:300]
    payment.save(update_fields=["status", "executed_at", "failure_reason"])
    return payment
