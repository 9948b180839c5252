"""What the Libeo checks stand on besides ``sandboxes.common.selfcheck``: the sandbox run as
MEG's OpenID client, API and browser sessions, and a valid invoice body."""

import time

from sandboxes.common import selfcheck
from sandboxes.common.selfcheck import CheckFailed, Session

CLIENT_ID = "libeo-selfcheck"
CLIENT_SECRET = "libeo-selfcheck-secret"
PASSWORD = "libeo-demo-2026"
DEMO_KEY = "libeo_demo_dupont_0123456789abcdef"
MEG = "http://127.0.0.1:8000"
IBAN = "FR7630006000011234567890189"


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


def sandbox(database, *, control=True, issuer="http://127.0.0.1:9/o"):
    """The sandbox on ``database`` with MEG's OpenID provider at ``issuer``, its controls on or
    off; yields its base URL."""
    return selfcheck.sandbox("libeo", database, {
        "LIBEO_SANDBOX_CONTROL": "1" if control else "0",
        "MEG_OIDC_ISSUER": issuer, "MEG_OIDC_CLIENT_ID": CLIENT_ID,
        "MEG_OIDC_CLIENT_SECRET": CLIENT_SECRET, "MEG_OIDC_SCOPES": None,
        "LIBEO_ALLOWED_RETURN_ORIGINS": f"{MEG} http://localhost:8000"})
