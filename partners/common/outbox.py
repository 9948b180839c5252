"""The outbox relay: delivers ``OutboxMessage`` rows with retries and exponential backoff.

Partner apps register a handler per action: ``handler(message) -> dict`` that raises
``PartnerUnavailable`` (retried) or ``PartnerRejected`` (failed, reason kept) — or returns
normally when the partner has applied the call, including "already done".
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from meg.queue import enqueue_on_commit

from .exceptions import PartnerRejected, PartnerUnavailable
from .models import OutboxMessage

logger = logging.getLogger(__name__)
HANDLERS = {}
GIVE_UP_HANDLERS = {}
MAX_ATTEMPTS = 10
BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 3600


def register_handler(action, handler, *, on_give_up=None):
    """``on_give_up(message)`` runs when retries are exhausted, so that the user-facing state
    (a payment "nouvel essai") does not wait forever."""
    HANDLERS[action] = handler
    if on_give_up is not None:
        GIVE_UP_HANDLERS[action] = on_give_up


def backoff(attempts):
    return min(BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS)


def outbox_enqueue(messages):
    """Queue delivery of freshly written messages once their transaction commits (if the
    broker is down, the sweeper delivers them later)."""
    from .tasks import outbox_deliver

    for message in messages:
        enqueue_on_commit(outbox_deliver, message.pk)


def outbox_deliver_one(message_id):
    """Deliver one message; returns the delay before a retry, or None when settled."""
    with scopes_disabled(), transaction.atomic():
        message = (OutboxMessage.objects.select_for_update(skip_locked=True)
                   .filter(pk=message_id).first())
        if message is None or message.status in (OutboxMessage.Status.SENT,
                                                 OutboxMessage.Status.FAILED):
            return None  # gone, settled, or being delivered by another worker right now
        message.attempts += 1
        try:
            message.result = HANDLERS[message.action](message) or {}
        except PartnerUnavailable as error:
            delay = backoff(message.attempts)
            message.last_error = f"Partenaire indisponible ({error})"[:300]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
                delay = None
                if message.action in GIVE_UP_HANDLERS:
                    GIVE_UP_HANDLERS[message.action](message)
            else:
                message.status = OutboxMessage.Status.RETRYING
                message.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
            message.save()
            return delay
        except PartnerRejected as error:
            message.status = OutboxMessage.Status.FAILED
            message.last_error = (error.detail or error.code)[:300]
            message.result = {"error": error.code}
            message.save()
            return None
        message.status = OutboxMessage.Status.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save()
        return None


def outbox_due_ids(limit=500):
    """Messages that should be delivered now (new ones lost by the broker, or due retries)."""
    now = timezone.now()
    with scopes_disabled():
        return list(OutboxMessage.objects.filter(
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.RETRYING])
            .exclude(next_attempt_at__gt=now)
            .filter(created_at__lte=now - datetime.timedelta(seconds=30))
            .values_list("pk", flat=True)[:limit])
