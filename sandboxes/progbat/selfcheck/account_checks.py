"""Accounts as MEG's linking flows use them: search, creation, link, accesses, SSO, licences."""

import json
from datetime import UTC, datetime, timedelta

import requests
from standardwebhooks import Webhook

from sandboxes.common.selfcheck import Session, check

from .harness import PASSWORD, WEBHOOK_SECRET, wait_until


def check_accounts(api, url):
    found = api.get(f"{url}/accounts", params={"siren": "900000019"})
    results = found.json()["results"]
    check(found.status_code == 200 and [a["id"] for a in results] == ["acc_demo_dupont"]
          and results[0]["licence_status"] == "licensed" and results[0]["plan"] == "premium",
          "search by SIREN finds acc_demo_dupont (premium, licensed)", found.text)
    check(api.get(f"{url}/accounts", params={"siren": "123"}).status_code == 400,
          "a SIREN that is not 9 digits answers 400")
    anonymous = requests.get(f"{url}/accounts", params={"siren": "900000019"}, timeout=30)
    check(anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_token",
          "the API without a Bearer token answers 401 JSON")

    created = api.post(f"{url}/accounts", json={
        "siret": "90000002700012", "name": "Martin Rénovation", "address": "1 rue de Lyon",
        "dirigeant": {"email": "martin@demo.meg.test", "first_name": "Sophie",
                      "last_name": "Martin"},
        "plan": "start_plus", "trial_days": 30})
    account = created.json()
    trial_end = datetime.fromisoformat(account.get("trial_ends_at") or "1970-01-01T00:00:00Z")
    check(created.status_code == 201 and account["id"].startswith("acc_")
          and account["siren"] == "900000027" and account["licence_status"] == "trial"
          and abs(trial_end - datetime.now(UTC) - timedelta(days=30)) < timedelta(minutes=5),
          "creating an account (prescripteur) starts a 30-day start_plus trial", created.text)
    again = api.post(f"{url}/accounts", json={
        "siret": "90000002700012", "name": "Martin", "dirigeant": {"email": "x@demo.meg.test"}})
    check(again.status_code == 409 and again.json()["error"] == "account_exists",
          "a second account for the same SIREN answers 409 account_exists")
    taken = api.post(f"{url}/accounts", json={
        "siret": "90000010100012", "name": "Dupont Bis",
        "dirigeant": {"email": "dirigeant@demo.meg.test"}, "plan": "premium", "trial_days": 30})
    check(taken.status_code == 409 and taken.json()["error"] == "dirigeant_taken"
          and taken.json()["detail"], "a dirigeant of another account answers 409 dirigeant_taken")
    free = api.post(f"{url}/accounts", json={
        "siret": "90000011900014", "name": "Bernard Plâtrerie",
        "dirigeant": {"email": "bernard@demo.meg.test"}, "plan": None})
    check(free.status_code == 201 and free.json()["licence_status"] == "free"
          and free.json()["plan"] == "free" and free.json()["trial_ends_at"] is None,
          "an account without plan (distributeur) is free, licence to assign")
    malformed = api.post(f"{url}/accounts", json={"siret": "123", "dirigeant": {}})
    check(malformed.status_code == 400 and {"siret", "name", "dirigeant"} <= set(
        malformed.json()["fields"]), "a malformed account answers 400 with field details")
    licensed = api.post(f"{url}/accounts/{free.json()['id']}/licence", json={"plan": "premium"})
    check(licensed.status_code == 200 and licensed.json()["licence_status"] == "licensed",
          "assigning a licence makes the account licensed")
    missing = api.get(f"{url}/accounts/acc_nope")
    check(missing.status_code == 404 and missing.json()["error"] == "account_not_found",
          "an unknown account answers 404 account_not_found")

    link = f"{url}/accounts/acc_demo_lefevre/link"
    check(api.post(link, json={"username": "lefevre", "password": PASSWORD}).status_code == 200,
          "link with the credentials of a user of that account answers 200")
    for username, password, case in (("lefevre", "wrong", "a wrong password"),
                                     ("dupont", PASSWORD, "a user without access")):
        refused = api.post(link, json={"username": username, "password": password})
        check(refused.status_code == 403 and refused.json()["error"] == "bad_credentials",
              f"link with {case} answers 403 bad_credentials")

    users = f"{url}/accounts/acc_demo_dupont/users"
    first = api.post(users, json={"email": "expert@demo.meg.test", "role": "expert_comptable"})
    second = api.post(users, json={"email": "expert@demo.meg.test", "role": "expert_comptable"})
    check(first.status_code == 201 and first.json() == {
        "email": "expert@demo.meg.test", "role": "expert_comptable", "created": True},
        "adding an expert-comptable access answers 201")
    check(second.status_code == 200 and second.json()["created"] is False,
          "adding the same access again answers 200, no duplicate")
    dirigeant = api.post(f"{url}/accounts/acc_demo_lefevre/users",
                         json={"email": "dirigeant@demo.meg.test", "role": "dirigeant"})
    check(dirigeant.status_code == 409 and dirigeant.json()["error"] == "dirigeant_taken",
          "making the dirigeant of another account dirigeant here answers 409")

    defaults = api.put(f"{url}/accounts/acc_demo_dupont/settings", json={})
    check(defaults.json() == {"customer_account": "411000", "revenue_account": "706000",
                              "revenue_account_label": "Prestations de services",
                              "vat_account": "445720"}, "accounting settings default to PCG")


def check_sso(api, url):
    sso = api.post(f"{url}/accounts/acc_demo_dupont/sso", json={"email": "expert@demo.meg.test"})
    link = sso.json()["url"]
    expires = datetime.fromisoformat(sso.json()["expires_at"]) - datetime.now(UTC)
    check(sso.status_code == 200 and link.startswith("http://127.0.0.1:")
          and timedelta(0) < expires <= timedelta(minutes=2), "SSO answers a 2-minute URL")
    browser = Session()
    opened = browser.get(link)
    check(opened.status_code == 200 and "Compte ouvert : Dupont Bâtiment — connecté en tant que"
          " expert@demo.meg.test (expert-comptable)" in " ".join(opened.text.split())
          and "900000019" in opened.text, "the SSO URL opens the account page, saying whose")
    reused = Session().get(link)
    check(reused.status_code == 410 and 'data-testid="error-message"' in reused.text,
          "the same SSO URL a second time answers 410 with a French page")
    stranger = api.post(f"{url}/accounts/acc_demo_dupont/sso", json={"email": "x@nowhere.test"})
    check(stranger.status_code == 404 and stranger.json()["error"] == "user_not_found",
          "SSO for an e-mail without access answers 404 user_not_found")
    return browser


def check_backoffice(base, browser, api, url, receiver):
    """A distributeur assigns the licence of an account created without one."""
    free = api.post(f"{url}/accounts", json={
        "siret": "90000012700017", "name": "Roux Carrelage",
        "dirigeant": {"email": "roux@demo.meg.test"}}).json()["id"]
    page = browser.get(f"{base}/backoffice/")
    check(page.status_code == 200 and f'data-account-id="{free}"' in page.text
          and 'data-testid="licence-form"' in page.text,
          "the back-office lists the accounts, with a licence form for the free one")
    assigned = browser.post(f"{base}/backoffice/accounts/{free}/licence/", data={
        "plan": "start_plus", "csrfmiddlewaretoken": browser.cookies["progbat_csrftoken"]})
    account = api.get(f"{url}/accounts/{free}").json()
    check(assigned.status_code == 200 and account["licence_status"] == "licensed"
          and account["plan"] == "start_plus", "the back-office assigns a start_plus licence")
    events = wait_until(lambda: receiver.for_account("account.licence_changed", free))
    body = json.loads(events[-1][1]) if events else {}
    check(body.get("data") == {"account_id": free, "plan": "start_plus",
                               "licence_status": "licensed", "trial_ends_at": None}
          and Webhook(WEBHOOK_SECRET).verify(events[-1][1], events[-1][0]),
          "assigning a licence sends a signed account.licence_changed webhook", body)
    voisin = Session()
    voisin.get(f"{base}/login")
    voisin.post(f"{base}/login", data={
        "username": "cabinet-voisin", "password": PASSWORD,
        "csrfmiddlewaretoken": voisin.cookies["progbat_csrftoken"]})
    check(voisin.get(f"{base}/backoffice/").status_code == 403,
          "the back-office is refused to a user who is not a distributeur")
