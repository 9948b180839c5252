"""The test controls: state, injected faults (including lost answers), reset."""

from datetime import date

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
                          "execution_date": date.today().isoformat(), "idempotency_key": "pay-1"}
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
