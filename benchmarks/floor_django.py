"""The ``ingest`` benchmark's second floor: MEG's own Django settings and middleware, one view
that only verifies the Standard Webhooks signature and answers 202 (no database, no broker).

Served as ``DJANGO_SETTINGS_MODULE=benchmarks.floor_django gunicorn meg.wsgi:application``: the
same stack a webhook crosses in MEG (its view is a ``machine_endpoint`` too, as MEG's is: see
``meg.lean``), minus what MEG's view does after the signature. Between
the bare WSGI floor (``benchmarks.floor_wsgi``) and MEG, it shows which share of the cost is
Django's request handling and which is the receiver's own work.
"""

from django.conf import settings
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from meg.lean import machine_endpoint
from meg.settings import *  # noqa: F403

ROOT_URLCONF = __name__


@machine_endpoint
@csrf_exempt
def webhook(request):
    if request.method != "POST":
        return JsonResponse({}, status=405)
    try:
        Webhook(settings.PROGBAT_WEBHOOK_SECRET).verify(request.body, dict(request.headers),
                                                         json_parse=False)
    except (WebhookVerificationError, ValueError):
        return JsonResponse({"error": "invalid_signature"}, status=401)
    return JsonResponse({"status": "queued"}, status=202)


urlpatterns = [path("partners/progbat/webhooks/", webhook)]
