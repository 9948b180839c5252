"""MEG's OAuth connection: login page, authorize with PKCE and state, tokens, rotation."""

from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from sandboxes.common.selfcheck import Session, check

from .harness import CLIENT_ID, CLIENT_SECRET, PASSWORD, REDIRECT_URI


def check_oauth(base):
    """Login page → authorize (PKCE S256, state) → code → tokens; refresh rotates."""
    browser = Session()
    login_page = browser.get(f"{base}/login")
    check(login_page.status_code == 200 and "<title>Connexion à ProGBat</title>" in
          login_page.text, "login page is titled « Connexion à ProGBat »")

    client = OAuth2Session(CLIENT_ID, CLIENT_SECRET, redirect_uri=REDIRECT_URI,
                           code_challenge_method="S256")
    verifier = generate_token(48)
    authorize_url, state = client.create_authorization_url(f"{base}/oauth/authorize",
                                                           code_verifier=verifier)
    anonymous = browser.get(authorize_url, allow_redirects=False)
    check(anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"],
          "authorize sends an anonymous browser to the login page")

    next_path = authorize_url.removeprefix(base)
    bad = browser.post(f"{base}/login", allow_redirects=False, data={
        "username": "cabinet-demo", "password": "wrong", "next": next_path,
        "csrfmiddlewaretoken": browser.cookies["progbat_csrftoken"]})
    check(bad.status_code == 200 and 'data-testid="login-error"' in bad.text,
          "a wrong password stays on the login page with an error")
    logged_in = browser.post(f"{base}/login", allow_redirects=False, data={
        "username": "cabinet-demo", "password": PASSWORD, "next": next_path,
        "csrfmiddlewaretoken": browser.cookies["progbat_csrftoken"]})
    check(logged_in.status_code == 302 and logged_in.headers["Location"] == next_path,
          "login (CSRF) sends the browser back to authorize")

    callback = browser.get(authorize_url, allow_redirects=False).headers["Location"]
    query = parse_qs(urlsplit(callback).query)
    check(callback.startswith(REDIRECT_URI) and query.get("state") == [state] and "code" in query,
          "authorize redirects to the exact redirect URI with a code and the state", callback)
    token = client.fetch_token(f"{base}/oauth/token", authorization_response=callback,
                               code_verifier=verifier)
    check({"access_token", "refresh_token", "expires_in"} <= set(token)
          and token["token_type"] == "Bearer", "the code is exchanged for tokens")

    replay = requests.post(f"{base}/oauth/token", timeout=30, auth=(CLIENT_ID, CLIENT_SECRET),
                           data={"grant_type": "authorization_code", "code": query["code"][0],
                                 "redirect_uri": REDIRECT_URI, "code_verifier": verifier})
    check(replay.status_code == 400 and replay.json()["error"] == "invalid_grant",
          "an authorization code works once")
    no_pkce = browser.get(f"{base}/oauth/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
        "state": "s1"})
    check("error=invalid_request" in no_pkce.headers.get("Location", ""),
          "an authorization request without PKCE is refused", no_pkce.headers.get("Location"))
    other_port = REDIRECT_URI.replace(":8000/", ":8001/")
    wrong_uri = browser.get(client.create_authorization_url(
        f"{base}/oauth/authorize", code_verifier=verifier, redirect_uri=other_port)[0],
        allow_redirects=False)
    check(wrong_uri.status_code == 400 and "Location" not in wrong_uri.headers,
          "a redirect URI differing only by its port is refused (exact match)")

    old_refresh = token["refresh_token"]
    rotated = client.refresh_token(f"{base}/oauth/token", refresh_token=old_refresh)
    check(rotated["refresh_token"] != old_refresh and rotated["access_token"] != token[
        "access_token"], "refresh returns a new access token and a new refresh token")
    reuse = requests.post(f"{base}/oauth/token", timeout=30, auth=(CLIENT_ID, CLIENT_SECRET),
                          data={"grant_type": "refresh_token", "refresh_token": old_refresh})
    check(reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant",
          "a used refresh token is refused the second time (invalid_grant)", reuse.text)
    return browser, client, rotated


def api_session(base, access_token):
    api = Session()
    api.headers["Authorization"] = f"Bearer {access_token}"
    return api, f"{base}/api/v1"
