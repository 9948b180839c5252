"""The outbox relay: delivers ``OutboxMessage`` rows with retries and exponential backoff.

Partner apps register a handler per action: ``handler(message) -> dict`` that raises
``PartnerUnavailable`` (retried) or ``PartnerRejected`` (failed, reason kept) — or returns
normally when the partner has applied the call, including "already done". A handler whose
object is gone raises ``ObjectDoesNotExist``: the message is settled quietly ("sans objet").
Any other exception is a bug: the message fails with its reason and the give-up hook runs.

No lock on the message is held during the partner's call. A delivery is three steps:
1. claim: a short transaction takes a lease on the message (``sending`` until
   ``leased_until``, with a token); a worker killed mid-call leaves a lease that expires;
2. call: the handler runs in its own transaction, where it may lock its own rows (a
   payment); what it wrote before raising a ``PartnerError`` is kept, a bug rolls it back;
3. record: a short transaction writes the outcome, only if the lease is still this worker's.
Each attempt is kept as an ``OutboxAttempt`` row.
"""

import datetime
import logging
import math
import random
import time
import uuid
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from meg.queue import enqueue_on_commit

from .exceptions import PartnerRejected, PartnerUnavailable
from .http import recording_status
from .models import OutboxAttempt, OutboxMessage

logger = logging.getLogger(__name__)
HANDLERS = {}
GIVE_UP_HANDLERS = {}
# Retries (DESIGN §8): a partner's passing fault (one failed call in five, a lost answer) is
# retried fast — 1, 2, 4, 8, 8, 8 s — so that a payment is « programmé » within seconds; a
# partner still failing after that (an outage) is called less and less often — 30 s doubling
# to 10 min — and the message fails after MAX_ATTEMPTS, about an hour after it was first sent
# (≈ 31 s fast, then ≈ 55 min slow). Every delay is jittered by ±20 % so that the messages of
# one burst do not come back in lockstep, and is never shorter than the partner's own
# ``Retry-After`` (capped at MAX_RETRY_AFTER_SECONDS).
MAX_ATTEMPTS = 16
BASE_DELAY_SECONDS = 1
FAST_DELAY_CAP_SECONDS = 8
FAST_ATTEMPTS = 6
SLOW_BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 600
JITTER = 0.2
MAX_RETRY_AFTER_SECONDS = 3600
# A message lost by the broker at commit is swept once it is this old.
SWEEP_AFTER_SECONDS = 30

Status = OutboxMessage.Status
Outcome = OutboxAttempt.Outcome


def register_handler(action, handler, *, on_give_up=None):
    """``on_give_up(message)`` runs when the message fails without the handler having said
    why (retries exhausted, or a bug), so that the user-facing state (a payment "nouvel
    essai") does not wait forever; ``message.last_error`` holds the reason."""
    HANDLERS[action] = handler
    if on_give_up is not None:
        GIVE_UP_HANDLERS[action] = on_give_up


def backoff_base(attempts):
    """The delay before the next try after ``attempts`` failed ones, before jitter."""
    attempts = max(attempts, 1)
    if attempts <= FAST_ATTEMPTS:
        return min(BASE_DELAY_SECONDS * 2 ** (attempts - 1), FAST_DELAY_CAP_SECONDS)
    return min(SLOW_BASE_DELAY_SECONDS * 2 ** (attempts - FAST_ATTEMPTS - 1), MAX_DELAY_SECONDS)


def backoff(attempts, *, retry_after=None):
    """Seconds before the next try: ``backoff_base`` ±JITTER, and at least the partner's
    ``Retry-After`` when it gave one."""
    delay = backoff_base(attempts) * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return round(delay, 3)


def lease_seconds():
    """How long a worker may take to deliver a message before another may claim it."""
    return settings.OUTBOX_LEASE_SECONDS


def outbox_enqueue(messages):
    """Queue delivery of freshly written messages once their transaction commits (if the
    broker is down, the sweeper delivers them later)."""
    from .tasks import outbox_deliver

    for message in messages:
        enqueue_on_commit(outbox_deliver, message.pk)


def outbox_enqueue_together(message_ids):
    """Queue delivery of many freshly written messages (their ids) as one task once their
    transaction commits (an export's locks: one relay wake-up, not one task per message).
    Each message is still claimed, sent and recorded on its own; a retry is scheduled for it
    alone."""
    from .tasks import outbox_deliver_all

    if message_ids:
        enqueue_on_commit(outbox_deliver_all, list(message_ids))


def outbox_deliver_one(message_id):
    """Deliver one message. Returns the delay in seconds before the message should be looked
    at again (a retry, or another worker's lease running out), or None when nothing is left
    to do here (settled, or gone). A waiting message is delivered whatever its
    ``next_attempt_at``: the task's countdown schedules retries, the sweeper only queues due
    messages, and support's « Renvoyer maintenant » must not wait."""
    with scopes_disabled():
        claim = _claim(message_id)
        if claim is None:
            return _busy_delay(message_id)
        message, attempt = claim
        started = time.monotonic()
        outcome = _call(message)
        outcome.duration_ms = round((time.monotonic() - started) * 1000)
        return _record(message, attempt, outcome)


def outbox_due_ids(limit=500):
    """Messages that should be delivered now: new ones lost by the broker, due retries, and
    those whose worker died mid-call (lease expired)."""
    now = timezone.now()
    waiting = (Q(status__in=[Status.PENDING, Status.RETRYING],
                 created_at__lte=now - datetime.timedelta(seconds=SWEEP_AFTER_SECONDS))
               & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)))
    abandoned = Q(status=Status.SENDING, leased_until__lt=now)
    with scopes_disabled():
        return list(OutboxMessage.objects.filter(waiting | abandoned)
                    .values_list("pk", flat=True)[:limit])


@transaction.atomic
def outbox_retry_now(messages):
    """Support's « Renvoyer maintenant »: queue again the given messages that are neither
    settled nor being sent right now; returns how many."""
    from .tasks import outbox_deliver

    now = timezone.now()
    with scopes_disabled():
        ids = list(OutboxMessage.objects.filter(pk__in=[m.pk for m in messages])
                   .exclude(status__in=[Status.SENT, Status.SKIPPED])
                   .exclude(status=Status.SENDING, leased_until__gte=now)
                   .values_list("pk", flat=True))
        # Clearing the lease token: a late result of a worker presumed dead is ignored.
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=Status.RETRYING, next_attempt_at=None, lease_token="", leased_until=None)
    for message_id in ids:
        enqueue_on_commit(outbox_deliver, message_id)
    return len(ids)


@dataclass
class _Outcome:
    outcome: str
    error: str = ""
    result: dict = field(default_factory=dict)
    status_code: int | None = None
    give_up: bool = False  # a failure the handler did not explain: run the give-up hook
    duration_ms: int | None = None
    retry_after: float | None = None  # the partner's Retry-After, in seconds


def _claim(message_id):
    """Take the lease of a message waiting to be sent (or whose lease has expired); returns
    ``(message, attempt)``, or None when another worker has it or it is settled."""
    now = timezone.now()
    ready = Q(status__in=[Status.PENDING, Status.RETRYING]) | Q(status=Status.SENDING,
                                                                leased_until__lt=now)
    with transaction.atomic():
        claimed = OutboxMessage.objects.filter(ready, pk=message_id).update(
            status=Status.SENDING, lease_token=uuid.uuid4().hex, attempts=F("attempts") + 1,
            leased_until=now + datetime.timedelta(seconds=lease_seconds()))
        if not claimed:
            return None
        message = OutboxMessage.objects.get(pk=message_id)
        # A previous attempt still in flight lost its lease: its worker died or overran.
        OutboxAttempt.objects.filter(message=message, outcome=Outcome.IN_FLIGHT).update(
            outcome=Outcome.EXPIRED)
        attempt = OutboxAttempt.objects.create(
            firm_id=message.firm_id, company_id=message.company_id, message=message,
            number=message.attempts, started_at=now)
    return message, attempt


def _busy_delay(message_id):
    """Seconds until the lease of the worker sending the message runs out, or None."""
    leased_until = (OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING)
                    .values_list("leased_until", flat=True).first())
    if leased_until is None:
        return None
    return max(1, math.ceil((leased_until - timezone.now()).total_seconds()) + 1)


def _reason(error):
    return f"{type(error).__name__}: {error}"


def _call(message):
    """Run the handler in its own transaction; the outcome, never an exception."""
    result, refusal = {}, None
    with recording_status() as seen:
        try:
            with transaction.atomic():
                try:
                    result = HANDLERS[message.action](message) or {}
                except (PartnerUnavailable, PartnerRejected) as error:
                    # Leaving the block normally commits what the handler wrote before
                    # raising (a payment marked "nouvel essai", or failed with its reason).
                    refusal = error
        except SoftTimeLimitExceeded:
            return _Outcome(Outcome.RETRY, error="Délai de la tâche dépassé",
                            status_code=seen.last)
        except ObjectDoesNotExist as error:
            logger.info("outbox %s %s: its object is gone (%s)", message.action, message.pk,
                        error)
            return _Outcome(Outcome.SKIPPED, error=_reason(error), status_code=seen.last)
        except Exception as error:
            logger.exception("outbox %s %s: handler failed", message.action, message.pk)
            return _Outcome(Outcome.FAILED, error=_reason(error), status_code=seen.last,
                            result={"error": type(error).__name__}, give_up=True)
    if isinstance(refusal, PartnerUnavailable):
        wait = ("" if refusal.retry_after is None
                else f", Retry-After {refusal.retry_after:.0f} s")
        return _Outcome(Outcome.RETRY, error=f"Partenaire indisponible ({refusal}{wait})",
                        status_code=refusal.status_code or seen.last,
                        retry_after=refusal.retry_after)
    if isinstance(refusal, PartnerRejected):
        return _Outcome(Outcome.FAILED, error=refusal.detail or refusal.code,
                        result={"error": refusal.code},
                        status_code=refusal.status_code or seen.last)
    return _Outcome(Outcome.SENT, result=result, status_code=seen.last)


def _record(message, attempt, outcome):
    """Write the outcome if the lease is still ours; returns the delay before a retry."""
    now = timezone.now()
    with transaction.atomic():
        owned = (OutboxMessage.objects.select_for_update()
                 .filter(pk=message.pk, status=Status.SENDING, lease_token=message.lease_token)
                 .first())
        if owned is None:
            _record_late(message, attempt, outcome, now)
            return None
        message = owned
        delay = None
        if outcome.outcome == Outcome.RETRY and message.attempts >= MAX_ATTEMPTS:
            outcome.outcome, outcome.give_up = Outcome.FAILED, True
        if outcome.outcome == Outcome.RETRY:
            delay = backoff(message.attempts, retry_after=outcome.retry_after)
            message.status = Status.RETRYING
            message.next_attempt_at = now + datetime.timedelta(seconds=delay)
        else:
            message.status = {Outcome.SENT: Status.SENT, Outcome.SKIPPED: Status.SKIPPED,
                              Outcome.FAILED: Status.FAILED}[outcome.outcome]
            message.result = outcome.result
        if outcome.outcome == Outcome.SENT:
            message.sent_at = now
        message.last_error = outcome.error[:300]
        message.lease_token, message.leased_until = "", None
        message.save()
        if outcome.give_up:
            _give_up(message)
        OutboxAttempt.objects.filter(pk=attempt.pk).update(
            outcome=outcome.outcome, finished_at=now, duration_ms=outcome.duration_ms,
            status_code=outcome.status_code, error=outcome.error)
    return delay


def _record_late(message, attempt, outcome, now):
    """Our lease ran out and another worker took the message over: its outcome stands, this
    one is kept on our attempt only."""
    logger.warning("outbox %s %s: attempt %s finished after its lease expired (%s), ignored",
                   message.action, message.pk, attempt.number, outcome.outcome)
    note = f"Résultat arrivé après l'expiration de la réservation, ignoré : {outcome.outcome}"
    OutboxAttempt.objects.filter(pk=attempt.pk).update(
        outcome=Outcome.EXPIRED, finished_at=now, duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        error=f"{note} ({outcome.error})" if outcome.error else note)


def _give_up(message):
    """The give-up hook must not undo the message's outcome if it fails itself."""
    hook = GIVE_UP_HANDLERS.get(message.action)
    if hook is None:
        return
    try:
        with transaction.atomic():
            hook(message)
    except ObjectDoesNotExist:
        pass
    except Exception:
        logger.exception("outbox %s %s: give-up hook failed", message.action, message.pk)
