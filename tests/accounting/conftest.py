import contextlib
import datetime
import json
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from partners.progbat.models import ProgbatLink

LINKED_AT = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def linked_company(company, accountant):
    ProgbatLink.objects.create(firm=company.firm, company=company, status="active",
                               activated_at=LINKED_AT, activated_by=accountant,
                               consented_at=LINKED_AT, progbat_account_id="acc_test",
                               linked_at=LINKED_AT, plan="premium", licence_status="licensed")
    return company


def invoice_event(company, *, invoice_id="inv_1", number="FAC001", version=1,
                  event_type="invoice.validated", validated_at="2026-06-10T09:30:00Z",
                  date="2026-06-10", ttc="120.00", ht="100.00", tva="20.00",
                  revenue_label="Prestations de services", account_id="acc_test"):
    """The guide's example: FAC001 for DUPONT, 120 / 100 / 20."""
    return {"type": event_type, "data": {
        "account_id": account_id, "siren": company.siret[:9],
        "invoice": {"id": invoice_id, "number": number, "version": version,
                    "validated_at": validated_at, "date": date,
                    "customer": {"name": "DUPONT", "account": "DUPO"},
                    "entry": {"label": f"{number} DUPONT", "lines": [
                        {"account": "411000", "aux_account": "DUPO", "aux_label": "DUPONT",
                         "debit": ttc, "credit": "0.00"},
                        {"account": "706000", "account_label": revenue_label,
                         "debit": "0.00", "credit": ht},
                        {"account": "445720", "debit": "0.00", "credit": tva}]}}}}


def signed_headers(body, *, msg_id=None, timestamp=None, secret=None):
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or timezone.now()
    signature = Webhook(secret or settings.PROGBAT_WEBHOOK_SECRET).sign(msg_id, timestamp, body)
    return {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": str(int(timestamp.timestamp())),
            "HTTP_WEBHOOK_SIGNATURE": signature}


@pytest.fixture
def post_webhook(client, django_capture_on_commit_callbacks):
    """POST a signed webhook; queued journalising runs on commit (eager Celery in tests)."""

    def post(payload, *, raw=None, headers=None, **sign):
        body = raw if raw is not None else json.dumps(payload)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/partners/progbat/webhooks/", data=body,
                               content_type="application/json",
                               **(headers if headers is not None else
                                  signed_headers(body, **sign)))

    return post


@contextlib.contextmanager
def tampering():
    """Raw SQL as someone with the database's superuser rights would run it: the triggers
    that keep final entries immutable are bypassed (``session_replication_role``)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
