"""What the ProGBat checks stand on besides ``sandboxes.common.selfcheck``: the sandbox run as
MEG's OAuth client and webhook receiver would configure it, and that receiver."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandboxes.common import selfcheck

CLIENT_ID = "meg-selfcheck"
CLIENT_SECRET = "meg-selfcheck-secret"
REDIRECT_URI = "http://127.0.0.1:8000/partners/progbat/oauth/callback/"
WEBHOOK_SECRET = "whsec_c2VsZmNoZWNrLXNlY3JldC1mb3ItcHJvZ2JhdC1zYW5kYm94"
PASSWORD = "progbat-demo-2026"


def wait_until(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    return predicate()


class WebhookReceiver:
    """Stands for MEG's webhook endpoint: records each request, answers the planned statuses."""

    def __init__(self):
        self.received, self.planned = [], []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    status = receiver.planned.pop(0) if receiver.planned else 202
                self.send_response(status)
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/partners/progbat/webhooks/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def plan(self, *statuses):
        with self.lock:
            self.planned.extend(statuses)

    def for_invoice(self, invoice_id, version):
        with self.lock:
            invoices = [(headers, body, json.loads(body)["data"].get("invoice"))
                        for headers, body in self.received]
            return [(headers, body) for headers, body, invoice in invoices
                    if invoice and invoice["id"] == invoice_id
                    and invoice["version"] == version]

    def for_account(self, event_type, account_id):
        with self.lock:
            return [(headers, body) for headers, body in self.received
                    if json.loads(body)["type"] == event_type
                    and json.loads(body)["data"]["account_id"] == account_id]


def sandbox(database, *, control=True, webhook_url="http://127.0.0.1:9/"):
    """The sandbox on ``database``, its controls on or off; yields its base URL."""
    return selfcheck.sandbox("progbat", database, {
        "PROGBAT_SANDBOX_CONTROL": "1" if control else "0",
        "PROGBAT_CLIENT_ID": CLIENT_ID, "PROGBAT_CLIENT_SECRET": CLIENT_SECRET,
        "PROGBAT_REDIRECT_URIS": REDIRECT_URI, "PROGBAT_WEBHOOK_URL": webhook_url,
        "PROGBAT_WEBHOOK_SECRET": WEBHOOK_SECRET, "PROGBAT_WEBHOOK_BACKOFF_SECONDS": "0.2"})
