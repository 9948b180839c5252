"""Celery tasks of Libeo: thin wrappers, safe to run twice (or at once)."""

from celery import shared_task

from .polling import libeo_payments_poll as poll_scheduled_payments


@shared_task(ignore_result=True)
def libeo_payments_poll():
    """Beat: ask Libeo what became of the payments it scheduled that are due for a check."""
    poll_scheduled_payments()
