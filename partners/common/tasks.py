"""Celery tasks of the outbox: thin wrappers, safe to run twice."""

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


@shared_task(ignore_result=True)
def outbox_sweep():
    """Periodic: re-queue messages left behind (broker down at commit, worker killed)."""
    for message_id in outbox_due_ids():
        outbox_deliver.delay(message_id)
