"""Every answer of the ProGBat webhook (DESIGN §5.3), and what is stored — or not."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.models import Entry, EntryLine, InboxEvent
from accounting.services.exports import export_request
from accounting.services.ingestion import inbox_process
from tests.accounting.conftest import invoice_event, signed_headers


def nothing_stored():
    return not InboxEvent.objects.exists() and not Entry.objects.exists()


def test_valid_invoice_is_queued_then_journalised(linked_company, post_webhook):
    response = post_webhook(invoice_event(linked_company))
    assert response.status_code == 202
    assert response.json() == {"status": "queued"}
    entry = Entry.objects.get(company=linked_company)
    assert (entry.journal.code, entry.number, entry.piece_ref, entry.label) == (
        "VT", None, "FAC001", "FAC001 DUPONT")  # a draft: its number comes when final
    lines = list(entry.lines.values_list("account", "aux_account", "debit", "credit"))
    assert lines == [("411000", "DUPO", Decimal("120.00"), Decimal("0.00")),
                     ("706000", "", Decimal("0.00"), Decimal("100.00")),
                     ("445720", "", Decimal("0.00"), Decimal("20.00"))]
    assert InboxEvent.objects.get().status == "processed"


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_WEBHOOK_ID": "msg_1", "HTTP_WEBHOOK_TIMESTAMP": "1", "HTTP_WEBHOOK_SIGNATURE": "x"},
], ids=["missing", "garbage"])
def test_missing_or_garbage_signature_answers_401(linked_company, post_webhook, headers):
    response = post_webhook(invoice_event(linked_company), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert nothing_stored()


def test_signature_with_another_secret_answers_401(linked_company, post_webhook):
    response = post_webhook(invoice_event(linked_company),
                            secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==")
    assert response.status_code == 401
    assert nothing_stored()


def test_stale_signature_answers_401(linked_company, post_webhook):
    response = post_webhook(invoice_event(linked_company),
                            timestamp=timezone.now() - datetime.timedelta(minutes=6))
    assert response.status_code == 401
    assert nothing_stored()


def test_body_changed_after_signing_answers_401(linked_company, client):
    body = json.dumps(invoice_event(linked_company))
    headers = signed_headers(body)
    response = client.post("/partners/progbat/webhooks/", data=body.replace("120.00", "12.00"),
                           content_type="application/json", **headers)
    assert response.status_code == 401
    assert nothing_stored()


def test_not_json_answers_400(linked_company, post_webhook):
    response = post_webhook(None, raw="{not json")
    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert nothing_stored()


def test_missing_fields_answer_400_with_field_details(linked_company, post_webhook):
    event = invoice_event(linked_company)
    del event["data"]["invoice"]["number"]
    event["data"]["invoice"]["version"] = "1"
    event["data"]["invoice"]["entry"]["lines"][1]["account"] = "VENTES"
    response = post_webhook(event)
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"data.invoice.number", "data.invoice.version",
                           "data.invoice.entry.lines[1].account"}
    assert nothing_stored()


def test_unbalanced_entry_answers_422(linked_company, post_webhook):
    response = post_webhook(invoice_event(linked_company, ttc="121.00"))
    assert response.status_code == 422
    assert "déséquilibrée" in response.json()["fields"]["data.invoice.entry"]
    assert nothing_stored()


@pytest.mark.parametrize("ttc", ["120.001", "-120.00", "abc", "NaN"])
def test_invalid_amounts_answer_422(linked_company, post_webhook, ttc):
    response = post_webhook(invoice_event(linked_company, ttc=ttc))
    assert response.status_code == 422
    assert nothing_stored()


def test_line_with_debit_and_credit_answers_422(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["lines"][0]["credit"] = "1.00"
    assert post_webhook(event).status_code == 422
    assert nothing_stored()


def test_unknown_siren_or_account_answers_404(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["data"]["siren"] = "123456782"
    assert post_webhook(event).status_code == 404
    assert post_webhook(invoice_event(linked_company, account_id="acc_other")).status_code == 404
    assert nothing_stored()


def test_paused_link_answers_404(linked_company, post_webhook):
    linked_company.progbat_link.status = "paused"
    linked_company.progbat_link.save()
    assert post_webhook(invoice_event(linked_company)).status_code == 404
    assert nothing_stored()


def test_duplicate_webhook_id_answers_200_without_a_second_effect(linked_company,
                                                                  post_webhook):
    event = invoice_event(linked_company)
    assert post_webhook(event, msg_id="msg_same").status_code == 202
    again = post_webhook(event, msg_id="msg_same")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert InboxEvent.objects.count() == 1 and Entry.objects.count() == 1


def test_same_invoice_and_version_under_two_ids_makes_one_entry(linked_company, post_webhook):
    assert post_webhook(invoice_event(linked_company)).status_code == 202
    assert post_webhook(invoice_event(linked_company)).status_code == 202
    assert Entry.objects.count() == 1 and EntryLine.objects.count() == 3


def test_unknown_event_type_is_ignored_with_200(linked_company, post_webhook):
    response = post_webhook({"type": "invoice.paid", "data": {}})
    assert response.status_code == 200
    assert response.json()["reason"] == "unknown_event_type"
    assert nothing_stored()


def test_invoice_validated_before_the_link_is_ignored_and_visible(linked_company,
                                                                  post_webhook):
    response = post_webhook(invoice_event(linked_company, validated_at="2026-05-31T23:59:59Z",
                                          date="2026-05-31"))
    assert response.status_code == 200
    assert response.json()["reason"] == "validated_before_link"
    event = InboxEvent.objects.get()
    assert event.status == "ignored" and "non rétroactif" in event.reason
    assert not Entry.objects.exists()


def test_later_version_replaces_the_draft(linked_company, post_webhook):
    post_webhook(invoice_event(linked_company, invoice_id="inv_1"))
    post_webhook(invoice_event(linked_company, invoice_id="inv_2", number="FAC002"))
    first_pk = Entry.objects.get(source_ref="inv_1").pk
    post_webhook(invoice_event(linked_company, invoice_id="inv_1", version=2,
                               event_type="invoice.updated", ttc="240.00", ht="200.00",
                               tva="40.00"))
    first = Entry.objects.get(source_ref="inv_1")
    assert (first.pk, first.source_version, first.state) == (first_pk, 2, "draft")
    assert first.lines.get(account="411000").debit == Decimal("240.00")
    assert Entry.objects.count() == 2


def test_out_of_order_versions_never_regress(linked_company, post_webhook):
    post_webhook(invoice_event(linked_company, version=3, ttc="360.00", ht="300.00",
                               tva="60.00"))
    response = post_webhook(invoice_event(linked_company, version=2))
    assert response.status_code == 202
    entry = Entry.objects.get()
    assert entry.source_version == 3
    assert entry.lines.get(account="411000").debit == Decimal("360.00")
    assert InboxEvent.objects.filter(status="processed").count() == 2


def test_update_of_exported_invoice_answers_409(linked_company, post_webhook, accountant,
                                                django_capture_on_commit_callbacks):
    post_webhook(invoice_event(linked_company))
    with django_capture_on_commit_callbacks(execute=True):
        export_request(company=linked_company, actor=accountant, format="fec",
                       journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                       date_to=datetime.date(2026, 12, 31))
    response = post_webhook(invoice_event(linked_company, version=2,
                                          event_type="invoice.updated", ttc="240.00",
                                          ht="200.00", tva="40.00"))
    assert response.status_code == 409
    assert response.json()["error"] == "entry_exported"
    entry = Entry.objects.get()
    assert (entry.state, entry.source_version) == ("exported", 1)
    assert InboxEvent.objects.get(status="rejected").source_version == 2


def test_numbering_is_gapless_per_journal_and_fiscal_year_in_date_order(
        linked_company, post_webhook, accountant, django_capture_on_commit_callbacks):
    for index, day in enumerate(["2026-12-31", "2026-06-10", "2027-02-01", "2027-01-02"]):
        post_webhook(invoice_event(linked_company, invoice_id=f"inv_{index}",
                                   number=f"FAC{index}", date=day))
    assert set(Entry.objects.values_list("number", flat=True)) == {None}
    for year in (2026, 2027):
        with django_capture_on_commit_callbacks(execute=True):
            export_request(company=linked_company, actor=accountant, format="fec",
                           journal_codes=["VT"], date_from=datetime.date(year, 1, 1),
                           date_to=datetime.date(year, 12, 31))
    numbers = list(Entry.objects.order_by("date").values_list("date", "fiscal_year", "number"))
    assert [(fiscal_year, number) for _day, fiscal_year, number in numbers] == [
        (2026, 1), (2026, 2), (2027, 1), (2027, 2)]


def test_account_labels_come_from_the_partner_or_the_nearest_pcg_parent(linked_company,
                                                                        post_webhook):
    post_webhook(invoice_event(linked_company, revenue_label="Travaux de rénovation"))
    labels = dict(EntryLine.objects.values_list("account", "account_label"))
    assert labels == {"411000": "Clients", "706000": "Travaux de rénovation",
                      "445720": "Taxes sur le chiffre d’affaires collectées par l’entreprise"}


def test_a_poison_event_does_not_block_the_others(linked_company, post_webhook):
    post_webhook(invoice_event(linked_company, invoice_id="inv_ok"))
    bad = InboxEvent.objects.get()
    InboxEvent.objects.filter(pk=bad.pk).update(status="received", draft={"lines": []})
    post_webhook(invoice_event(linked_company, invoice_id="inv_next", number="FAC002"))
    for _ in range(5):
        inbox_process()
    assert InboxEvent.objects.get(pk=bad.pk).status == "rejected"
    assert Entry.objects.filter(source_ref="inv_next").exists()
