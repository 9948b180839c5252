"""Finding 2: MEG's OpenID provider trusts only the clients staff created.

No page lets a user register a client; introspection answers only the resource server named in
MEG_OIDC_INTROSPECTION_CLIENTS; company claims go out only under their own scope, listed on the
consent page; a replayed authorization code revokes the tokens it gave (RFC 6749 §4.1.2).
The flow goes through Django's test client, with PKCE, as Libeo's sandbox does it over HTTP.
"""

import base64
import hashlib
import json
import secrets
from html import unescape
from io import StringIO
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import URLResolver, get_resolver
from oauth2_provider.models import get_access_token_model, get_application_model

from demo import seed as demo_data
from partners.libeo.models import LibeoConnectIntent, RedeemedAuthorizationCode
from partners.libeo.oidc_clients import oidc_client_create
from tests.conftest import client_for

LIBEO_CALLBACK = "http://127.0.0.1:8200/connect/meg/callback"
LIBEO_SCOPES = "openid email profile meg_company"
OTHER_CALLBACK = "https://rp.example.test/callback"


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def claims_of(id_token):
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class RelyingParty:
    """A confidential client doing what Libeo's sandbox does: authorization code with PKCE
    (S256), state and nonce, the code redeemed with HTTP Basic client authentication."""

    def __init__(self, client_id, secret, redirect_uri):
        self.client_id, self.secret, self.redirect_uri = client_id, secret, redirect_uri

    def authorization_url(self, scope):
        self.verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        return "/o/authorize/?" + urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": scope, "state": "st4te",
            "nonce": "n0nce", "code_challenge": challenge, "code_challenge_method": "S256"})

    def consent_page(self, browser, scope):
        response = browser.get(self.authorization_url(scope))
        assert response.status_code == 200, response.content[:500]
        return response

    def code(self, browser, scope):
        """The user clicks « Autoriser »: the code MEG sends back to the client."""
        page = self.consent_page(browser, scope)
        form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
        response = browser.post("/o/authorize/", {**form, "allow": "Authorize"})
        assert response.status_code == 302, response.content[:500]
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.redirect_uri
        query = parse_qs(location.query)
        assert query["state"] == ["st4te"]
        return query["code"][0]

    def redeem(self, code):
        return Client().post("/o/token/", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier}, HTTP_AUTHORIZATION=basic(self.client_id, self.secret))

    def tokens(self, browser, scope):
        response = self.redeem(self.code(browser, scope))
        assert response.status_code == 200, response.content
        return response.json()

    def refresh(self, refresh_token):
        return Client().post("/o/token/", {
            "grant_type": "refresh_token", "refresh_token": refresh_token},
            HTTP_AUTHORIZATION=basic(self.client_id, self.secret))


def userinfo(access_token):
    return Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


@pytest.fixture
def libeo(settings, db):
    """Libeo as the demo seed registers it."""
    settings.LIBEO_OIDC_REDIRECT_URIS = LIBEO_CALLBACK
    application = demo_data.register_libeo_client()
    return RelyingParty(application.client_id, settings.LIBEO_OIDC_CLIENT_SECRET, LIBEO_CALLBACK)


@pytest.fixture
def other_rp(db):
    """Another relying party staff created, that does not ask for the company."""
    application, secret = oidc_client_create(name="Autre service",
                                              redirect_uris=[OTHER_CALLBACK])
    return RelyingParty(application.client_id, secret, OTHER_CALLBACK)


@pytest.fixture
def resource_server(settings, db):
    application, secret = oidc_client_create(name="Serveur de ressources",
                                             resource_server=True)
    settings.MEG_OIDC_INTROSPECTION_CLIENTS = [application.client_id]
    return application.client_id, secret


@pytest.fixture
def paying(achats, dirigeant):
    """The dirigeant was sent to « Me connecter avec MEG » while paying for the company."""
    LibeoConnectIntent.objects.create(firm=achats.firm, company=achats, user=dirigeant)
    return achats


# --- No client registration, no management pages ---------------------------------------------

MANAGEMENT_PAGES = ["/o/applications/", "/o/applications/register/", "/o/applications/1/",
                    "/o/applications/1/update/", "/o/applications/1/delete/",
                    "/o/authorized_tokens/", "/o/authorized_tokens/1/delete/",
                    "/o/register/", "/o/device-authorization/", "/o/device/", "/o/logout/",
                    "/o/.well-known/oauth-authorization-server"]


@pytest.mark.parametrize("url", MANAGEMENT_PAGES)
def test_a_logged_in_user_finds_no_client_management_page(dirigeant, url):
    client = client_for(dirigeant)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "MEG — Libeo", "client_type": "confidential",
                             "authorization_grant_type": "authorization-code",
                             "redirect_uris": "https://evil.test/cb",
                             "algorithm": "RS256"}).status_code == 404
    assert not get_application_model().objects.exists()


def test_only_the_endpoints_libeo_uses_are_published():
    (provider,) = [entry for entry in get_resolver().url_patterns
                   if isinstance(entry, URLResolver) and str(entry.pattern) == "o/"]
    routes = {str(pattern.pattern) for pattern in provider.url_patterns}
    assert routes == {"authorize/", "token/", "revoke_token/", "introspect/", "userinfo/",
                      ".well-known/jwks.json", r"^\.well-known/openid-configuration/?$"}


def test_discovery_names_the_endpoints_libeo_uses(db):
    metadata = Client().get("/o/.well-known/openid-configuration").json()
    base = "http://testserver/o"
    assert metadata["issuer"] == base
    assert (metadata["authorization_endpoint"], metadata["token_endpoint"],
            metadata["userinfo_endpoint"], metadata["jwks_uri"]) == (
        f"{base}/authorize/", f"{base}/token/", f"{base}/userinfo/",
        f"{base}/.well-known/jwks.json")
    assert set(metadata["scopes_supported"]) == {"openid", "email", "profile", "meg_company"}
    assert {"sub", "email", "family_name", "meg_company_siren"} <= set(
        metadata["claims_supported"])
    assert Client().get("/o/.well-known/jwks.json").json()["keys"]


def test_the_command_creates_a_client_whose_secret_is_shown_once(dirigeant):
    out = StringIO()
    call_command("oidc_client", "create", "--name", "Partenaire",
                 "--redirect-uri", OTHER_CALLBACK, stdout=out)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    application = get_application_model().objects.get(client_id=lines["client_id"])
    assert application.name == "Partenaire" and application.redirect_uris == OTHER_CALLBACK
    assert application.client_secret != lines["client_secret"]  # only a hash is kept
    assert check_password(lines["client_secret"], application.client_secret)
    listing = StringIO()
    call_command("oidc_client", "list", stdout=listing)
    assert application.client_id in listing.getvalue()
    assert lines["client_secret"] not in listing.getvalue()
    # The client works: a code, then tokens.
    rp = RelyingParty(lines["client_id"], lines["client_secret"], OTHER_CALLBACK)
    assert "access_token" in rp.tokens(client_for(dirigeant), "openid email")


@pytest.mark.parametrize("args", [
    ["--name", "Sans retour"],
    ["--name", "Pas web", "--redirect-uri", "ftp://rp.example.test/cb"],
    ["--name", "Ressource", "--resource-server", "--redirect-uri", OTHER_CALLBACK],
])
def test_the_command_refuses_a_client_without_a_valid_redirect_uri(db, args):
    with pytest.raises(CommandError):
        call_command("oidc_client", "create", *args, stdout=StringIO())
    assert not get_application_model().objects.exists()


def test_the_command_creates_a_resource_server_then_deletes_it(settings, db):
    out = StringIO()
    call_command("oidc_client", "create", "--name", "API", "--resource-server",
                 "--client-id", "api-resource-server", stdout=out)
    assert "MEG_OIDC_INTROSPECTION_CLIENTS" in out.getvalue()
    secret = out.getvalue().split("client_secret: ")[1].split()[0]
    settings.MEG_OIDC_INTROSPECTION_CLIENTS = ["api-resource-server"]
    response = Client().post("/o/introspect/", {"token": "unknown"},
                             HTTP_AUTHORIZATION=basic("api-resource-server", secret))
    assert response.json() == {"active": False}
    call_command("oidc_client", "delete", "api-resource-server", stdout=StringIO())
    assert not get_application_model().objects.exists()
    with pytest.raises(CommandError):
        call_command("oidc_client", "delete", "api-resource-server", stdout=StringIO())


# --- Introspection: the resource server only --------------------------------------------------

def test_introspection_answers_the_resource_server(libeo, dirigeant, resource_server):
    tokens = libeo.tokens(client_for(dirigeant), LIBEO_SCOPES)
    response = Client().post("/o/introspect/", {"token": tokens["access_token"]},
                             HTTP_AUTHORIZATION=basic(*resource_server))
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True and body["client_id"] == libeo.client_id
    assert body["username"] == dirigeant.email


def test_introspection_refuses_every_other_caller(libeo, other_rp, dirigeant, resource_server,
                                                  settings):
    tokens = libeo.tokens(client_for(dirigeant), LIBEO_SCOPES)
    data = {"token": tokens["access_token"]}
    server_id, server_secret = resource_server
    callers = {
        "anonymous": (Client(), {}, 401),
        "a logged-in user": (client_for(dirigeant), {}, 401),
        "a bearer token": (Client(), {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"},
                           401),
        "a wrong secret": (Client(), {"HTTP_AUTHORIZATION": basic(server_id, "nope")}, 401),
        "Libeo": (Client(), {"HTTP_AUTHORIZATION": basic(libeo.client_id, libeo.secret)}, 403),
        "another client": (Client(), {"HTTP_AUTHORIZATION": basic(other_rp.client_id,
                                                                  other_rp.secret)}, 403),
    }
    for who, (client, headers, status) in callers.items():
        response = client.post("/o/introspect/", data, **headers)
        assert response.status_code == status, who
        assert "active" not in response.json(), who
    # Credentials in the body are no way around it.
    response = Client().post("/o/introspect/", {**data, "client_id": other_rp.client_id,
                                                "client_secret": other_rp.secret})
    assert response.status_code == 403
    # Nor is GET, with the token in the URL.
    response = Client().get("/o/introspect/", data,
                            HTTP_AUTHORIZATION=basic(server_id, server_secret))
    assert response.status_code == 405
    # Once taken off the list, the resource server is refused too.
    settings.MEG_OIDC_INTROSPECTION_CLIENTS = []
    response = Client().post("/o/introspect/", data,
                             HTTP_AUTHORIZATION=basic(server_id, server_secret))
    assert response.status_code == 403


def test_the_resource_server_gets_no_token_of_its_own(resource_server):
    response = Client().post("/o/token/", {"grant_type": "client_credentials"},
                             HTTP_AUTHORIZATION=basic(*resource_server))
    assert response.status_code in (400, 401)
    assert not get_access_token_model().objects.exists()


# --- Claims under their scope, and the consent page says so ----------------------------------

def test_libeo_gets_the_company_it_asked_for(libeo, dirigeant, paying):
    tokens = libeo.tokens(client_for(dirigeant), LIBEO_SCOPES)
    claims = claims_of(tokens["id_token"])
    assert (claims["email"], claims["meg_company_siren"], claims["meg_company_name"]) == (
        dirigeant.email, paying.siren, paying.name)
    assert claims["family_name"] == dirigeant.last_name
    info = userinfo(tokens["access_token"]).json()
    assert info["meg_company_siren"] == paying.siren


def test_a_client_without_the_company_scope_gets_no_company(other_rp, dirigeant, paying):
    tokens = other_rp.tokens(client_for(dirigeant), "openid email")
    claims = claims_of(tokens["id_token"])
    assert claims["email"] == dirigeant.email
    for claim in ("meg_company_siren", "meg_company_name", "name", "given_name",
                  "family_name"):
        assert claim not in claims, claim
    info = userinfo(tokens["access_token"]).json()
    assert info["email"] == dirigeant.email
    assert "meg_company_siren" not in info and "meg_company_name" not in info
    assert paying.siren not in json.dumps(info) + json.dumps(claims)


def test_openid_alone_tells_only_who_the_user_is(other_rp, dirigeant, paying):
    tokens = other_rp.tokens(client_for(dirigeant), "openid")
    personal = {"email", "email_verified", "name", "given_name", "family_name",
                "meg_company_siren", "meg_company_name"}
    assert not personal & set(claims_of(tokens["id_token"]))
    assert set(userinfo(tokens["access_token"]).json()) == {"sub"}


def shared_items(response):
    return [unescape(" ".join(item.split())) for item in
            response.content.decode().split('data-testid="oidc-shared">')[1]
            .split("</ul>")[0].replace("<strong>", "").replace("</strong>", "")
            .replace("</li>", "").split("<li>")[1:]]


def test_the_consent_page_lists_what_each_scope_shares(libeo, dirigeant, paying):
    page = libeo.consent_page(client_for(dirigeant), LIBEO_SCOPES)
    text = unescape(page.content.decode())
    assert "Libeo demande à vous identifier" in text
    assert shared_items(page) == [
        "Un identifiant de votre compte MEG (un numéro, sans autre donnée)",
        f"Votre adresse e-mail : {dirigeant.email}",
        f"Votre nom : {dirigeant.display_name}",
        "Le SIREN et le nom de l'entreprise pour laquelle vous vous connectez : "
        f"{paying.name} (SIREN {paying.siren})",
    ]


def test_the_consent_page_lists_nothing_more_than_the_scopes_asked(other_rp, dirigeant, paying):
    page = other_rp.consent_page(client_for(dirigeant), "openid email")
    assert shared_items(page) == [
        "Un identifiant de votre compte MEG (un numéro, sans autre donnée)",
        f"Votre adresse e-mail : {dirigeant.email}",
    ]
    text = unescape(page.content.decode())
    assert paying.siren not in text and "SIREN" not in text


def test_the_consent_page_says_when_no_company_will_be_sent(libeo, dirigeant):
    page = libeo.consent_page(client_for(dirigeant), LIBEO_SCOPES)
    assert shared_items(page)[-1].endswith(
        "aucune entreprise en cours de connexion : rien ne sera transmis")


def test_an_unknown_scope_is_refused(other_rp, dirigeant):
    response = client_for(dirigeant).get(other_rp.authorization_url("openid admin"))
    assert response.status_code == 302
    assert "error=invalid_scope" in response["Location"]


# --- A replayed code revokes what it gave -----------------------------------------------------

def test_a_replayed_code_is_refused_and_revokes_the_first_tokens(libeo, dirigeant, paying):
    code = libeo.code(client_for(dirigeant), LIBEO_SCOPES)
    first = libeo.redeem(code)
    assert first.status_code == 200
    tokens = first.json()
    assert userinfo(tokens["access_token"]).status_code == 200

    replay = libeo.redeem(code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert userinfo(tokens["access_token"]).status_code == 401
    refreshed = libeo.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert not get_access_token_model().objects.exists()
    assert RedeemedAuthorizationCode.objects.get().replayed_at is not None


def test_a_replay_also_revokes_tokens_refreshed_since(libeo, dirigeant):
    code = libeo.code(client_for(dirigeant), LIBEO_SCOPES)
    tokens = libeo.redeem(code).json()
    refreshed = libeo.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    newer = refreshed.json()
    assert userinfo(newer["access_token"]).status_code == 200

    assert libeo.redeem(code).json()["error"] == "invalid_grant"
    assert userinfo(newer["access_token"]).status_code == 401
    assert libeo.refresh(newer["refresh_token"]).status_code == 400


def test_a_code_of_another_client_is_refused_without_revoking_anything(libeo, other_rp,
                                                                       dirigeant):
    code = libeo.code(client_for(dirigeant), LIBEO_SCOPES)
    tokens = libeo.redeem(code).json()
    other_rp.verifier = libeo.verifier
    other_rp.redirect_uri = LIBEO_CALLBACK
    assert other_rp.redeem(code).json()["error"] == "invalid_grant"
    assert userinfo(tokens["access_token"]).status_code == 200


def test_two_exchanges_of_one_code_at_once_leave_no_token(libeo, dirigeant, monkeypatch):
    """The second exchange lands while the first is issuing its tokens (both passed the code
    check): the first finds the code gone, refuses, and revokes both exchanges' tokens."""
    from partners.libeo.oidc import MegOIDCValidator

    code = libeo.code(client_for(dirigeant), LIBEO_SCOPES)
    save = MegOIDCValidator.save_bearer_token
    concurrent = []

    def save_then_let_the_other_in(self, token, request, *args, **kwargs):
        result = save(self, token, request, *args, **kwargs)
        if not concurrent:
            concurrent.append(None)
            concurrent[0] = libeo.redeem(code)
        return result

    monkeypatch.setattr(MegOIDCValidator, "save_bearer_token", save_then_let_the_other_in)
    first = libeo.redeem(code)
    (second,) = concurrent
    assert second.status_code == 200  # it got there first
    # (django-oauth-toolkit sends this late error without a JSON content type)
    assert first.status_code == 400 and json.loads(first.content)["error"] == "invalid_grant"
    assert userinfo(second.json()["access_token"]).status_code == 401
    assert not get_access_token_model().objects.exists()
