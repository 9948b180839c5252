"""202 means it will be journalised (DESIGN §5.3): everything that could fail later is decided
at the door, text is made safe rather than refused, and no body answers 500."""

import json
from decimal import Decimal

import pytest

from accounting.models import Entry, EntryLine, InboxEvent
from tests.accounting.conftest import invoice_event


def nothing_stored():
    return not InboxEvent.objects.exists() and not Entry.objects.exists()


def journalised(response):
    """The webhook was accepted and its entry exists, every event processed."""
    assert response.status_code == 202, response.content
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"processed"}
    return Entry.objects.get()


def test_amount_beyond_what_the_books_hold_answers_422(linked_company, post_webhook):
    response = post_webhook(invoice_event(linked_company, ttc="99999999999999.99",
                                          ht="99999999999979.99", tva="20.00"))
    assert response.status_code == 422
    assert "amounts" in next(iter(response.json()["fields"]))
    assert nothing_stored()


@pytest.mark.parametrize("amount", ["1E+30", "1" * 30, "1e2"])
def test_exotic_amounts_answer_422(linked_company, post_webhook, amount):
    response = post_webhook(invoice_event(linked_company, ttc=amount))
    assert response.status_code == 422
    assert nothing_stored()


def test_aux_account_over_40_characters_answers_400(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["lines"][0]["aux_account"] = "C" * 60
    response = post_webhook(event)
    assert response.status_code == 400
    assert "data.invoice.entry.lines[0].aux_account" in response.json()["fields"]
    assert nothing_stored()


def test_customer_code_of_60_characters_is_not_accepted_then_lost(linked_company,
                                                                   post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["customer"]["account"] = "C" * 60
    del event["data"]["invoice"]["entry"]["lines"][0]["aux_account"]
    response = post_webhook(event)
    # The long code cannot serve as the 411 line's auxiliary account; the sale still lands.
    entry = journalised(response)
    assert entry.lines.get(account="411000").aux_account == ""


@pytest.mark.parametrize("dirty, clean", [
    ("FAC001\x00DUPONT", "FAC001 DUPONT"),
    ("FAC001\tDUPONT\r\n", "FAC001 DUPONT"),
    ("  FAC001   DUPONT  ", "FAC001 DUPONT"),
])
def test_control_characters_in_labels_become_spaces(linked_company, post_webhook, dirty,
                                                    clean):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["label"] = dirty
    entry = journalised(post_webhook(event))
    assert entry.label == clean
    assert set(entry.lines.values_list("label", flat=True)) == {clean}


def test_nul_in_a_label_is_kept_in_the_raw_payload_without_failing(linked_company,
                                                                    post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["customer"]["name"] = "DU\x00PONT"
    journalised(post_webhook(event))
    assert "DU" in InboxEvent.objects.get().payload["data"]["invoice"]["customer"]["name"]


def test_long_label_and_customer_name_are_cut_not_refused(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["label"] = "L" * 300
    event["data"]["invoice"]["customer"]["name"] = "N" * 300
    event["data"]["invoice"]["entry"]["lines"][0]["aux_label"] = ""
    entry = journalised(post_webhook(event))
    assert len(entry.label) == 200 and entry.label.endswith("…")
    line = entry.lines.get(account="411000")
    assert len(line.aux_label) == 200 and line.aux_label.startswith("NNN")
    assert len(InboxEvent.objects.get().payload["data"]["invoice"]["entry"]["label"]) == 300


def test_empty_texts_fall_back(linked_company, post_webhook):
    event = invoice_event(linked_company)
    invoice = event["data"]["invoice"]
    invoice["entry"]["label"] = "   "
    invoice["entry"]["lines"][0]["aux_label"] = "\t"
    invoice["entry"]["lines"][1]["account_label"] = " "
    entry = journalised(post_webhook(event))
    assert entry.label == "FAC001 DUPONT"  # "<number> <customer name>"
    lines = {line.account: line for line in entry.lines.all()}
    assert lines["411000"].aux_label == "DUPONT"
    assert lines["706000"].account_label == "Prestations de services"  # from the PCG


def test_customer_code_without_name_gives_the_code_as_aux_label(linked_company,
                                                                 post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["customer"]["name"] = " \x00 "
    event["data"]["invoice"]["entry"]["lines"][0]["aux_label"] = ""
    entry = journalised(post_webhook(event))
    assert entry.lines.get(account="411000").aux_label == "DUPO"


def test_411_line_without_aux_account_takes_the_customer_account(linked_company,
                                                                  post_webhook):
    event = invoice_event(linked_company)
    del event["data"]["invoice"]["entry"]["lines"][0]["aux_account"]
    entry = journalised(post_webhook(event))
    line = entry.lines.get(account="411000")
    assert (line.aux_account, line.aux_label) == ("DUPO", "DUPONT")


def test_aux_account_on_a_revenue_line_is_dropped(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["lines"][1]["aux_account"] = "DUPO"
    entry = journalised(post_webhook(event))
    assert entry.lines.get(account="706000").aux_account == ""


def test_account_without_pcg_parent_answers_422(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["lines"][1]["account"] = "999999"
    response = post_webhook(event)
    assert response.status_code == 422
    assert "999999" in response.json()["fields"]["data.invoice.entry.lines[1].account"]
    assert nothing_stored()


def test_version_that_moves_a_draft_into_another_fiscal_year_is_applied(linked_company,
                                                                         post_webhook):
    assert post_webhook(invoice_event(linked_company, date="2026-12-30")).status_code == 202
    response = post_webhook(invoice_event(linked_company, version=2, date="2027-01-04",
                                          event_type="invoice.updated", ttc="240.00",
                                          ht="200.00", tva="40.00"))
    assert response.status_code == 202
    entry = Entry.objects.get()
    assert (entry.fiscal_year, str(entry.date), entry.source_version) == (2027, "2027-01-04", 2)
    assert entry.lines.get(account="411000").debit == Decimal("240.00")
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"processed"}


@pytest.mark.parametrize("mutate, field", [
    (lambda i: i.update(version=2**31), "data.invoice.version"),
    (lambda i: i.update(validated_at="2026-13-10T09:30:00Z"), "data.invoice.validated_at"),
    (lambda i: i.update(date="2026-02-30"), "data.invoice.date"),
    (lambda i: i.update(id="i" * 101), "data.invoice.id"),
    (lambda i: i["entry"].update(lines="x"), "data.invoice.entry.lines"),
    (lambda i: i["entry"]["lines"][0].update(account=411000),
     "data.invoice.entry.lines[0].account"),
], ids=["version-2^31", "month-13", "feb-30", "long-id", "lines-not-a-list", "account-int"])
def test_malformed_fields_answer_400_never_500(linked_company, post_webhook, mutate, field):
    event = invoice_event(linked_company)
    mutate(event["data"]["invoice"])
    response = post_webhook(event)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert nothing_stored()


def test_deeply_nested_json_answers_400(linked_company, post_webhook):
    body = '{"type": "invoice.validated", "data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = post_webhook(None, raw=body)
    assert response.status_code == 400
    assert nothing_stored()


def test_webhook_id_over_100_characters_answers_400(linked_company, post_webhook):
    response = post_webhook(invoice_event(linked_company), msg_id="m" * 101)
    assert response.status_code == 400
    assert nothing_stored()


def test_oversized_body_is_refused_before_anything(linked_company, post_webhook):
    event = invoice_event(linked_company)
    event["padding"] = "x" * 1_100_000
    response = post_webhook(None, raw=json.dumps(event))
    assert response.status_code == 413
    assert nothing_stored()


def test_every_accepted_event_of_the_edge_cases_reaches_the_journal(linked_company,
                                                                     post_webhook):
    """Whatever the door accepted became an entry: none is left rejected after the fact."""
    bodies = []
    for index, (label, name) in enumerate([("\x00", "N" * 300), ("L" * 500, "Ç\u2028a"),
                                           ("\x7f\x85", "\t")]):
        event = invoice_event(linked_company, invoice_id=f"inv_{index}", number=f"F{index}")
        event["data"]["invoice"]["entry"]["label"] = label
        event["data"]["invoice"]["customer"]["name"] = name
        bodies.append(event)
    answers = [post_webhook(body).status_code for body in bodies]
    assert answers == [202, 202, 202]
    assert Entry.objects.count() == 3
    assert not InboxEvent.objects.exclude(status="processed").exists()
    assert not EntryLine.objects.filter(label="").exists()
