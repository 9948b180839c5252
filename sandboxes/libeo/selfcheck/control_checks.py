"""The test controls: state, injected faults (including lost answers), reset."""

from datetime import date, timedelta

from sandboxes.common.selfcheck import check, times_out

from .harness import DEMO_KEY, api_session, elapsed, invoice_body


def check_state(control, base):
    state = control.get(f"{base}/_sandbox/state").json()
    dupont = next(c for c in state["companies"] if c["siren"] == "900000019")
    invoice = next(i for i in state["invoices"] if i["external_id"] == "meg-inv-1")
    payment = next(p for p in state["payments"] if p["idempotency_key"] == "pay-1")
    check(dupont["plan"] == "free" and dupont["api_key_prefix"]
          and {"email": "dirigeant@demo.meg.test", "role": "owner"} in dupont["users"]
          and invoice["company_siren"] == "900000019" and invoice["versions"] == 3
          and invoice["last_body"]["number"] == "FA-2026-001b"
          and payment == {"id": payment["id"], "invoice_external_id": "meg-inv-1",
                          "company_siren": "900000019", "amount": "120.00", "status": "paid",
                          "executed_at": payment["executed_at"], "failure_reason": None,
                          "execution_date": date.today().isoformat(), "idempotency_key": "pay-1"}
          and payment["executed_at"]
          and state["payments_by_invoice"]["meg-inv-1"] == 1,
          "state lists companies, invoices (versions, last body), payments and counts")


def check_faults(control, base, url, api):
    """``api``: a Partnerships company's session, so the plan limit stays out of the way."""
    def faults(**plan):
        answer = control.post(f"{base}/_sandbox/faults", json=plan)
        if answer.status_code != 200:
            raise AssertionError(answer.text)

    check(control.post(f"{base}/_sandbox/faults", json={"rate": 2}).status_code == 400
          and control.post(f"{base}/_sandbox/faults", json={"rate": 1, "kinds": ["boom"]})
          .status_code == 400, "a malformed fault plan answers 400")

    faults(rate=1.0, kinds=["500"])
    failed = api.put(f"{url}/invoices/f-1", json=invoice_body(number="F1"))
    faults(rate=0)
    state = control.get(f"{base}/_sandbox/state").json()
    check(failed.status_code == 500 and failed.json()["error"] == "server_error"
          and "f-1" not in {i["external_id"] for i in state["invoices"]},
          "fault 500 at rate 1.0: the call answers 500 and nothing is done")

    api.put(f"{url}/invoices/f-1", json=invoice_body(number="F1"))
    pay = {"invoice_external_id": "f-1", "amount": "120.00",
           "execution_date": date.today().isoformat()}
    faults(rate=1.0, kinds=["500_after"])
    lost = api.post(f"{url}/payments", json=pay, headers={"Idempotency-Key": "f-pay-1"})
    faults(rate=0)
    state = control.get(f"{base}/_sandbox/state").json()
    made = [p for p in state["payments"] if p["idempotency_key"] == "f-pay-1"]
    check(lost.status_code == 500 and len(made) == 1,
          "fault 500_after: the payment is made, the answer is a 500 (lost answer)")
    retried = api.post(f"{url}/payments", json=pay, headers={"Idempotency-Key": "f-pay-1"})
    check(retried.status_code == 201 and retried.json()["id"] == made[0]["id"]
          and control.get(f"{base}/_sandbox/state").json()["payments_by_invoice"]["f-1"] == 1,
          "retrying with the same key gets the payment made during the lost answer")

    faults(rate=1.0, kinds=["slow"])
    slow, seconds = elapsed(lambda: api.get(f"{url}/me"))
    check(slow.status_code == 200 and seconds >= 2, "fault slow: answers normally after 2 s")
    faults(rate=1.0, kinds=["timeout"])
    check(times_out(lambda: api.get(f"{url}/me", timeout=1)),
          "fault timeout: no answer within a client timeout")
    faults(rate=1.0, kinds=["500"], except_me=True)
    check(api.get(f"{url}/me").status_code == 200
          and api.put(f"{url}/invoices/f-1", json=invoice_body()).status_code == 500,
          "except_me keeps /me working while the rest fails")

    def sequence():
        faults(rate=0.5, kinds=["500"], seed=42)
        return [api.get(f"{url}/me").status_code for _ in range(12)]

    first, second = sequence(), sequence()
    check(first == second and 500 in first and 200 in first,
          "the same seed gives the same sequence of faults", first)
    injected = control.get(f"{base}/_sandbox/state").json()["faults"]["injected"]
    check(injected.get("500") == first.count(500), "state counts the injected faults")
    faults(rate=0)
    check(api.get(f"{url}/me").status_code == 200, '{"rate": 0} turns the faults off')


def check_settlement(control, base, url, api):
    """Scheduled payments pay by themselves (at their date, or in fast mode); the controls
    play the bank (paid, failed) and the user in Libeo (cancelled)."""
    later = (date.today() + timedelta(days=20)).isoformat()

    def pay(key):
        api.put(f"{url}/invoices/{key}", json=invoice_body(number=key.upper()))
        return api.post(f"{url}/payments", headers={"Idempotency-Key": f"{key}-pay"}, json={
            "invoice_external_id": key, "amount": "120.00", "execution_date": later}).json()

    def shown(payment_id):
        return api.get(f"{url}/payments/{payment_id}").json()

    def clock(**plan):
        return control.post(f"{base}/_sandbox/clock", json=plan)

    def force(payment_id, **verdict):
        return control.post(f"{base}/_sandbox/payments/{payment_id}", json=verdict)

    held = pay("s-held")
    check(shown(held["id"]) == {**held, "status": "scheduled", "executed_at": None,
                                "failure_reason": None},
          "a payment for a later date reads scheduled, not executed yet", shown(held["id"]))
    check(clock(pay_after_seconds=-1).status_code == 400 and clock().status_code == 400,
          "a malformed clock answers 400")
    check(clock(pay_after_seconds=0).json() == {"pay_after_seconds": 0.0}
          and shown(held["id"])["status"] == "paid"
          and shown(held["id"])["executed_at"].endswith("Z"),
          "fast mode: a scheduled payment reads paid, with when the money left")
    check(clock(pay_after_seconds=None).status_code == 200
          and shown(held["id"])["status"] == "scheduled",
          "back to the execution date: it reads scheduled again")

    failed = force(held["id"], status="failed", failure_reason="IBAN du fournisseur clôturé.")
    check(failed.status_code == 200 and shown(held["id"])["status"] == "failed"
          and shown(held["id"])["failure_reason"] == "IBAN du fournisseur clôturé."
          and shown(held["id"])["executed_at"] is None,
          "the bank fails it: failed, with its reason", failed.text)
    again = api.post(f"{url}/payments", headers={"Idempotency-Key": "s-held-pay-2"}, json={
        "invoice_external_id": "s-held", "amount": "120.00", "execution_date": later})
    check(again.status_code == 201, "a failed payment frees the invoice: paid again", again.text)

    cancelled = pay("s-cancel")
    force(cancelled["id"], status="cancelled")
    check(shown(cancelled["id"])["status"] == "cancelled"
          and shown(cancelled["id"])["failure_reason"] == "Paiement annulé dans Libeo.",
          "cancelled in Libeo: cancelled, with a reason by default", shown(cancelled["id"]))
    paid = pay("s-paid")
    force(paid["id"], status="paid", executed_at="2026-12-01T09:30:00+01:00")
    check(shown(paid["id"])["executed_at"] == "2026-12-01T08:30:00Z",
          "the bank pays it at a given moment: executed_at in UTC", shown(paid["id"]))
    check(force(paid["id"], status="refunded").status_code == 400
          and force(paid["id"], status="paid", executed_at="tomorrow").status_code == 400,
          "an unknown status or an unreadable moment answers 400")

    control.post(f"{base}/_sandbox/faults", json={"rate": 1.0, "kinds": ["429"],
                                                  "retry_after": 7, "except_me": True})
    limited = api.get(f"{url}/payments/{paid['id']}")
    control.post(f"{base}/_sandbox/faults", json={"rate": 0})
    check(limited.status_code == 429 and limited.headers.get("Retry-After") == "7"
          and limited.json()["error"] == "rate_limited",
          "fault 429: too many requests, with Retry-After", limited.text)


def check_reset(control, base, url):
    reset = control.post(f"{base}/_sandbox/reset")
    state = control.get(f"{base}/_sandbox/state").json()
    me = api_session(DEMO_KEY).get(f"{url}/me").json()
    check(reset.status_code == 200 and [c["siren"] for c in state["companies"]] == ["900000019"]
          and state["invoices"] == [] and state["payments"] == []
          and state["faults"]["rate"] == 0 and me["users"] == [
              {"email": "dirigeant@demo.meg.test", "role": "owner"},
              {"email": "expert@demo.meg.test", "role": "accountant"}],
          "reset goes back to the seed (Dupont Bâtiment, its two users, the demo key)", state)
