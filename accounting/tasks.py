"""Celery tasks of accounting: thin wrappers, safe to run twice."""

from celery import shared_task

from .services import batch_exports, exports, inbox, ingestion, integrity, reminders


@shared_task(acks_late=True, ignore_result=True)
def inbox_process():
    """Journalise waiting inbox events, batch after batch, until none is left."""
    inbox.inbox_gather()
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


@shared_task(ignore_result=True)
def events_refused_notify():
    """Hourly: refused or ignored partner events, told once to the firm's admins."""
    reminders.events_refused_notify()


@shared_task(ignore_result=True)
def closing_reminders():
    """Daily: fiscal years left open three months after their closing date."""
    reminders.closing_reminders()


@shared_task(acks_late=True, ignore_result=True)
def batch_export_run(batch_id):
    """Month-end batch export: each company's export, then the ZIP (in several runs when the
    companies do not fit in one task's time)."""
    batch = batch_exports.batch_export_run(batch_id)
    if batch.status == batch.Status.RUNNING:
        batch_export_run.delay(batch_id)


@shared_task(ignore_result=True)
def batch_export_sweep():
    """Periodic: batch exports whose task was never queued (broker down) are queued again."""
    for batch_id in batch_exports.batch_exports_left_pending():
        batch_export_run.delay(batch_id)
