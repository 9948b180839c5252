"""ProGBat's pièces (DESIGN §5.2 ``GET /api/v1/invoices/{id}/document``, §7.2): once an entry is
journalised, MEG fetches the invoice's PDF from the live sandbox through the outbox and attaches
it beside the entry; a new version fetches it again; a bad answer is refused with its reason,
and an exported entry's sealed content never changes."""

import datetime
import io
import json
import zipfile
from html import unescape

import pytest
from pypdf import PdfReader

from accounting.models import Entry, EntryDocument, ExportBatch
from accounting.services.exports import export_request
from accounting.services.ingestion import inbox_process
from accounting.services.integrity import company_problems
from partners.common.models import OutboxMessage, PartnerConnection
from partners.common.outbox import outbox_retry_now
from partners.progbat import documents
from partners.progbat.services import fresh_access_token
from tests.accounting.conftest import invoice_event, signed_headers
from tests.conftest import client_for
from tests.integration.test_progbat_batch_lock import ACCOUNT, DAY, dupont  # noqa: F401
from tests.integration.workers import ProgbatApi

pytestmark = pytest.mark.integration
FETCH = "progbat.fetch_documents"


@pytest.fixture
def sandbox_api(dupont, accountant, progbat):  # noqa: F811
    return ProgbatApi(progbat.url, fresh_access_token(
        PartnerConnection.objects.get(user=accountant).pk))


def deliver_webhook(client, company, capture, invoice, *, version=1, event="invoice.validated"):
    """What the sandbox sends for ``invoice`` (its own webhooks go nowhere in this test)."""
    body = json.dumps(invoice_event(company, invoice_id=invoice["id"], number=invoice["number"],
                                    version=version, event_type=event, account_id=ACCOUNT,
                                    date=DAY.isoformat()))
    with capture(execute=True):
        answer = client.post("/partners/progbat/webhooks/", data=body,
                             content_type="application/json", **signed_headers(body))
    assert answer.status_code == 202, answer.content


def fetches(company):
    return list(OutboxMessage.objects.filter(company=company, action=FETCH).order_by("id"))


def text_of(pdf):
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def piece_of(client, company, entry):
    response = client.get(f"/entreprise/{company.pk}/export-ecritures/ecritures/{entry.pk}/"
                          "piece.pdf")
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def test_a_journalised_invoice_gets_its_document_and_a_new_version_replaces_it(
        dupont, accountant, sandbox_api, client,  # noqa: F811
        django_capture_on_commit_callbacks):
    invoice = sandbox_api.validated_invoice(ACCOUNT, number="PJ1", date=DAY, amount="1000.00")
    deliver_webhook(client, dupont, django_capture_on_commit_callbacks, invoice)
    entry = Entry.objects.get(company=dupont, source_ref=invoice["id"])
    [message] = fetches(dupont)
    assert (message.status, message.last_error) == ("sent", "")
    assert message.payload == {"invoices": [[invoice["id"], 1]]}
    assert message.result == {"attached": 1, "skipped": 0}

    web = client_for(accountant)
    page = unescape(web.get(f"/entreprise/{dupont.pk}/export-ecritures/?journals=VT")
                    .content.decode())
    assert "Ouvrir la pièce PJ1 (PDF, nouvel onglet)" in page
    first = piece_of(web, dupont, entry)
    assert first.startswith(b"%PDF-")
    text = text_of(first)
    assert "Facture PJ1" in text and "Version 1" in text and "Durand" in text
    assert "1 200,00 €" in text  # TTC

    # A new version at ProGBat (an edit), journalised: its document replaces the first.
    edited = sandbox_api.call("PATCH", f"/invoices/{invoice['id']}", json={
        "lines": [{"label": "Travaux", "amount_excl_tax": "1500.00", "vat_rate": "20.00"}]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    deliver_webhook(client, dupont, django_capture_on_commit_callbacks, invoice, version=2,
                    event="invoice.updated")
    assert [(m.payload["invoices"], m.status) for m in fetches(dupont)] == [
        ([[invoice["id"], 1]], "sent"), ([[invoice["id"], 2]], "sent")]
    second = piece_of(web, dupont, Entry.objects.get(pk=entry.pk))
    assert "Version 2" in text_of(second) and "1 800,00 €" in text_of(second)
    document = EntryDocument.objects.get(company=dupont)
    assert (document.source_ref, document.source_version) == (invoice["id"], 2)

    # The old version's fetch delivered again (a retried task) never regresses the pièce.
    assert documents.fetch_documents(fetches(dupont)[0]) == {"attached": 0, "skipped": 1}
    assert "Version 2" in text_of(piece_of(web, dupont, entry))


def test_an_exported_entry_gets_its_document_without_changing_what_was_sealed(
        dupont, accountant, sandbox_api, client,  # noqa: F811
        django_capture_on_commit_callbacks, progbat):
    invoice = sandbox_api.validated_invoice(ACCOUNT, number="PJ2", date=DAY)
    progbat.control("faults", {"api": "500"})  # the fetch fails until ProGBat is back
    deliver_webhook(client, dupont, django_capture_on_commit_callbacks, invoice)
    [message] = fetches(dupont)
    assert message.status == "retrying" and "HTTP 500" in message.last_error
    assert not EntryDocument.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        batch = export_request(company=dupont, actor=accountant, format="fec",
                               journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                               date_to=datetime.date(2026, 12, 31))
    entry = Entry.objects.get(company=dupont)
    sealed = (entry.state, entry.chain_hash, entry.updated_at)
    assert entry.is_exported

    progbat.control("faults", {"api": None})
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry_now([message]) == 1
    message.refresh_from_db()
    assert message.status == "sent", message.last_error
    entry.refresh_from_db()
    assert (entry.state, entry.chain_hash, entry.updated_at) == sealed
    assert company_problems(dupont) == []
    assert "Facture PJ2" in text_of(piece_of(client_for(accountant), dupont, entry))

    # A re-export with the pièces carries it, named by its PieceRef.
    with django_capture_on_commit_callbacks(execute=True):
        again = export_request(company=dupont, actor=accountant, format="fec",
                               journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                               date_to=datetime.date(2026, 12, 31), include_exported=True,
                               include_documents=True)
    again = ExportBatch.objects.get(pk=again.pk)
    assert again.status == "done", again.error
    with again.archive.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert archive.namelist() == [again.file_name, "pieces/PJ2.pdf"]
    assert batch.pk != again.pk


@pytest.mark.parametrize(("fault", "reason"), [
    ("not_pdf", "n'est pas un PDF lisible"),
    ("too_big", "dépasse 20 Mo"),
])
def test_a_document_that_is_not_a_pdf_or_too_big_is_refused_with_its_reason(
        dupont, sandbox_api, client, progbat, fault, reason,  # noqa: F811
        django_capture_on_commit_callbacks):
    progbat.control("documents", {"document": fault})
    try:
        invoice = sandbox_api.validated_invoice(ACCOUNT, number="PJ3", date=DAY)
        deliver_webhook(client, dupont, django_capture_on_commit_callbacks, invoice)
    finally:
        progbat.control("documents", {"document": None})
    [message] = fetches(dupont)
    assert message.status == "failed"
    assert reason in message.last_error and f"{invoice['id']} (v1)" in message.last_error
    assert message.result == {"error": "document_refused"}
    attempt = message.delivery_attempts.get()
    assert (attempt.outcome, attempt.status_code) == ("failed", 200)
    assert reason in attempt.error
    assert not EntryDocument.objects.exists()
    assert Entry.objects.filter(company=dupont).count() == 1  # the entry itself stands


def test_the_document_of_an_unknown_invoice_fails_with_progbats_reason(
        dupont, client, django_capture_on_commit_callbacks):  # noqa: F811
    deliver_webhook(client, dupont, django_capture_on_commit_callbacks,
                    {"id": "inv_gone_at_progbat", "number": "X1"})
    [message] = fetches(dupont)
    assert message.status == "failed"
    assert "inv_gone_at_progbat (v1) : Aucune facture ProGBat" in message.last_error
    assert message.result == {"error": "document_refused"}


def test_several_invoices_in_one_batch_one_refused_the_others_attached(
        dupont, sandbox_api, client, progbat, django_capture_on_commit_callbacks):  # noqa: F811
    good = sandbox_api.validated_invoice(ACCOUNT, number="PJ5", date=DAY)
    events = [invoice_event(dupont, invoice_id=ref, number=number, account_id=ACCOUNT,
                            date=DAY.isoformat())
              for ref, number in ((good["id"], "PJ5"), ("inv_gone_at_progbat", "X2"))]
    # Received (their journalising task is queued on commit, which this test leaves out),
    # then journalised together: one batch, one fetch message.
    for event in events:
        body = json.dumps(event)
        assert client.post("/partners/progbat/webhooks/", data=body,
                           content_type="application/json",
                           **signed_headers(body)).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        inbox_process()
    [message] = fetches(dupont)
    assert sorted(ref for ref, _v in message.payload["invoices"]) == sorted(
        [good["id"], "inv_gone_at_progbat"])
    assert message.status == "failed" and "inv_gone_at_progbat" in message.last_error
    assert good["id"] not in message.last_error
    assert list(EntryDocument.objects.values_list("source_ref", flat=True)) == [good["id"]]


def test_without_a_usable_connection_the_fetch_fails_at_once_with_the_reason(
        dupont, accountant, sandbox_api, client,  # noqa: F811
        django_capture_on_commit_callbacks):
    invoice = sandbox_api.validated_invoice(ACCOUNT, number="PJ6", date=DAY)
    PartnerConnection.objects.filter(user=accountant).delete()
    deliver_webhook(client, dupont, django_capture_on_commit_callbacks, invoice)
    [message] = fetches(dupont)
    assert (message.status, message.attempts) == ("failed", 1)
    assert "Reconnecter" in message.last_error
