"""« Me connecter avec MEG »: OIDC against (a fake) MEG, account creation, the exchange code."""

import time
from urllib.parse import parse_qs, urlsplit

import requests

from sandboxes.common.selfcheck import Session, check

from .harness import CLIENT_ID, MEG, api_session, csrf

RETURN_TO = f"{MEG}/entreprise/7/achats/factures/31/payer?onglet=reglements"


def _start(base, browser, return_to=RETURN_TO):
    return browser.get(f"{base}/connect/meg", params={"return_to": return_to},
                       allow_redirects=False)


def _through_meg(base, fake, **plan):
    """A browser that went to MEG and came back: the answer of Libeo's callback."""
    browser = Session()
    authorize = _start(base, browser).headers["Location"]
    fake.next_token(**plan)
    callback = browser.get(authorize, allow_redirects=False).headers["Location"]
    return browser, browser.get(callback, allow_redirects=False), callback


def _create(base, browser, **data):
    if "libeo_csrftoken" not in browser.cookies:  # a page without a form sets no CSRF cookie
        browser.get(f"{base}/")
    return browser.post(f"{base}/connect/meg/compte", allow_redirects=False,
                        data={"csrfmiddlewaretoken": csrf(browser), **data})


def _code_from(response):
    location = response.headers.get("Location", "")
    return location, parse_qs(urlsplit(location).query).get("code", [None])[0]


def check_return_to(base):
    for return_to, case in (("https://evil.example/steal", "another site"),
                            ("http://127.0.0.1:8001/x", "MEG's host on another port"),
                            ("http://127.0.0.1:8000@evil.example/", "userinfo tricks"),
                            ("/entreprise/7/", "a relative URL"),
                            ("javascript:alert(1)", "a javascript: URL")):
        refused = _start(base, Session(), return_to)
        check(refused.status_code == 400 and "Location" not in refused.headers
              and 'data-testid="error-message"' in refused.text,
              f"return_to on {case} is refused with a 400 page")


def check_authorize_request(base, fake):
    browser = Session()
    started = _start(base, browser)
    location = started.headers.get("Location", "")
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    check(started.status_code == 302 and location.startswith(f"{fake.issuer}/authorize/?"),
          "/connect/meg redirects to MEG's authorization endpoint (from discovery)", location)
    check(query.get("response_type") == "code" and query.get("client_id") == CLIENT_ID
          and query.get("redirect_uri") == f"{base}/connect/meg/callback"
          and {"openid", "email", "profile", "meg_company"} <= set(query["scope"].split())
          and len(query.get("state", "")) >= 20 and len(query.get("nonce", "")) >= 20
          and query.get("code_challenge_method") == "S256"
          and len(query.get("code_challenge", "")) == 43,
          "authorization request: code, client id, callback, scope openid email profile "
          "meg_company, state, nonce, PKCE S256", query)
    second = {key: values[0] for key, values in parse_qs(urlsplit(
        _start(base, browser).headers["Location"]).query).items()}
    check(all(second[name] != query[name] for name in ("state", "nonce", "code_challenge")),
          "state, nonce and PKCE challenge are fresh on every login")


def check_account_creation(base, url, fake):
    browser, callback, callback_url = _through_meg(base, fake)
    check(callback.status_code == 302 and callback.headers["Location"] == "/connect/meg/compte",
          "the callback validates the ID token and moves on to the account page",
          callback.text[:300])
    token_request = fake.token_requests[-1]
    check(token_request["authorization"].startswith("Basic ")
          and token_request["form"]["grant_type"] == "authorization_code"
          and token_request["form"].get("code_verifier"),
          "the code is redeemed with client_secret_basic and the PKCE verifier")
    page = browser.get(f"{base}/connect/meg/compte")
    check(page.status_code == 200 and "<title>Créer votre compte Libeo</title>" in page.text
          and "nouveau@demo.meg.test" in page.text and "Martin Rénovation" in page.text
          and "Créer mon compte" in page.text and 'data-testid="siren-input"' not in page.text,
          "« Créer votre compte Libeo » shows who MEG vouched for and the company it named")
    replayed = Session().get(callback_url, allow_redirects=False)
    check(replayed.status_code == 400, "the callback URL does not work in another browser "
                                       "(state bound to the session)")
    created = _create(base, browser)
    location, code = _code_from(created)
    query = parse_qs(urlsplit(location).query)
    check(created.status_code == 302 and location.startswith(
        f"{MEG}/entreprise/7/achats/factures/31/payer?") and query.get("onglet") == [
        "reglements"] and code, "« Créer mon compte » sends the browser back to return_to "
                                "with its query kept and a code", location)

    exchange = f"{url}/meg/connections/exchange"
    traded = requests.post(exchange, json={"code": code}, timeout=30)
    api_key = traded.json().get("api_key", "")
    check(traded.status_code == 200 and set(traded.json()) == {"api_key"}
          and api_key.startswith("lk_"), "MEG trades the code for {api_key}", traded.text)
    me = api_session(api_key).get(f"{url}/me").json()
    check(me["company"] == {"siren": "900000027", "name": "Martin Rénovation"}
          and me["plan"] == "free"
          and me["users"] == [{"email": "nouveau@demo.meg.test", "role": "owner"}],
          "the new account: free plan, the MEG user as owner", me)
    again = requests.post(exchange, json={"code": code}, timeout=30)
    check(again.status_code == 400 and again.json()["error"] == "invalid_code",
          "a code works once (400 invalid_code the second time)")
    check(requests.post(exchange, json={"code": "made-up"}, timeout=30).json()["error"]
          == "invalid_code", "an unknown code answers 400 invalid_code")
    logged_in = browser.get(f"{base}/entreprises/900000027/")
    check(logged_in.status_code == 200, "the new owner is logged into Libeo's pages")


def check_missing_company_claims(base, url, fake):
    browser, callback, _ = _through_meg(base, fake, claims={"email": "sans@demo.meg.test"},
                                        drop=("meg_company_siren", "meg_company_name"))
    page = browser.get(f"{base}/connect/meg/compte")
    check(callback.status_code == 302 and 'data-testid="siren-input"' in page.text
          and 'data-testid="name-input"' in page.text,
          "without MEG's company claims the page asks for SIREN and company name")
    wrong = _create(base, browser, siren="900000020", name="Sans Claims")
    check(wrong.status_code == 400 and "SIREN invalide" in wrong.text,
          "a SIREN with a bad check digit is refused")
    created = _create(base, browser, siren="900 000 092", name="Sans Claims",
                      accountant_email="expert@demo.meg.test")
    _, code = _code_from(created)
    api_key = requests.post(f"{url}/meg/connections/exchange", json={"code": code},
                            timeout=30).json()["api_key"]
    me = api_session(api_key).get(f"{url}/me").json()
    check(created.status_code == 302 and me["company"]["siren"] == "900000092"
          and {"email": "expert@demo.meg.test", "role": "accountant"} in me["users"],
          "the account is created with the SIREN typed in, and the accountant given", me)


def check_existing_company(base, url, fake):
    member = {"email": "dirigeant@demo.meg.test", "meg_company_siren": "900000019",
              "meg_company_name": "Dupont Bâtiment"}
    browser, _, _ = _through_meg(base, fake, claims=member)
    page = browser.get(f"{base}/connect/meg/compte")
    check("<title>Connecter votre compte Libeo</title>" in page.text,
          "a user of a company Libeo already knows is offered to connect it")
    _, code = _code_from(_create(base, browser))
    api_key = requests.post(f"{url}/meg/connections/exchange", json={"code": code},
                            timeout=30).json()["api_key"]
    check(api_session(api_key).get(f"{url}/me").json()["company"]["siren"] == "900000019",
          "connecting it gives a new key for that existing account")

    stranger = {**member, "email": "intrus@demo.meg.test"}
    browser, _, _ = _through_meg(base, fake, claims=stranger)
    page = browser.get(f"{base}/connect/meg/compte")
    refused = _create(base, browser)
    check('data-testid="create-account"' not in page.text and refused.status_code == 409
          and "Location" not in refused.headers,
          "someone who is not a user of an existing account cannot take it over")


def check_id_token_validation(base, fake):
    cases = [
        ({"key": "rogue"}, "signed with another key"),
        ({"key": "hs256"}, "signed HS256 with the client secret"),
        ({"claims": {"nonce": "not-the-nonce"}}, "with a wrong nonce"),
        ({"drop": ("nonce",)}, "without nonce"),
        ({"claims": {"aud": "someone-else"}}, "for another audience"),
        ({"claims": {"iss": "http://127.0.0.1:8000/other"}}, "from another issuer"),
        ({"claims": {"exp": int(time.time()) - 3600}}, "expired"),
        ({"id_token": False}, "missing"),
    ]
    for plan, case in cases:
        _, callback, _ = _through_meg(base, fake, **plan)
        check(callback.status_code == 400 and 'data-testid="error-message"' in callback.text
              and "Location" not in callback.headers,
              f"an ID token {case} is refused with a 400 page")

    browser = Session()
    authorize = _start(base, browser).headers["Location"]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    denied = browser.get(f"{base}/connect/meg/callback",
                         params={"error": "access_denied", "state": state})
    check(denied.status_code == 400 and 'data-testid="back-to-meg"' in denied.text,
          "a refusal at MEG (error=access_denied) shows a page with a way back to MEG")
    forged = Session().get(f"{base}/connect/meg/callback", params={"code": "x", "state": "y"})
    check(forged.status_code == 400, "a callback with an unknown state is refused")


def check_exchange_expiry(base, url, control):
    expired = control.post(f"{base}/_sandbox/exchange_codes",
                           json={"siren": "900000019", "expires_in": 0}).json()["code"]
    refused = requests.post(f"{url}/meg/connections/exchange", json={"code": expired},
                            timeout=30)
    check(refused.status_code == 400 and refused.json()["error"] == "invalid_code",
          "an expired code answers 400 invalid_code")


def check_connect(base, url, fake, control):
    check_return_to(base)
    check_authorize_request(base, fake)
    check_account_creation(base, url, fake)
    check_missing_company_claims(base, url, fake)
    check_existing_company(base, url, fake)
    check_id_token_validation(base, fake)
    check_exchange_expiry(base, url, control)
