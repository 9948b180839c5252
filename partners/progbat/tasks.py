"""Celery tasks of the ProGBat integration: thin wrappers."""

from celery import shared_task

from . import backfill, notices


@shared_task(ignore_result=True)
def trials_remind():
    """Daily: J-14 and J-3 reminders before a ProGBat trial ends."""
    notices.trials_remind()


@shared_task(ignore_result=True)
def progbat_backfill_run(backfill_id):
    """« Importer les factures antérieures », once confirmed: the invoices into the inbox."""
    backfill.progbat_backfill_run(backfill_id)


@shared_task(ignore_result=True)
def progbat_backfill_sweep():
    """Periodic: confirmed backfills whose task was never queued, or was lost, run again."""
    for backfill_id in backfill.backfills_left_queued():
        progbat_backfill_run.delay(backfill_id)
