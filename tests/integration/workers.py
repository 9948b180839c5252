"""MEG's production shape as real processes for integration tests: gunicorn, Celery, Redis.

Each child runs in its own session (process group): stopping it, or killing it with SIGKILL,
reaches whatever it forked. Their output goes to a log file that assertion messages quote.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.sandboxes import ROOT, SANDBOX_PASSWORD, free_port, progbat_login, query_of

BIN = Path(sys.executable).parent  # the venv's bin/: gunicorn, celery


def wait_until(predicate, *, timeout, message, interval=0.2):
    """Poll ``predicate`` until it returns something truthy; return it, or fail with a reason.

    ``message`` may be a callable, evaluated only on failure (e.g. to quote a log)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s: "
                                 f"{message() if callable(message) else message}")
        time.sleep(interval)


class Child:
    """One child process in its own process group, its output in ``log_path``."""

    def __init__(self, name, command, *, env, log_path):
        self.name, self.command, self.log_path = name, command, Path(log_path)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines=40):
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(
            self.log().splitlines()[-lines:])

    def wait_log(self, pattern, *, timeout=60, after=0):
        """Wait until ``pattern`` (a regex) appears in the log past offset ``after``."""
        regex = re.compile(pattern)

        def seen():
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n"
                                     f"{self.tail()}")
            return regex.search(self.log()[after:])

        return wait_until(seen, timeout=timeout, message=lambda: f"{pattern!r} not logged:\n"
                                                                  f"{self.tail()}")

    def signal_group(self, sig):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self):
        """SIGKILL the whole group: no handler runs, nothing is acknowledged or rolled back
        by the child itself."""
        self.signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, *, grace=10.0):
        """SIGTERM, then SIGKILL whatever is left of the group after ``grace`` seconds."""
        try:
            if self.alive():
                self.signal_group(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=grace)
            self.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        finally:
            self._log.close()


class RedisServer:
    """A private ``redis-server`` on a free loopback port: stopping it disturbs nobody else.

    No persistence, as on the project's machines: what was queued is lost when it stops."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.port = free_port()
        self.child = None
        self.starts = 0

    def url(self, db):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db=0):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5)

    def ping(self):
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def start(self):
        self.starts += 1
        self.child = Child(
            "redis", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                      "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            env=dict(os.environ), log_path=self.directory / f"redis-{self.starts}.log")
        wait_until(self.ping, timeout=20, message=lambda: self.child.tail())

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None
        wait_until(lambda: not self.ping(), timeout=10, message="redis still answers")

    @property
    def running(self):
        return self.child is not None and self.child.alive()


def meg_env(*, database, broker, progbat_url, media_root):
    """The environment of MEG's processes: PostgreSQL (the test database), Redis as broker and
    cache (production shape), the sandbox as ProGBat, and a short Redis visibility timeout so
    that a message whose worker died unacknowledged is redelivered within the test."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_BROKER_URL": broker.url(0),
        "REDIS_URL": broker.url(1),
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "PROGBAT_BASE_URL": progbat_url,
        "MEG_MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "meg.settings",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def start_gunicorn(*, port, env, log_path, workers=4):
    web = Child("gunicorn", [str(BIN / "gunicorn"), "meg.wsgi:application",
                             "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                             "--access-logfile", "-", "--timeout", "60",
                             # not the shared default socket of every gunicorn of this user
                             "--no-control-socket"],
                env=env, log_path=log_path)
    url = f"http://127.0.0.1:{port}"

    def answers():
        if not web.alive():
            raise AssertionError(f"gunicorn exited:\n{web.tail()}")
        try:
            return requests.get(f"{url}/partners/progbat/webhooks/", timeout=2).status_code
        except requests.RequestException:
            return None

    wait_until(answers, timeout=60, message=lambda: web.tail())
    return web, url


def start_celery_worker(*, env, log_path):
    """``celery -A meg worker --pool solo``: one process, one task at a time."""
    worker = Child("celery-worker", [
        str(BIN / "celery"), "-A", "meg", "worker", "--pool", "solo", "--concurrency", "1",
        "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"meg-test-{uuid.uuid4().hex[:8]}@%h"], env=env, log_path=log_path)
    worker.wait_log(r"ready\.", timeout=60)
    return worker


def sandbox_token(sandbox_url, *, redirect_uri, username="cabinet-demo"):
    """An access token of the sandbox's API, as ProGBat's own users' tools would hold: the
    authorization-code flow with PKCE against the live sandbox (client ``meg-dev``)."""
    oauth = OAuth2Session(settings.PROGBAT_CLIENT_ID, settings.PROGBAT_CLIENT_SECRET,
                          redirect_uri=redirect_uri, code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_post")
    verifier = generate_token(64)
    url, state = oauth.create_authorization_url(f"{sandbox_url}/oauth/authorize",
                                                code_verifier=verifier)
    back = query_of(progbat_login(url, username=username, password=SANDBOX_PASSWORD))
    assert back.get("state") == state and back.get("code"), back
    token = oauth.fetch_token(f"{sandbox_url}/oauth/token", grant_type="authorization_code",
                              code=back["code"], code_verifier=verifier, timeout=30)
    return token["access_token"]


class ProgbatApi:
    """The sandbox's JSON API with a Bearer token: what a ProGBat user does to invoices."""

    def __init__(self, base_url, token):
        self.base_url = f"{base_url}/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, **kwargs):
        return self.session.request(method, f"{self.base_url}{path}", timeout=30, **kwargs)

    def create_invoice(self, account_id, *, number, date, amount="100.00"):
        response = self.call("POST", f"/accounts/{account_id}/invoices", json={
            "number": number, "date": date.isoformat(),
            "customer": {"name": "Durand", "account": "DURA"},
            "lines": [{"label": "Travaux", "amount_excl_tax": amount, "vat_rate": "20.00"}]})
        assert response.status_code == 201, response.text
        return response.json()

    def validate(self, invoice_id):
        response = self.call("POST", f"/invoices/{invoice_id}/validate")
        assert response.status_code == 200, response.text
        return response.json()

    def validated_invoice(self, account_id, *, number, date, amount="100.00"):
        invoice = self.create_invoice(account_id, number=number, date=date, amount=amount)
        return self.validate(invoice["id"])


def webhook_headers(body, *, msg_id=None, secret=None):
    """Standard Webhooks headers for ``body`` (str), as HTTP headers."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    now = timezone.now()
    signature = Webhook(secret or settings.PROGBAT_WEBHOOK_SECRET).sign(msg_id, now, body)
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
