"""The test controls: delivery state, API faults, token expiry and revocation, reset."""

import requests

from sandboxes.common.selfcheck import Session, check, times_out

from .harness import CLIENT_ID, CLIENT_SECRET
from .oauth_checks import api_session


def check_controls(base, api, url, client, token, invoice_ids):
    control = Session()
    state = control.get(f"{base}/_sandbox/state").json()
    by_invoice = {(d["invoice_id"], d["version"]): d for d in state["deliveries"]}
    validated, updated, rejected = (by_invoice.get((invoice_ids[0], 1)),
                                    by_invoice.get((invoice_ids[0], 2)),
                                    by_invoice.get((invoice_ids[1], 1)))
    check(validated and validated["status"] == "delivered" and validated["attempts"] == 2
          and validated["last_status"] == 202 and updated["type"] == "invoice.updated"
          and rejected["status"] == "rejected" and rejected["last_status"] == 422,
          "state lists the deliveries: delivered after a retry, rejected on 4xx", state)
    check({"email": "expert@demo.meg.test", "role": "expert_comptable"}
          in state["access_grants"]["acc_demo_dupont"] and state["refresh_token_uses"] == 2,
          "state lists access grants and refresh-token uses", state)

    control.post(f"{base}/_sandbox/faults", json={"api": "500"})
    failing = api.get(f"{url}/accounts/acc_demo_dupont")
    check(failing.status_code == 500 and failing.json()["error"] == "server_error",
          "fault 500: the API answers 500 server_error")
    control.post(f"{base}/_sandbox/faults", json={"api": "slow"})
    check(times_out(lambda: api.get(f"{url}/accounts/acc_demo_dupont", timeout=1)),
          "fault slow: the API does not answer within a client timeout")
    control.post(f"{base}/_sandbox/faults", json={"api": None})
    check(api.get(f"{url}/accounts/acc_demo_dupont").status_code == 200,
          "resetting the fault brings the API back")

    control.post(f"{base}/_sandbox/tokens/expire")
    check(api.get(f"{url}/accounts/acc_demo_dupont").status_code == 401,
          "expired access tokens answer 401")
    fresh = client.refresh_token(f"{base}/oauth/token", refresh_token=token["refresh_token"])
    fresh_api, _ = api_session(base, fresh["access_token"])
    check(fresh_api.get(f"{url}/accounts/acc_demo_dupont").status_code == 200,
          "a refresh after expiry gives a working access token")
    control.post(f"{base}/_sandbox/tokens/revoke")
    dead = requests.post(f"{base}/oauth/token", timeout=30, auth=(CLIENT_ID, CLIENT_SECRET),
                         data={"grant_type": "refresh_token",
                               "refresh_token": fresh["refresh_token"]})
    check(fresh_api.get(f"{url}/accounts/acc_demo_dupont").status_code == 401
          and dead.json().get("error") == "invalid_grant",
          "revoked tokens: 401 on the API, invalid_grant on refresh")

    created = control.post(f"{base}/_sandbox/users", json={
        "username": "testeur", "password": "pw-testeur-1", "email": "testeur@demo.meg.test"})
    check(created.status_code == 201, "a test login can be created")
    control.post(f"{base}/_sandbox/reset")
    state = control.get(f"{base}/_sandbox/state").json()
    check([a["id"] for a in state["accounts"]] == ["acc_demo_dupont", "acc_demo_lefevre"]
          and state["deliveries"] == [] and state["refresh_token_uses"] == 0,
          "reset goes back to the two seeded accounts", state)
