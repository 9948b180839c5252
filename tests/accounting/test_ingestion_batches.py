"""Journalising in batches (what a real worker does after a burst): the same outcomes as one
event at a time, whatever the batch holds."""

import datetime
import json
from decimal import Decimal

from accounting.models import Entry, EntryLine, FiscalYear, InboxEvent
from accounting.services.exports import export_request
from accounting.services.ingestion import inbox_process
from tests.accounting.conftest import invoice_event, signed_headers


def stored(client, payload):
    """POST a signed webhook without running what it queues: the event waits in the inbox."""
    body = json.dumps(payload)
    response = client.post("/partners/progbat/webhooks/", data=body,
                           content_type="application/json", **signed_headers(body))
    assert response.status_code == 202, response.content
    return InboxEvent.objects.order_by("-id").first()


def test_one_batch_gives_each_invoice_one_entry_at_its_latest_version(linked_company, client):
    events = [
        stored(client, invoice_event(linked_company, invoice_id="inv_a", number="A")),
        stored(client, invoice_event(linked_company, invoice_id="inv_b", number="B",
                                     version=2, ttc="240.00", ht="200.00", tva="40.00")),
        stored(client, invoice_event(linked_company, invoice_id="inv_b", number="B")),
        stored(client, invoice_event(linked_company, invoice_id="inv_a", number="A")),
        stored(client, invoice_event(linked_company, invoice_id="inv_a", number="A",
                                     version=3, ttc="360.00", ht="300.00", tva="60.00")),
    ]
    assert inbox_process() == 5
    entries = {e.source_ref: e for e in Entry.objects.all()}
    assert {ref: e.source_version for ref, e in entries.items()} == {"inv_a": 3, "inv_b": 2}
    assert entries["inv_a"].lines.get(position=1).debit == Decimal("360.00")
    assert entries["inv_b"].lines.get(position=1).debit == Decimal("240.00")
    assert EntryLine.objects.count() == 6
    settled = {e.pk: (e.status, e.entry_id) for e in InboxEvent.objects.all()}
    assert {status for status, _entry in settled.values()} == {"processed"}
    assert settled[events[0].pk][1] == settled[events[4].pk][1] == entries["inv_a"].pk
    assert settled[events[2].pk][1] == entries["inv_b"].pk
    reasons = dict(InboxEvent.objects.values_list("pk", "reason"))
    assert reasons[events[3].pk] == "Version 1 déjà journalisée."
    assert reasons[events[2].pk] == ""  # journalised first (versions in order), then replaced
    assert set(InboxEvent.objects.values_list("attempts", flat=True)) == {1}


def test_a_batch_replaces_drafts_and_leaves_exported_entries(
        linked_company, client, accountant, django_capture_on_commit_callbacks):
    stored(client, invoice_event(linked_company, invoice_id="inv_final", number="F"))
    inbox_process()
    late = stored(client, invoice_event(linked_company, invoice_id="inv_final", number="F",
                                        version=2, ttc="240.00", ht="200.00", tva="40.00"))
    with django_capture_on_commit_callbacks(execute=True):
        export_request(company=linked_company, actor=accountant, format="fec",
                       journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                       date_to=datetime.date(2026, 12, 31))
    stored(client, invoice_event(linked_company, invoice_id="inv_draft", number="D"))
    inbox_process()
    draft = Entry.objects.get(source_ref="inv_draft")
    update = stored(client, invoice_event(linked_company, invoice_id="inv_draft", number="D",
                                          version=2, date="2026-07-01", ttc="240.00",
                                          ht="200.00", tva="40.00"))
    assert inbox_process() == 1
    draft.refresh_from_db()
    assert (draft.pk, draft.source_version, draft.date) == (
        draft.pk, 2, datetime.date(2026, 7, 1))
    assert list(draft.lines.values_list("debit", flat=True)) == [Decimal("240.00"), 0, 0]
    assert InboxEvent.objects.get(pk=update.pk).entry_id == draft.pk
    final = Entry.objects.get(source_ref="inv_final")
    assert (final.state, final.source_version) == ("exported", 1)
    late.refresh_from_db()
    assert (late.status, late.entry_id) == ("rejected", final.pk)


def test_invoices_of_a_closed_year_land_on_the_next_open_one(linked_company, client):
    FiscalYear.objects.create(firm=linked_company.firm, company=linked_company,
                              start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31),
                              state=FiscalYear.State.CLOSED)
    for index, day in enumerate(["2026-06-10", "2026-11-02", "2027-01-05"]):
        stored(client, invoice_event(linked_company, invoice_id=f"inv_{index}",
                                     number=f"N{index}", date=day))
    assert inbox_process() == 3
    rows = sorted(Entry.objects.values_list("source_ref", "date", "fiscal_year", "piece_date"))
    assert rows == [
        ("inv_0", datetime.date(2027, 1, 1), 2027, datetime.date(2026, 6, 10)),
        ("inv_1", datetime.date(2027, 1, 1), 2027, datetime.date(2026, 11, 2)),
        ("inv_2", datetime.date(2027, 1, 5), 2027, None)]
    assert "clôturé" in Entry.objects.get(source_ref="inv_0").note
