"""Celery tasks of notifications: thin wrappers, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5, ignore_result=True)
def notification_email(notification_id):
    services.notification_email(notification_id)


@shared_task(ignore_result=True)
def notifications_digest():
    services.notifications_digest()
