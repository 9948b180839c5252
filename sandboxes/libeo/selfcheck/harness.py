"""What the checks stand on: the sandbox process, an API client, and ``check``."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

CLIENT_ID = "libeo-selfcheck"
CLIENT_SECRET = "libeo-selfcheck-secret"
PASSWORD = "libeo-demo-2026"
DEMO_KEY = "libeo_demo_dupont_0123456789abcdef"
MEG = "http://127.0.0.1:8000"
REPO_ROOT = Path(__file__).resolve().parents[3]
IBAN = "FR7630006000011234567890189"


class CheckFailed(Exception):
    pass


def check(condition, what, details=None):
    if not condition:
        raise CheckFailed(f"{what}{f' — got {details!r}' if details is not None else ''}")
    print(f"ok    {what}", flush=True)


class Session(requests.Session):
    """A requests session that never waits forever."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(*args, **kwargs)


def api_session(key):
    api = Session()
    api.headers["Authorization"] = f"Bearer {key}"
    return api


def invoice_body(**changes):
    body = {"supplier": {"name": "Point P", "iban": "FR76 3000 6000 0112 3456 7890 189"},
            "number": "FA-2026-001", "issue_date": "2026-06-01", "due_date": "2026-07-01",
            "amount_excl_tax": "100.00", "vat_amount": "20.00", "amount_incl_tax": "120.00",
            "currency": "EUR", "status": "a_payer"}
    body.update(changes)
    return body


def login(base, username, password=PASSWORD):
    """A browser session logged into Libeo's pages."""
    browser = Session()
    browser.get(f"{base}/")
    response = browser.post(f"{base}/", data={
        "username": username, "password": password,
        "csrfmiddlewaretoken": browser.cookies["libeo_csrftoken"]}, allow_redirects=False)
    if response.status_code != 302:
        raise CheckFailed(f"login as {username} failed ({response.status_code})")
    return browser


def csrf(browser):
    return browser.cookies["libeo_csrftoken"]


def elapsed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@contextmanager
def sandbox(database, *, control=True, issuer="http://127.0.0.1:9/o"):
    """Run ``python -m sandboxes.libeo --port 0`` and yield its base URL and log path."""
    env = {**os.environ, "LIBEO_SANDBOX_DB": str(database),
           "LIBEO_SANDBOX_CONTROL": "1" if control else "0",
           "MEG_OIDC_ISSUER": issuer, "MEG_OIDC_CLIENT_ID": CLIENT_ID,
           "MEG_OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "LIBEO_ALLOWED_RETURN_ORIGINS": f"{MEG} http://localhost:8000"}
    env.pop("MEG_OIDC_SCOPES", None)
    log = Path(str(database) + ".log")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandboxes.libeo", "--port", "0"], cwd=REPO_ROOT, env=env,
            stdout=subprocess.PIPE, stderr=log_file, text=True)
        try:
            ready = process.stdout.readline().strip()
            if not ready.startswith("Libeo sandbox ready on "):
                raise CheckFailed(f"sandbox did not start: {ready!r}\n{log.read_text()}")
            print(f"--    {ready}", flush=True)
            yield ready.removeprefix("Libeo sandbox ready on "), log
        finally:
            process.terminate()
            process.wait(timeout=10)
