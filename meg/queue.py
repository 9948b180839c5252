"""Queueing Celery tasks after commit without ever failing the user's request.

The intent is already stored (inbox, outbox, export row) when this runs; if the broker is down
the task is simply not queued now, and a periodic sweeper queues it later.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args):
    try:
        task.apply_async(args, retry=False)
    except Exception:
        logger.warning("%s not queued (broker unavailable); its sweeper will queue it",
                       task.name)


def enqueue_on_commit(task, *args):
    transaction.on_commit(lambda: enqueue(task, *args))
