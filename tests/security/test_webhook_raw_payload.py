"""The webhook stores the payload's JSON text as received (one round trip, h-perf-books) only
when PostgreSQL's jsonb can hold it: a NUL or UTF-16 surrogate escape takes the slow path
(``storable``: U+FFFD), and NaN / Infinity, which Python's parser takes and jsonb refuses, are
malformed (400, nothing stored), never a 500."""

import json

import pytest

from accounting.models import InboxEvent
from tests.accounting import conftest as accounting
from tests.accounting.conftest import invoice_event

linked_company = accounting.linked_company
post_webhook = accounting.post_webhook

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("note", "stored"), [
    ("\x00", "\ufffd"), ("A\x00B", "A\ufffdB"), ("\ud800", "\ufffd"), ("x\udfffy", "x\ufffdy"),
    ("😀", "😀"),  # escaped as a surrogate pair by json.dumps: kept
    ("\\u0000 as text", "\\u0000 as text"),  # a backslash, not an escape: kept as is
])
def test_unstorable_escapes_are_stored_as_replacement(linked_company, post_webhook, note,
                                                      stored):
    event = invoice_event(linked_company)
    event["data"]["note"] = note
    event["data"]["invoice"][note] = "key"
    response = post_webhook(event)
    assert response.status_code == 202, response.content
    payload = InboxEvent.objects.get().payload
    assert payload["data"]["note"] == stored
    assert payload["data"]["invoice"][stored] == "key"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_malformed(linked_company, post_webhook, constant):
    body = json.dumps(invoice_event(linked_company))[:-1] + f', "x": {constant}}}'
    response = post_webhook(None, raw=body)
    assert response.status_code == 400
    assert not InboxEvent.objects.exists()


def test_lean_path_still_under_the_site_guards(linked_company, client):
    """LeanPathMiddleware sits after the CSP and NUL guards: the webhook keeps them."""
    response = client.post("/partners/progbat/webhooks/?x=%00", data="{}",
                           content_type="application/json")
    assert response.status_code == 400
    response = client.post("/partners/progbat/webhooks/", data="{}",
                           content_type="application/json")
    assert response.status_code == 401
    assert "Content-Security-Policy" in response.headers
