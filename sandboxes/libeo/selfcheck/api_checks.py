"""The API as MEG's client uses it: /me, invoice upserts, payments and their idempotency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests

from sandboxes.common.selfcheck import Session, check

from .harness import DEMO_KEY, IBAN, api_session, invoice_body


def check_me(url):
    api = api_session(DEMO_KEY)
    me = api.get(f"{url}/me")
    account_id = me.json().get("account_id", "") if me.status_code == 200 else ""
    check(account_id.startswith("acc_") and me.json() == {
        "account_id": account_id,
        "company": {"siren": "900000019", "name": "Dupont Bâtiment"}, "plan": "free",
        "users": [{"email": "dirigeant@demo.meg.test", "role": "owner"},
                  {"email": "expert@demo.meg.test", "role": "accountant"}],
        "payments_this_month": 0, "payments_limit": 5},
        "/me with the demo key: its account id, Dupont Bâtiment, free, owner + accountant, "
        "0/5", me.text)
    for headers, case in (({}, "no Authorization header"),
                          ({"Authorization": "Bearer lk_nope"}, "an unknown key"),
                          ({"Authorization": f"Token {DEMO_KEY}"}, "another scheme")):
        refused = requests.get(f"{url}/me", headers=headers, timeout=30)
        check(refused.status_code == 401 and refused.json()["error"] == "invalid_api_key"
              and refused.json()["detail"], f"/me with {case} answers 401 invalid_api_key")
    return api


def check_invoices(api, url):
    created = api.put(f"{url}/invoices/meg-inv-1", json=invoice_body())
    check(created.status_code == 201 and created.json()["version"] == 1
          and created.json()["supplier"]["iban"] == IBAN
          and created.json()["amount_incl_tax"] == "120.00",
          "PUT of a new invoice answers 201, version 1, IBAN normalised", created.text)
    updated = api.put(f"{url}/invoices/meg-inv-1", json=invoice_body(number="FA-2026-001b"))
    again = api.put(f"{url}/invoices/meg-inv-1", json=invoice_body(number="FA-2026-001b"))
    check(updated.status_code == 200 and again.status_code == 200
          and again.json()["version"] == 3 and again.json()["number"] == "FA-2026-001b",
          "PUT again answers 200; every re-send counts as a version (3)", again.text)

    cases = [
        (invoice_body(supplier={"name": "Point P", "iban": "FR7630006000011234567890188"}),
         "supplier", "an IBAN with a bad checksum"),
        (invoice_body(amount_incl_tax="121.00"), "amount_incl_tax", "excl + VAT ≠ incl"),
        (invoice_body(amount_excl_tax=100.0), "amount_excl_tax", "an amount as a JSON number"),
        (invoice_body(vat_amount="20.001"), "vat_amount", "3 decimals"),
        (invoice_body(vat_amount="-20.00"), "vat_amount", "a negative amount"),
        (invoice_body(currency="USD"), "currency", "a currency other than EUR"),
        (invoice_body(due_date="01/07/2026"), "due_date", "a date that is not ISO"),
    ]
    for body, field, case in cases:
        refused = api.put(f"{url}/invoices/meg-inv-bad", json=body)
        check(refused.status_code == 400 and refused.json()["error"] == "invalid_request"
              and field in refused.json()["fields"],
              f"PUT with {case} answers 400 naming {field}", refused.text)
    missing = api.put(f"{url}/invoices/meg-inv-bad", json={"number": "X"})
    check(missing.status_code == 400 and {"supplier", "issue_date", "amount_incl_tax",
                                          "currency"} <= set(missing.json()["fields"]),
          "PUT of an incomplete body lists the missing fields")
    zero = api.put(f"{url}/invoices/meg-inv-zero", json=invoice_body(
        amount_excl_tax="0.00", vat_amount="0.00", amount_incl_tax="0.00"))
    check(zero.status_code == 201, "amounts of 0.00 are accepted (≥ 0)")


def _pay(api, url, key, invoice="meg-inv-1", amount="120.00", execution_date=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post(f"{url}/payments", headers=headers, json={
        "invoice_external_id": invoice, "amount": amount,
        "execution_date": execution_date or date.today().isoformat()})


def check_payments(api, url):
    keyless = _pay(api, url, None)
    check(keyless.status_code == 400 and keyless.json()["error"] == "idempotency_key_required",
          "a payment without Idempotency-Key answers 400 idempotency_key_required")
    unknown = _pay(api, url, "pay-unknown", invoice="meg-inv-never-sent")
    check(unknown.status_code == 404 and unknown.json()["error"] == "invoice_not_found",
          "paying an invoice never upserted answers 404 invoice_not_found")
    malformed = _pay(api, url, "pay-bad", amount="0.00")
    check(malformed.status_code == 400 and "amount" in malformed.json()["fields"],
          "a payment of 0.00 answers 400")
    too_much = _pay(api, url, "pay-too-much", amount="500.00")
    check(too_much.status_code == 422 and too_much.json()["error"] == "amount_exceeds_balance",
          "a payment above the invoice's total answers 422 amount_exceeds_balance")

    first = _pay(api, url, "pay-1")
    body = first.json()
    check(first.status_code == 201 and body["id"].startswith("pay_") and body == {
        "id": body["id"], "status": "paid", "executed_at": body["executed_at"],
        "failure_reason": None, "invoice_external_id": "meg-inv-1",
        "amount": "120.00", "execution_date": date.today().isoformat()}
        and body["executed_at"].endswith("Z"),
        "a payment executed today answers 201 paid, with when the money left", first.text)
    replay = _pay(api, url, "pay-1")
    check(replay.status_code == 201 and replay.content == first.content,
          "the same key with the same body replays the first answer byte for byte")
    reused = _pay(api, url, "pay-1", amount="60.00")
    check(reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused",
          "the same key with another body answers 422 idempotency_key_reused")
    twice = _pay(api, url, "pay-2")
    check(twice.status_code == 409 and twice.json()["error"] == "invoice_already_paid",
          "another key for the paid invoice answers 409 invoice_already_paid")
    shown = api.get(f"{url}/payments/{body['id']}")
    check(shown.status_code == 200 and shown.json() == body, "GET /payments/{id} shows it")
    missing = api.get(f"{url}/payments/pay_nope")
    check(missing.status_code == 404 and missing.json()["error"] == "payment_not_found",
          "an unknown payment answers 404 payment_not_found")

    later = (date.today() + timedelta(days=10)).isoformat()
    api.put(f"{url}/invoices/meg-inv-2", json=invoice_body(number="FA-2026-002"))
    scheduled = _pay(api, url, "pay-3", invoice="meg-inv-2", amount="50.00",
                     execution_date=later)
    rest = _pay(api, url, "pay-4", invoice="meg-inv-2", amount="70.00", execution_date=later)
    over = _pay(api, url, "pay-5", invoice="meg-inv-2", amount="0.01", execution_date=later)
    check(scheduled.json()["status"] == "scheduled" and scheduled.json()["executed_at"] is None
          and rest.status_code == 201
          and over.status_code == 409, "a future execution date is scheduled; partial payments "
          "add up to the total, then 409", [scheduled.text, rest.text, over.text])
    me = api.get(f"{url}/me").json()
    check(me["payments_this_month"] == 3 and me["payments_limit"] == 5,
          "/me counts the month's payments (3 of 5)", me)
    return body["id"]


def check_other_company(control, base, url, dupont_payment_id):
    made = control.post(f"{base}/_sandbox/companies", json={
        "siren": "900000068", "name": "Lefèvre Couverture", "plan": "free",
        "users": [{"email": "lefevre@demo.meg.test", "role": "owner"}]})
    check(made.status_code == 201 and made.json()["api_key"].startswith("lk_"),
          "a company created by the controls gets an lk_ key", made.text)
    other = api_session(made.json()["api_key"])
    check(other.get(f"{url}/payments/{dupont_payment_id}").status_code == 404,
          "a company cannot read another company's payment")
    not_theirs = _pay(other, url, "pay-1", invoice="meg-inv-1")
    check(not_theirs.status_code == 404,
          "invoices and idempotency keys are per company (Dupont's invoice: 404)")
    duplicate = control.post(f"{base}/_sandbox/companies", json={
        "siren": "900000068", "name": "Doublon", "users": []})
    check(duplicate.status_code == 409, "a second company with the same SIREN answers 409")


def check_plan_limit(control, base, url, browser_for):
    """The free plan stops at 5 payments a month; Partnerships has no limit."""
    made = control.post(f"{base}/_sandbox/companies", json={
        "siren": "900000076", "name": "Bernard Plâtrerie", "plan": "free",
        "users": [{"email": "bernard@demo.meg.test", "role": "owner",
                   "password": "bernard-pw-2026"}]}).json()
    api = api_session(made["api_key"])
    statuses = []
    for number in range(1, 7):
        api.put(f"{url}/invoices/b-{number}", json=invoice_body(number=f"B{number}"))
        statuses.append(_pay(api, url, f"b-pay-{number}", invoice=f"b-{number}"))
    sixth = statuses[-1]
    check([s.status_code for s in statuses[:5]] == [201] * 5 and sixth.status_code == 402
          and sixth.json()["error"] == "plan_limit_reached"
          and "Partnerships" in sixth.json()["detail"] and "9 €" in sixth.json()["detail"],
          "free plan: the 6th payment of the month answers 402 plan_limit_reached, "
          "mentioning Partnerships at 9 €/month", sixth.text)
    replay = _pay(api, url, "b-pay-1", invoice="b-1")
    check(replay.status_code == 201 and replay.json() == statuses[0].json(),
          "a replay of an earlier key still answers its 201 at the limit")

    browser = browser_for("bernard@demo.meg.test", "bernard-pw-2026")
    switched = browser.post(f"{base}/entreprises/900000076/abonnement/", data={
        "csrfmiddlewaretoken": browser.cookies["libeo_csrftoken"]})
    me = api.get(f"{url}/me").json()
    check(switched.status_code == 200 and 'data-plan="partnerships"' in switched.text
          and me["plan"] == "partnerships" and me["payments_limit"] is None,
          "the owner switches to Partnerships from the company page; /me limit is null", me)
    retried = _pay(api, url, "b-pay-6", invoice="b-6")
    check(retried.status_code == 201,
          "the refused payment's key works once the plan allows it (refusals are not stored)")

    unlimited = control.post(f"{base}/_sandbox/companies", json={
        "siren": "900000084", "name": "Girard Plomberie", "plan": "partnerships",
        "users": [{"email": "girard@demo.meg.test", "role": "owner"}]}).json()
    api = api_session(unlimited["api_key"])
    codes = []
    for number in range(1, 8):
        api.put(f"{url}/invoices/g-{number}", json=invoice_body(number=f"G{number}"))
        codes.append(_pay(api, url, f"g-pay-{number}", invoice=f"g-{number}").status_code)
    me = api.get(f"{url}/me").json()
    check(codes == [201] * 7 and me["payments_this_month"] == 7
          and me["payments_limit"] is None, "Partnerships: 7 payments in a month, no limit", me)
    return api


def check_concurrency(control, base, url, api):
    """Ten simultaneous requests: one key pays once; ten keys for one invoice pay once."""
    api.put(f"{url}/invoices/g-race", json=invoice_body(number="GRACE"))

    def same_key(_):
        with Session() as session:
            session.headers.update(api.headers)
            return _pay(session, url, "g-race-key", invoice="g-race")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(same_key, range(10)))
    state = control.get(f"{base}/_sandbox/state").json()
    check({a.status_code for a in answers} == {201} and len({a.content for a in answers}) == 1
          and state["payments_by_invoice"]["g-race"] == 1,
          "10 concurrent requests with one key: ten identical 201s, one payment",
          [(a.status_code, a.text) for a in answers])

    api.put(f"{url}/invoices/g-race-2", json=invoice_body(number="GRACE2"))

    def own_key(number):
        with Session() as session:
            session.headers.update(api.headers)
            return _pay(session, url, f"g-race-2-{number}", invoice="g-race-2")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(own_key, range(10)))
    codes = sorted(a.status_code for a in answers)
    state = control.get(f"{base}/_sandbox/state").json()
    check(codes == [201] + [409] * 9 and state["payments_by_invoice"]["g-race-2"] == 1,
          "10 concurrent requests with different keys for one invoice: one 201, nine 409",
          codes)
