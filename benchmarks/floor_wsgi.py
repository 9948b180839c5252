"""The ``ingest`` benchmark's floor endpoint: verify the Standard Webhooks signature, answer 202.

No Django, no database, no broker: the least any webhook receiver must do, served by the same
gunicorn configuration as MEG so that the ratio of the two acceptance rates is fair. The secret
comes from ``PROGBAT_WEBHOOK_SECRET`` (the benchmark passes MEG's setting).

    gunicorn benchmarks.floor_wsgi:application
"""

import os

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = os.environ["PROGBAT_WEBHOOK_SECRET"]
ACCEPTED = b'{"status": "queued"}'
REFUSED = b'{"error": "invalid_signature"}'
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def application(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":
        start_response("405 Method Not Allowed", [("Content-Length", "0"), ("Allow", "POST")])
        return [b""]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {name: environ.get("HTTP_" + name.upper().replace("-", "_"), "")
               for name in HEADERS}
    try:
        Webhook(SECRET).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError):
        status, payload = "401 Unauthorized", REFUSED
    else:
        status, payload = "202 Accepted", ACCEPTED
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload)))])
    return [payload]
