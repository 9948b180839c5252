"""Invoice webhooks to MEG (DESIGN §5.3): the event body, its signature, and the delivery worker.

Events are rows written in the transaction of the change they report (an outbox); one
background thread posts the due rows and retries with exponential backoff until MEG answers
2xx (delivered) or 4xx (rejected, kept for inspection, never retried).
"""

import json
import logging
import threading
from datetime import timedelta

import requests
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from standardwebhooks import Webhook

from sandboxes.common.formats import money

from .formats import iso_utc
from .models import WebhookDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_DELAY_SECONDS = 60
TIMEOUT_SECONDS = 10
POLL_SECONDS = 0.5
RESPONSE_KEPT_CHARS = 2000

_wakeup = threading.Event()


def invoice_event(invoice, event_type):
    """The event body, with the entry computed from the account's settings in force now."""
    prefetch_related_objects([invoice], "lines")
    account = invoice.account
    excl_tax, vat = invoice.total_excl_tax, invoice.total_vat
    lines = [
        {"account": account.customer_account, "aux_account": invoice.customer_account,
         "aux_label": invoice.customer_name, "debit": money(excl_tax + vat), "credit": "0.00"},
        {"account": account.revenue_account, "account_label": account.revenue_account_label,
         "debit": "0.00", "credit": money(excl_tax)},
    ]
    if vat:
        lines.append({"account": account.vat_account, "debit": "0.00", "credit": money(vat)})
    return {
        "type": event_type,
        "data": {
            "account_id": account.id,
            "siren": account.siren,
            "invoice": {
                "id": invoice.id,
                "number": invoice.number,
                "version": invoice.version,
                "validated_at": iso_utc(invoice.validated_at),
                "date": invoice.date.isoformat(),
                "customer": {"name": invoice.customer_name, "account": invoice.customer_account},
                "entry": {"label": f"{invoice.number} {invoice.customer_name.upper()}",
                          "lines": lines},
            },
        },
    }


def delivery_enqueue(*, invoice, event_type):
    """Write the event in the caller's transaction; the worker is woken once it commits."""
    delivery = WebhookDelivery.objects.create(
        type=event_type, invoice=invoice, version=invoice.version,
        body=json.dumps(invoice_event(invoice, event_type)), next_attempt_at=timezone.now())
    transaction.on_commit(_wakeup.set)
    return delivery


def licence_event(account):
    """``account.licence_changed``: the licence state MEG shows follows without polling."""
    return {
        "type": "account.licence_changed",
        "data": {"account_id": account.id, "plan": account.plan,
                 "licence_status": account.licence_status,
                 "trial_ends_at": iso_utc(account.trial_ends_at) if account.trial_ends_at
                 else None},
    }


def account_delivery_enqueue(*, account):
    """An account event, written in the caller's transaction like an invoice event."""
    delivery = WebhookDelivery.objects.create(
        type="account.licence_changed", invoice=None, version=0,
        body=json.dumps(licence_event(account)), next_attempt_at=timezone.now())
    transaction.on_commit(_wakeup.set)
    return delivery


def signed_headers(webhook_id, sent_at, body):
    """Standard Webhooks headers; the timestamp is the attempt's, the id the event's."""
    return {
        "content-type": "application/json",
        "user-agent": "ProGBat-Sandbox-Webhooks/1.0",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(settings.PROGBAT_WEBHOOK_SECRET).sign(
            webhook_id, sent_at, body),
    }


def retry_delay(attempts):
    return min(settings.PROGBAT_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS)


def _next_state(attempts, status_code):
    """2xx: delivered; 4xx: MEG refused the event for good; anything else: retry, up to a cap."""
    status = WebhookDelivery.Status
    if status_code is not None and 200 <= status_code < 300:
        return {"status": status.DELIVERED, "finished_at": timezone.now()}
    if status_code is not None and 400 <= status_code < 500:
        return {"status": status.REJECTED, "finished_at": timezone.now()}
    if attempts >= MAX_ATTEMPTS:
        return {"status": status.FAILED, "finished_at": timezone.now()}
    return {"next_attempt_at": timezone.now() + timedelta(seconds=retry_delay(attempts))}


def delivery_attempt(delivery):
    """Post the event once and record the outcome on its row."""
    sent_at = timezone.now()
    try:
        response = requests.post(
            settings.PROGBAT_WEBHOOK_URL, data=delivery.body.encode(), timeout=TIMEOUT_SECONDS,
            headers=signed_headers(delivery.id, sent_at, delivery.body), allow_redirects=False)
    except requests.RequestException as exc:
        status_code, answer = None, f"{type(exc).__name__}: {exc}"
    else:
        status_code, answer = response.status_code, response.text
    attempts = delivery.attempts + 1
    outcome = {"attempts": attempts, "last_status": status_code,
               "last_response": answer[:RESPONSE_KEPT_CHARS], **_next_state(attempts, status_code)}
    # update(), not save(): a sandbox reset may have deleted the row meanwhile.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**outcome)
    logger.info("webhook %s %s v%s attempt %s → %s", delivery.id, delivery.type,
                delivery.version, attempts, status_code or answer)


def deliver_due():
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    due = pending.filter(next_attempt_at__lte=timezone.now()).order_by("next_attempt_at",
                                                                       "created_at")
    for delivery_id in list(due.values_list("pk", flat=True)):
        # Re-read each row just before posting: a reset may have removed it meanwhile.
        delivery = pending.filter(pk=delivery_id).first()
        if delivery is not None:
            delivery_attempt(delivery)


class DeliveryWorker(threading.Thread):
    """Delivers due webhooks, woken by each new event and polling for retries coming due."""

    def __init__(self):
        super().__init__(name="progbat-webhooks", daemon=True)

    def run(self):
        while True:
            _wakeup.wait(POLL_SECONDS)
            _wakeup.clear()
            try:
                deliver_due()
            except Exception:  # keep delivering after a failed round (e.g. a locked database)
                logger.exception("webhook delivery round failed")
            finally:
                close_old_connections()
