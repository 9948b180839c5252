"""What became of the payments Libeo scheduled: MEG asks Libeo (``GET /api/v1/payments/{id}``,
beat) and reports paid / failed / cancelled to purchases through ``payment_settle``.

Each scheduled payment has a ``LibeoPaymentPoll`` row: checked 5 s after it was scheduled, then
twice as late each time up to one hour (±20 %), and again soon once its execution date has come
(when the money is due to leave). A check that got no answer (Libeo down, 5xx, 429) is retried
like an outbox call (1, 2, 4, 8 s… ±20 %, never before Libeo's ``Retry-After``): a passing
fault does not push the news back by a doubled interval. A run claims due rows (``SKIP
LOCKED``, pushed forward for ``CLAIM_SECONDS``), so that overlapping runs never check one
payment twice at once.
"""

import datetime
import logging
import random
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from partners.common.exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable
from partners.common.outbox import backoff
from purchases.models import Payment
from purchases.providers import PaymentResult
from purchases.services import payment_note, payment_settle

from . import client
from .models import LibeoPaymentPoll
from .services import connection_of

logger = logging.getLogger(__name__)
FIRST_CHECK_SECONDS = 5
MAX_CHECK_SECONDS = 3600
JITTER = 0.2
CLAIM_SECONDS = 120
BATCH = 20
RUN_BUDGET_SECONDS = 20
SETTLED = {
    "paid": Payment.Status.PAID,
    "failed": Payment.Status.FAILED,
    "cancelled": Payment.Status.CANCELLED,
}


def check_delay(checks):
    """Seconds before the next look at a payment already checked ``checks`` times."""
    base = min(FIRST_CHECK_SECONDS * 2 ** checks, MAX_CHECK_SECONDS)
    return base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 (spreading, not secrets)


def execution_moment(payment):
    """The start of the payment's execution date, Paris time: when the money may leave."""
    return timezone.make_aware(datetime.datetime.combine(payment.execution_date, datetime.time()))


def _next_check_at(now, checks, due):
    at = now + datetime.timedelta(seconds=check_delay(checks))
    return due if now < due < at else at


NOT_FOLLOWED = "libeo_not_followed"


def libeo_payment_follow(*, payment, connection):
    """Start following a payment Libeo has just scheduled on ``connection``'s account (in the
    transaction that records it): the account and its key are kept with it."""
    now = timezone.now()
    LibeoPaymentPoll.objects.update_or_create(payment=payment, defaults={
        "firm_id": payment.firm_id, "libeo_payment_id": payment.provider_payment_id,
        "account_id": connection.account_id, "account_name": connection.libeo_company_name,
        "api_key": connection.api_key, "key_last4": connection.key_last4,
        "checks": 0, "last_error": "", "next_check_at": _next_check_at(
            now, 0, execution_moment(payment))})


def _key_for(poll, connection):
    """``(key, is the company's current key)`` to ask Libeo about the payment: the company's
    key when it opens the account the payment was made on; else the key kept with the payment
    (a key of another account was pasted since); else, when an account is not known, the
    company's key. ``(None, False)``: MEG has no key of that account any more (nor any key at
    all when Libeo was disconnected from the company: kept keys are never used then)."""
    if connection is None:
        return None, False
    if connection.account_id and connection.account_id == poll.account_id:
        return connection.api_key, True
    if poll.api_key:
        return poll.api_key, False
    if not (connection.account_id and poll.account_id):
        return connection.api_key, True
    return None, False


def _account(poll):
    name = poll.account_name or poll.account_id or _("inconnu")
    return f"« {name} »" + (f" (clé …{poll.key_last4})" if poll.key_last4 else "")


def libeo_payments_poll(*, batch=BATCH, budget_seconds=RUN_BUDGET_SECONDS):
    """Check the payments that are due for it, batch after batch, for at most
    ``budget_seconds``; returns how many were checked."""
    started = time.monotonic()
    checked = 0
    with scopes_disabled():
        while time.monotonic() - started < budget_seconds:
            ids = _claim(batch)
            if not ids:
                break
            for index, poll_id in enumerate(ids):
                if time.monotonic() - started >= budget_seconds:
                    # Out of time: give the rest back to the next run now.
                    LibeoPaymentPoll.objects.filter(pk__in=ids[index:]).update(
                        next_check_at=timezone.now())
                    return checked
                _check_safely(poll_id)
                checked += 1
    return checked


def _claim(batch):
    now = timezone.now()
    with transaction.atomic():
        ids = list(LibeoPaymentPoll.objects.filter(next_check_at__lte=now)
                   .order_by("next_check_at", "id").select_for_update(skip_locked=True)
                   .values_list("pk", flat=True)[:batch])
        LibeoPaymentPoll.objects.filter(pk__in=ids).update(
            next_check_at=now + datetime.timedelta(seconds=CLAIM_SECONDS))
    return ids


def _check_safely(poll_id):
    """One payment; a bug on one never stops the others (it is tried again later)."""
    try:
        _check(poll_id)
    except Exception as error:
        logger.exception("libeo poll %s: check failed", poll_id)
        poll = LibeoPaymentPoll.objects.select_related("payment").filter(pk=poll_id).first()
        if poll is not None:
            _later(poll, error=f"{type(error).__name__}: {error}")


def _check(poll_id):
    poll = (LibeoPaymentPoll.objects.select_related("payment__company")
            .filter(pk=poll_id).first())
    if poll is None:
        return
    if poll.payment.status != Payment.Status.SCHEDULED:  # settled some other way
        poll.delete()
        return
    api_key, current = _key_for(poll, connection_of(poll.payment.company))
    if api_key is None:
        _stop(poll, _(
            "MEG ne suit plus ce paiement : la clé Libeo du compte %(account)s, sur lequel il "
            "a été programmé, a été retirée de MEG. Vérifiez dans ce compte Libeo s'il a été "
            "exécuté, ou collez de nouveau une clé de ce compte dans les options Achats pour "
            "reprendre le suivi.") % {"account": _account(poll)})
        return
    try:
        state = client.payment_status(api_key, poll.libeo_payment_id)
    except PartnerUnavailable as error:
        _retry(poll, error=_("Libeo ne répond pas (%(error)s).") % {"error": error},
               retry_after=error.retry_after)
        return
    except PartnerUnauthorized:
        if current:  # the company's key: the administrator is asked to replace it
            _later(poll, error=_("Libeo refuse la clé d'API de l'entreprise."))
            return
        _stop(poll, _(
            "MEG ne peut plus suivre ce paiement : Libeo refuse la clé du compte %(account)s, "
            "sur lequel il a été programmé (une clé d'un autre compte a été collée depuis). "
            "Vérifiez dans ce compte Libeo s'il a été exécuté, ou collez une clé valide de ce "
            "compte dans les options Achats pour reprendre le suivi.")
            % {"account": _account(poll)}, forget_key=True)
        return
    except PartnerRejected as error:
        if error.code == "payment_not_found":
            _stop(poll, _(
                "Libeo ne trouve pas ce paiement sur le compte %(account)s, où il a été "
                "programmé. Vérifiez dans Libeo s'il a été exécuté.")
                % {"account": _account(poll)})
            return
        _later(poll, error=error.detail or error.code)
        return
    _apply(poll, state)


@transaction.atomic
def _stop(poll, reason, *, forget_key=False):
    """No key can ask Libeo about the payment: stop following it (instead of asking in vain
    forever) and tell the user why, on the payment; a key of its account resumes it."""
    LibeoPaymentPoll.objects.filter(pk=poll.pk).update(
        next_check_at=None, last_checked_at=timezone.now(), last_error=str(reason)[:300],
        failures=0, **({"api_key": "", "key_last4": ""} if forget_key else {}))
    payment_note(payment=poll.payment, error_code=NOT_FOLLOWED, error_detail=str(reason))


@transaction.atomic
def _apply(poll, state):
    poll = (LibeoPaymentPoll.objects.select_for_update().select_related("payment")
            .filter(pk=poll.pk).first())
    if poll is None:
        return
    status = SETTLED.get(state.status)
    if status is None:
        error = "" if state.status == "scheduled" else f"État inconnu : {state.status}"
        _later(poll, error=error)
        return
    if poll.payment.status == Payment.Status.SCHEDULED:
        reason = state.failure_reason or (
            _("Paiement annulé dans Libeo.") if status == Payment.Status.CANCELLED
            else _("Libeo n'a pas pu effectuer le virement."))
        try:
            payment_settle(payment=poll.payment, result=PaymentResult(
                status=status, provider_payment_id=state.id or poll.libeo_payment_id,
                executed_at=state.executed_at if status == Payment.Status.PAID else None,
                error_code="" if status == Payment.Status.PAID else f"libeo_{state.status}",
                error_detail="" if status == Payment.Status.PAID else reason))
        except ValidationError:  # settled meanwhile: its state stands
            logger.info("libeo poll %s: payment %s already settled", poll.pk, poll.payment_id)
    poll.delete()


def _later(poll, *, error=""):
    """Not settled yet (or Libeo refused to say): look again later, less often each time, and
    soon again once the execution date has come."""
    now = timezone.now()
    due = execution_moment(poll.payment)
    crossed = poll.last_checked_at is not None and poll.last_checked_at < due <= now
    checks = 1 if crossed else poll.checks + 1
    LibeoPaymentPoll.objects.filter(pk=poll.pk).update(
        checks=checks, failures=0, last_checked_at=now, last_error=str(error)[:300],
        next_check_at=_next_check_at(now, checks, due))


def _retry(poll, *, error, retry_after=None):
    """No answer: ask again as the outbox would retry a call."""
    now = timezone.now()
    failures = min(poll.failures + 1, 100)
    retry_at = now + datetime.timedelta(seconds=backoff(failures, retry_after=retry_after))
    LibeoPaymentPoll.objects.filter(pk=poll.pk).update(
        failures=failures, last_checked_at=now, last_error=str(error)[:300],
        next_check_at=retry_at)
