"""Invoices: validation and edits reach MEG as signed webhooks, retried; locks refuse edits."""

import datetime
import json
import time

import requests
from standardwebhooks import Webhook

from sandboxes.common.selfcheck import check

from .harness import WEBHOOK_SECRET, wait_until


def check_invoices(base, api, url, receiver, browser):
    invoice = api.post(f"{url}/accounts/acc_demo_dupont/invoices", json={
        "number": "FAC001", "date": "2026-06-10", "customer": {"name": "Dupont",
                                                              "account": "DUPO"},
        "lines": [{"label": "Pose de tuiles", "amount_excl_tax": "100.00", "vat_rate": "20"}]})
    invoice_id = invoice.json()["id"]
    check(invoice.status_code == 201 and invoice_id.startswith("inv_")
          and invoice.json()["status"] == "draft" and invoice.json()["version"] == 0,
          "an invoice is created as a draft, version 0")

    receiver.plan(500)
    validated = api.post(f"{url}/invoices/{invoice_id}/validate")
    check(validated.status_code == 200 and validated.json()["status"] == "validated"
          and validated.json()["version"] == 1, "validating gives version 1")
    deliveries = wait_until(lambda: len(receiver.for_invoice(invoice_id, 1)) >= 2 and
                            receiver.for_invoice(invoice_id, 1))
    check(deliveries, "a webhook answered 500 is retried")
    (first_headers, _), (headers, body) = deliveries[0], deliveries[1]
    check(first_headers["webhook-id"] == headers["webhook-id"]
          and headers["webhook-id"].startswith("msg_"), "the retry keeps the same webhook-id")
    event = Webhook(WEBHOOK_SECRET).verify(body, headers)
    expected_lines = [
        {"account": "411000", "aux_account": "DUPO", "aux_label": "Dupont", "debit": "120.00",
         "credit": "0.00"},
        {"account": "706000", "account_label": "Prestations de services", "debit": "0.00",
         "credit": "100.00"},
        {"account": "445720", "debit": "0.00", "credit": "20.00"}]
    data = event["data"]
    check(event["type"] == "invoice.validated" and data["account_id"] == "acc_demo_dupont"
          and data["siren"] == "900000019" and data["invoice"]["validated_at"].endswith("Z")
          and data["invoice"]["entry"] == {"label": "FAC001 DUPONT", "lines": expected_lines},
          "the signed invoice.validated webhook verifies and carries the §5.3 entry", event)

    patched = api.patch(f"{url}/invoices/{invoice_id}", json={
        "lines": [{"label": "Pose de tuiles", "amount_excl_tax": "200.00", "vat_rate": "20"}]})
    check(patched.status_code == 200 and patched.json()["version"] == 2,
          "editing a validated invoice re-validates it as version 2")
    update = wait_until(lambda: receiver.for_invoice(invoice_id, 2))
    check(update and json.loads(update[0][1])["type"] == "invoice.updated"
          and json.loads(update[0][1])["data"]["invoice"]["entry"]["lines"][0]["debit"]
          == "240.00", "the edit sends invoice.updated with the new amounts")
    document = api.get(f"{url}/invoices/{invoice_id}/document")
    check(document.status_code == 200
          and document.headers["Content-Type"] == "application/pdf"
          and document.content.startswith(b"%PDF-") and b"Version 2" in document.content
          and b"FAC001" in document.content,
          "the invoice's document is its PDF, of the current version", document.status_code)

    zero = api.post(f"{url}/accounts/acc_demo_dupont/invoices", json={
        "number": "FAC002", "date": "2026-06-11", "customer": {"name": "Écoles", "account": "ECO"},
        "lines": [{"label": "Exonéré", "amount_excl_tax": 50, "vat_rate": 0},
                  {"label": "Réduit", "amount_excl_tax": "10.10", "vat_rate": "5.5"}]})
    check(zero.json()["total_vat"] == "0.56" and zero.json()["total_incl_tax"] == "60.66",
          "VAT is rounded half-up per line (10.10 × 5.5 % = 0.56)", zero.json())
    receiver.plan(422)
    api.post(f"{url}/invoices/{zero.json()['id']}/validate")
    wait_until(lambda: receiver.for_invoice(zero.json()["id"], 1))
    time.sleep(1)
    check(len(receiver.for_invoice(zero.json()["id"], 1)) == 1,
          "a webhook answered 4xx is not retried")

    account_page = browser.get(f"{base}/accounts/acc_demo_dupont/")
    check(account_page.status_code == 200
          and f'data-invoice-id="{invoice_id}"' in account_page.text
          and "Reçu par MEG" in account_page.text,
          "the account page lists the invoices and what MEG answered")

    resent = api.post(f"{url}/invoices/{invoice_id}/resend")
    check(resent.status_code == 202 and resent.json()["version"] == 3,
          "resend answers 202 and makes version 3", resent.text)
    again = wait_until(lambda: receiver.for_invoice(invoice_id, 3))
    check(again and json.loads(again[0][1])["type"] == "invoice.updated",
          "resend re-emits invoice.updated with the entry of the current settings")

    check_invoice_list(base, api, url, [(zero.json()["id"], None),
                                        (invoice_id, json.loads(again[0][1])["data"]["invoice"])])

    lock = api.post(f"{url}/invoices/{invoice_id}/lock", json={"export_id": "exp_1"})
    relock = api.post(f"{url}/invoices/{invoice_id}/lock", json={"export_id": "exp_1"})
    check(lock.json() == relock.json() == {"id": invoice_id, "locked": True,
                                           "export_id": "exp_1"}, "lock is idempotent")
    edit = api.patch(f"{url}/invoices/{invoice_id}", json={"number": "FAC001-B"})
    check(edit.status_code == 409 and edit.json()["error"] == "invoice_locked",
          "editing a locked invoice answers 409 invoice_locked")
    batch = {"export_id": "exp_2", "invoice_ids": [zero.json()["id"], invoice_id, "inv_nope"]}
    first, again = (api.post(f"{url}/invoices/lock", json=batch) for _ in range(2))
    check(first.status_code == again.status_code == 200 and first.json() == {
        "locked": [zero.json()["id"]], "already_locked": [invoice_id], "unknown": ["inv_nope"]}
        and again.json()["already_locked"] == [zero.json()["id"], invoice_id],
        "the batch lock says what it locked, what was locked already and what is unknown; "
        "again, all are locked already", first.json())
    too_many = api.post(f"{url}/invoices/lock", json={"export_id": "exp_3",
                                                      "invoice_ids": ["inv_x"] * 1001})
    check(too_many.status_code == 400 and "invoice_ids" in too_many.json().get("fields", {}),
          "a batch lock of more than 1,000 invoices answers 400", too_many.json())

    resent = api.post(f"{url}/invoices/{invoice_id}/resend")
    check(resent.status_code == 409 and resent.json()["error"] == "invoice_locked",
          "resending a locked invoice answers 409 invoice_locked")

    edit_page = f"{base}/accounts/acc_demo_dupont/invoices/{invoice_id}/edit/"
    check('data-testid="invoice-locked"' in browser.get(edit_page).text,
          "the edit page of a locked invoice warns that it is locked")
    refused = browser.post(edit_page, data={
        "csrfmiddlewaretoken": browser.cookies["progbat_csrftoken"],
        "invoice-number": "FAC001", "invoice-date": "2026-06-10",
        "invoice-customer_name": "Dupont", "invoice-customer_account": "DUPO",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000", "lines-0-label": "Pose", "lines-0-amount_excl_tax": "1",
        "lines-0-vat_rate": "20.00"})
    check(refused.status_code == 409 and "Facture verrouillée : exportée en comptabilité dans MEG"
          in refused.text, "the page refuses to edit a locked invoice, saying why")
    return invoice_id, zero.json()["id"]


def check_invoice_list(base, api, url, expected):
    """``GET /api/v1/invoices``: the account's validated invoices of a period, in validation
    order, each as its last webhook carried it, a page at a time."""
    today = datetime.date.today()
    period = {"account_id": "acc_demo_dupont",
              "validated_from": (today - datetime.timedelta(days=1)).isoformat(),
              "validated_to": (today + datetime.timedelta(days=1)).isoformat()}
    whole = api.get(f"{url}/invoices", params=period)
    check(whole.status_code == 200 and whole.json()["next_cursor"] is None
          and [item["id"] for item in whole.json()["results"]] == [i for i, _ in expected],
          "the invoice list gives the validated invoices of the period", whole.text)
    by_id = {item["id"]: item for item in whole.json()["results"]}
    for invoice_id, webhook_invoice in expected:
        if webhook_invoice is not None:
            check(by_id[invoice_id] == webhook_invoice,
                  "a listed invoice is exactly its last webhook's data.invoice", by_id[invoice_id])
    requests.post(f"{base}/_sandbox/pages", json={"invoices": 1}, timeout=10)
    try:
        first = api.get(f"{url}/invoices", params=period).json()
        second = api.get(f"{url}/invoices", params={**period,
                                                    "cursor": first["next_cursor"]}).json()
    finally:
        requests.post(f"{base}/_sandbox/pages", json={"invoices": 100}, timeout=10)
    check([item["id"] for item in first["results"] + second["results"]]
          == [i for i, _ in expected] and first["next_cursor"] and second["next_cursor"] is None,
          "the list pages with next_cursor until it is null", (first, second))
    before = api.get(f"{url}/invoices", params={**period, "validated_to": (
        today - datetime.timedelta(days=1)).isoformat()})
    check(before.status_code == 200 and before.json()["results"] == [],
          "invoices validated after validated_to are not listed", before.text)
    for params, status, name in [
            ({**period, "cursor": "nope"}, 400, "a bad cursor"),
            ({**period, "validated_from": "2026-13-01"}, 400, "an impossible date"),
            ({**period, "validated_from": period["validated_to"],
              "validated_to": period["validated_from"]}, 400, "a reversed period"),
            ({key: value for key, value in period.items() if key != "account_id"}, 400,
             "no account"),
            ({**period, "account_id": "acc_nope"}, 404, "an unknown account")]:
        answer = api.get(f"{url}/invoices", params=params)
        check(answer.status_code == status and "error" in answer.json(),
              f"{name} answers {status}", answer.text)
