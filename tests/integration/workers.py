"""MEG's production shape as real processes for integration tests: gunicorn, Celery, Redis.

The processes are ``devtools.procs`` children: each in its own process group (stopping it, or
killing it with SIGKILL, reaches whatever it forked), its output in a log file that assertion
messages quote.
"""

import os
import uuid
from pathlib import Path

import redis
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from devtools import procs
from devtools.procs import Child, free_port, wait_until
from tests.sandboxes import SANDBOX_PASSWORD, progbat_login, query_of


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
    web = procs.start_gunicorn("meg.wsgi:application", port=port, env=env, log_path=log_path,
                               args=["--workers", str(workers), "--access-logfile", "-",
                                     "--timeout", "60"])
    return web, f"http://127.0.0.1:{port}"


def start_celery_worker(*, env, log_path):
    """``celery -A meg worker --pool solo``: one process, one task at a time."""
    return procs.start_celery_worker([
        "worker", "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"meg-test-{uuid.uuid4().hex[:8]}@%h"], env=env, log_path=log_path)


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
