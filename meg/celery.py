"""The Celery application, configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meg.settings")

app = Celery("meg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_to_start_without_secrets(**kwargs):
    """Celery runs no system checks: a worker or beat with a missing or development secret
    does not start (see meg/checks.py)."""
    from django.core.exceptions import ImproperlyConfigured

    from meg.checks import refuse_to_start_without_secrets

    try:
        refuse_to_start_without_secrets()
    except ImproperlyConfigured as error:  # Celery would only log an exception from a signal
        raise SystemExit(str(error)) from error
