"""Celery tasks of the outbox: thin wrappers, safe to run twice."""

import time

from celery import shared_task

from .outbox import outbox_deliver_one, outbox_due_ids


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver(message_id):
    # A delay: a retry is due then, or another worker's lease runs out then (a redelivered
    # task whose first worker died mid-call comes back when the message is claimable).
    delay = outbox_deliver_one(message_id)
    # Eager mode (no broker) cannot wait: the periodic sweeper retries there instead.
    if delay is not None and not outbox_deliver.app.conf.task_always_eager:
        outbox_deliver.apply_async((message_id,), countdown=delay)


# A relay task hands what is left to a new one after this long, far from its time limits.
RELAY_BUDGET_SECONDS = 120


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver_all(message_ids):
    """Deliver messages one after the other (see ``outbox_enqueue_together``)."""
    eager = outbox_deliver_all.app.conf.task_always_eager
    deadline = time.monotonic() + RELAY_BUDGET_SECONDS
    for index, message_id in enumerate(message_ids):
        if time.monotonic() > deadline and not eager:
            outbox_deliver_all.delay(message_ids[index:])
            return
        delay = outbox_deliver_one(message_id)
        if delay is not None and not eager:
            outbox_deliver.apply_async((message_id,), countdown=delay)


@shared_task(ignore_result=True)
def outbox_sweep():
    """Periodic: re-queue messages left behind (broker down at commit, worker killed)."""
    for message_id in outbox_due_ids():
        outbox_deliver.delay(message_id)
