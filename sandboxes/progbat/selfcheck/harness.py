"""What the checks stand on: the sandbox process, a webhook receiver, and ``check``."""

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

CLIENT_ID = "meg-selfcheck"
CLIENT_SECRET = "meg-selfcheck-secret"
REDIRECT_URI = "http://127.0.0.1:8000/partners/progbat/oauth/callback/"
WEBHOOK_SECRET = "whsec_c2VsZmNoZWNrLXNlY3JldC1mb3ItcHJvZ2JhdC1zYW5kYm94"
PASSWORD = "progbat-demo-2026"
REPO_ROOT = Path(__file__).resolve().parents[3]


class CheckFailed(Exception):
    pass


def check(condition, what, details=None):
    if not condition:
        raise CheckFailed(f"{what}{f' — got {details!r}' if details is not None else ''}")
    print(f"ok    {what}", flush=True)


def wait_until(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    return predicate()


class Session(requests.Session):
    """A requests session that never waits forever."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(*args, **kwargs)


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
            return [(headers, body) for headers, body in self.received
                    if json.loads(body)["data"]["invoice"]["id"] == invoice_id
                    and json.loads(body)["data"]["invoice"]["version"] == version]


@contextmanager
def sandbox(database, *, control=True, webhook_url="http://127.0.0.1:9/"):
    """Run ``python -m sandboxes.progbat --port 0`` and yield its base URL and log path."""
    env = {**os.environ, "PROGBAT_SANDBOX_DB": str(database),
           "PROGBAT_SANDBOX_CONTROL": "1" if control else "0",
           "PROGBAT_CLIENT_ID": CLIENT_ID, "PROGBAT_CLIENT_SECRET": CLIENT_SECRET,
           "PROGBAT_REDIRECT_URIS": REDIRECT_URI, "PROGBAT_WEBHOOK_URL": webhook_url,
           "PROGBAT_WEBHOOK_SECRET": WEBHOOK_SECRET, "PROGBAT_WEBHOOK_BACKOFF_SECONDS": "0.2"}
    log = Path(str(database) + ".log")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandboxes.progbat", "--port", "0"], cwd=REPO_ROOT, env=env,
            stdout=subprocess.PIPE, stderr=log_file, text=True)
        try:
            ready = process.stdout.readline().strip()
            if not ready.startswith("ProGBat sandbox ready on "):
                raise CheckFailed(f"sandbox did not start: {ready!r}\n{log.read_text()}")
            print(f"--    {ready}", flush=True)
            yield ready.removeprefix("ProGBat sandbox ready on "), log
        finally:
            process.terminate()
            process.wait(timeout=10)
