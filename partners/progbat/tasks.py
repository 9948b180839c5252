"""Celery tasks of the ProGBat integration: thin wrappers."""

from celery import shared_task

from . import notices


@shared_task(ignore_result=True)
def trials_remind():
    """Daily: J-14 and J-3 reminders before a ProGBat trial ends."""
    notices.trials_remind()
