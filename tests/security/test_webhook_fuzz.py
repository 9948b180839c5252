"""Finding 5: no correctly signed body makes the ProGBat webhook answer 5xx, and every body it
answers 202 ends journalised (``processed``). Bodies are generated from a fixed seed: a failure
names its case and can be replayed."""

import base64
import hashlib
import hmac
import json
import os
import random
import time
import uuid

from django.conf import settings
from standardwebhooks.webhooks import Webhook

from accounting.models import InboxEvent
from tests.accounting import conftest as accounting
from tests.accounting.conftest import invoice_event

linked_company = accounting.linked_company  # the fixture: a company linked to ProGBat

SEED = int(os.environ.get("MEG_FUZZ_SEED", "20261010"))
URL = "/partners/progbat/webhooks/"

HOSTILE = {
    "null": None, "zero": 0, "negative": -1, "float": 1.5, "true": True, "list": [],
    "list-of-junk": [None, 1, "x", {}], "dict": {}, "dict-of-junk": {"a": [1, {"b": None}]},
    "empty": "", "huge-string": "x" * 200_000, "nul": "\x00", "nul-inside": "A\x00B",
    "emoji": "😀" * 10, "rtl-and-separators": "\u202e\u2028\u2029", "lone-surrogate": "\ud800",
    "huge-int": 10**40, "int64": 2**63, "negative-huge-int": -(10**30), "exp": 1e308,
    "deep": json.loads("[" * 500 + "]" * 500), "number-string": "1E+30",
    "date-13": "2026-13-45", "datetime-13": "2026-13-45T25:61:61Z",
    "date-min": "0001-01-01", "date-max": "9999-12-31", "fullwidth-digits": "２０２６-０６-１０",
    "datetime-max-tz": "9999-12-31T23:59:59-14:00", "datetime-min-tz": "0001-01-01T00:00+14:00",
}


def signed(body: bytes, msg_id, *, age=0):
    """ProGBat's headers for raw bytes (standardwebhooks' ``sign`` only takes text)."""
    stamp = str(int(time.time()) - age)
    key = Webhook(settings.PROGBAT_WEBHOOK_SECRET)._whsecret
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": stamp,
            "HTTP_WEBHOOK_SIGNATURE": f"v1,{base64.b64encode(digest).decode()}"}


def paths(value, prefix=()):
    """Every path inside a JSON value (dict keys and list indexes), parents first."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*prefix, key)
        yield from paths(item, (*prefix, key))


def replaced(event, path, value):
    event = json.loads(json.dumps(event))
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


def random_json(rng, depth=0):
    kind = rng.choice(["null", "bool", "int", "float", "str", "list", "dict"]
                      if depth < 6 else ["null", "int", "str"])
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 2**31, 2**63, 10**40, rng.randint(-10**6, 10**6)])
    if kind == "float":
        return rng.choice([0.1, -1e300, 1e-300, rng.uniform(-1e6, 1e6)])
    if kind == "str":
        return "".join(rng.choice("aZ0 \x00\t😀é\u2028\"\\{") for _ in range(rng.randint(0, 30)))
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["type", "data", "invoice", "entry", "lines", "id", "version", "x"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def bodies(company):
    """``(case name, raw body)``: mutated valid events, random JSON, random bytes."""
    rng = random.Random(SEED)
    cases = []
    for index, (path, (name, value)) in enumerate(
            (path, hostile) for path in paths(invoice_event(company))
            for hostile in HOSTILE.items()):
        # One independent document per case (unless the case is about the id itself).
        event = invoice_event(company, invoice_id=f"fz_{index}", number=f"FZ{index}")
        cases.append((f"{'.'.join(map(str, path))}={name}",
                      json.dumps(replaced(event, path, value)).encode()))
    for index in range(60):
        shape = random_json(rng)
        if index % 2 and isinstance(shape, dict):
            shape["type"] = rng.choice(["invoice.validated", "invoice.updated"])
        cases.append((f"random-json-{index}", json.dumps(shape).encode()))
    for index in range(40):
        size = rng.choice([0, 1, 7, 100, 5000])
        cases.append((f"random-bytes-{index}", rng.randbytes(size)))
    for depth in (33, 500, 900, 950, 980, 990, 995, 999, 1000, 2000):  # around the C limit
        event = json.dumps(invoice_event(company, invoice_id=f"fz_deep_{depth}"))
        nested = '"DUPONT", "x": ' + "[" * depth + "]" * depth + "}"
        cases.append((f"nesting-{depth}-in-a-field",
                      event.replace('"DUPONT"}', nested, 1).encode()))
    cases.append(("deep-object-nesting", ('{"type": "invoice.validated", "data": '
                                          + '{"a": ' * 5000 + "1" + "}" * 5000 + "}").encode()))
    cases.append(("latin-1", "{\"type\": \"invoice.validated\", \"x\": \"é\"}".encode("latin-1")))
    cases.append(("utf-16", json.dumps(invoice_event(company, invoice_id="fz_u16"))
                  .encode("utf-16")))
    return cases


def test_no_signed_body_answers_5xx_and_every_202_is_journalised(
        linked_company, client, django_capture_on_commit_callbacks):
    client.raise_request_exception = False  # a 500 is a finding to list, not a stop
    cases = bodies(linked_company)
    assert len(cases) > 500
    answers, failures = {}, []
    for name, body in cases:
        msg_id = f"msg_{uuid.uuid4().hex}"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, data=body, content_type="application/json",
                                   **signed(body, msg_id))
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{name}: {response.status_code}")
        elif response.status_code == 202:
            status = InboxEvent.objects.get(webhook_id=msg_id).status
            if status != InboxEvent.Status.PROCESSED:
                failures.append(f"{name}: 202 but {status}")
        elif response.status_code == 401:
            failures.append(f"{name}: 401 although signed")
    assert not failures, "\n".join(failures)
    # The generator reaches every door, not only the first one.
    assert {200, 202, 400, 404, 422} <= set(answers), answers


def post_raw(client, body, headers):
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_signed_body_that_is_not_utf8_answers_400(linked_company, client):
    body = b'{"type": "invoice.validated", "x": "\xe9\xff"}'
    response = post_raw(client, body, signed(body, "msg_latin1"))
    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert not InboxEvent.objects.exists()


def test_body_that_is_not_utf8_with_a_wrong_signature_answers_401(linked_company, client):
    body = b'{"type": "invoice.validated", "x": "\xe9\xff"}'
    headers = signed(body + b" ", "msg_latin1")
    assert post_raw(client, body, headers).status_code == 401
    assert post_raw(client, body, signed(body, "msg_latin1", age=600)).status_code == 401
    assert post_raw(client, body, signed(body, "msg_latin1", age=-600)).status_code == 401
    no_id = {**signed(body, "msg_latin1"), "HTTP_WEBHOOK_ID": ""}
    assert post_raw(client, body, no_id).status_code == 401
    garbage = {**signed(body, "msg_latin1"), "HTTP_WEBHOOK_SIGNATURE": "v1,%%% v2 ,,"}
    assert post_raw(client, body, garbage).status_code == 401


def test_webhook_id_with_a_nul_answers_400(linked_company, client):
    body = json.dumps(invoice_event(linked_company)).encode()
    response = post_raw(client, body, signed(body, "msg_\x00"))
    assert response.status_code == 400
    assert "webhook-id" in response.json()["fields"]
