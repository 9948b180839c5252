"""A large export locks its invoices at ProGBat in batches (DESIGN §5.2, ``POST
/api/v1/invoices/lock``): against the live sandbox, through the outbox, one relay task."""

import datetime
import json

import pytest

from accounting.services.exports import export_request
from partners.common.models import OutboxMessage, PartnerConnection
from partners.progbat import extensions
from partners.progbat.models import ProgbatLink
from partners.progbat.services import fresh_access_token
from tests import factories
from tests.accounting.conftest import invoice_event, signed_headers
from tests.conftest import client_for
from tests.integration.conftest import connect_progbat
from tests.integration.workers import ProgbatApi

pytestmark = pytest.mark.integration

ACCOUNT = "acc_demo_dupont"  # seeded in the sandbox: SIREN 900000019
DAY = datetime.date(2026, 6, 10)


@pytest.fixture
def dupont(progbat, firm, accountant, prescripteur):
    """Dupont's company in MEG, linked to its sandbox account, the accountant connected."""
    connect_progbat(client_for(accountant))
    company = factories.CompanyFactory(firm=firm, name="Dupont Bâtiment",
                                       siret="90000001900019")
    at = datetime.datetime(2026, 6, 1, 8, tzinfo=datetime.UTC)
    ProgbatLink.objects.create(firm=firm, company=company, status="active", activated_at=at,
                               activated_by=accountant, consented_at=at,
                               progbat_account_id=ACCOUNT, linked_at=at, plan="premium",
                               licence_status="licensed")
    return company


def test_a_large_export_locks_its_invoices_in_batches(dupont, accountant, progbat, client,
                                                      monkeypatch,
                                                      django_capture_on_commit_callbacks):
    monkeypatch.setattr(extensions, "LOCK_ONE_BY_ONE_MAX", 2)
    monkeypatch.setattr(extensions, "LOCK_BATCH_MAX", 2)
    connection = PartnerConnection.objects.get(user=accountant)
    api = ProgbatApi(progbat.url, fresh_access_token(connection.pk))
    invoices = [api.validated_invoice(ACCOUNT, number=f"LOT{n}", date=DAY)["id"]
                for n in range(1, 5)]
    refs = [*invoices, "inv_gone_at_progbat"]
    for ref in refs:  # their entries in MEG (the sandbox's own webhooks go nowhere here)
        body = json.dumps(invoice_event(dupont, invoice_id=ref, account_id=ACCOUNT,
                                        date=DAY.isoformat()))
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post("/partners/progbat/webhooks/", data=body,
                                 content_type="application/json", **signed_headers(body))
        assert answer.status_code == 202, answer.content

    with django_capture_on_commit_callbacks(execute=True):
        batch = export_request(company=dupont, actor=accountant, format="fec",
                               journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                               date_to=datetime.date(2026, 12, 31))

    # (the pièce fetches of the journalised entries are messages too: left out here)
    locks = list(OutboxMessage.objects.filter(company=dupont, action__startswith="progbat.lock")
                 .order_by("id"))
    assert [m.action for m in locks] == ["progbat.lock_invoices"] * 3
    assert sorted(ref for m in locks for ref in m.payload["invoice_ids"]) == sorted(refs)
    assert {m.payload["export_id"] for m in locks} == {str(batch.pk)}
    assert [m.status for m in locks] == ["sent"] * 3, [m.last_error for m in locks]
    assert sum(m.result["locked"] for m in locks) == 4
    assert [ref for m in locks for ref in m.result["unknown"]] == ["inv_gone_at_progbat"]
    for invoice_id in invoices:
        at_progbat = api.call("GET", f"/invoices/{invoice_id}").json()
        assert (at_progbat["locked"], at_progbat["export_id"]) == (True, str(batch.pk))

    # Delivered again (a retried task): ProGBat keeps the first export, nothing fails.
    again = extensions.lock_invoices(locks[0])
    assert (again["locked"], again["already_locked"]) == (0, 2)


def test_a_small_export_locks_invoice_by_invoice(dupont, accountant, progbat, client,
                                                 django_capture_on_commit_callbacks):
    connection = PartnerConnection.objects.get(user=accountant)
    api = ProgbatApi(progbat.url, fresh_access_token(connection.pk))
    invoice_id = api.validated_invoice(ACCOUNT, number="SEUL", date=DAY)["id"]
    body = json.dumps(invoice_event(dupont, invoice_id=invoice_id, account_id=ACCOUNT,
                                    date=DAY.isoformat()))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/partners/progbat/webhooks/", data=body, content_type="application/json",
                    **signed_headers(body))
    with django_capture_on_commit_callbacks(execute=True):
        batch = export_request(company=dupont, actor=accountant, format="fec",
                               journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                               date_to=datetime.date(2026, 12, 31))
    lock = OutboxMessage.objects.get(company=dupont, action__startswith="progbat.lock")
    assert (lock.action, lock.status, lock.payload) == (
        "progbat.lock_invoice", "sent", {"invoice_id": invoice_id, "export_id": str(batch.pk)})
    assert api.call("GET", f"/invoices/{invoice_id}").json()["locked"] is True
