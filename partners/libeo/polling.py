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
from purchases.services import payment_settle

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


def libeo_payment_follow(*, payment):
    """Start following a payment Libeo has just scheduled (in the transaction that records it)."""
    now = timezone.now()
    LibeoPaymentPoll.objects.update_or_create(payment=payment, defaults={
        "firm_id": payment.firm_id, "libeo_payment_id": payment.provider_payment_id,
        "checks": 0, "last_error": "", "next_check_at": _next_check_at(
            now, 0, execution_moment(payment))})


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
    connection = connection_of(poll.payment.company)
    if connection is None:
        _later(poll, error=_("Libeo n'est plus connecté à cette entreprise."))
        return
    try:
        state = client.payment_status(connection.api_key, poll.libeo_payment_id)
    except PartnerUnavailable as error:
        _retry(poll, error=_("Libeo ne répond pas (%(error)s).") % {"error": error},
               retry_after=error.retry_after)
        return
    except PartnerUnauthorized:
        _later(poll, error=_("Libeo refuse la clé d'API de l'entreprise."))
        return
    except PartnerRejected as error:
        _later(poll, error=error.detail or error.code)
        return
    _apply(poll, state)


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
