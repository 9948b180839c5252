"""Celery tasks of accounting: thin wrappers, safe to run twice."""

from celery import shared_task

from .services import exports, inbox, ingestion, integrity


@shared_task(acks_late=True, ignore_result=True)
def inbox_process():
    """Journalise waiting inbox events, batch after batch, until none is left."""
    inbox.inbox_wake_reset()  # before reading the inbox: what arrives now wakes a new task
    if ingestion.inbox_process(limit=ingestion.BATCH_SIZE) < ingestion.BATCH_SIZE:
        return
    # A backlog: one more task (through the gate, so never more than one waiting) lets an
    # idle worker help; it asks in turn when it finds a full batch.
    inbox.inbox_wake_help()
    while ingestion.inbox_process(limit=ingestion.BATCH_SIZE) == ingestion.BATCH_SIZE:
        pass


@shared_task(ignore_result=True)
def inbox_sweep():
    """Periodic: events left in the inbox (broker down at receipt, worker killed) get queued."""
    if ingestion.inbox_waiting_count(older_than_seconds=10):
        inbox_process.delay()


@shared_task(acks_late=True, ignore_result=True)
def export_run(batch_id):
    exports.export_run(batch_id)


@shared_task(ignore_result=True)
def export_sweep():
    """Periodic: exports whose task was never queued (broker down) are queued again."""
    for batch_id in exports.exports_left_pending():
        export_run.delay(batch_id)


@shared_task(ignore_result=True)
def journals_verify():
    """Nightly: ``verify_journals`` for every company; firm admins alerted on a failure."""
    integrity.integrity_check_all()
