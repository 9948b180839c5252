"""MFA (allauth.mfa): who must use it, how it is enforced, and the factors themselves.

A firm admin may require MFA of every firm user of the firm; such a user without a factor is
sent to set one up before anything else. The Django admin's staff always need it in production.
Codes are computed with pyotp, as an authenticator app would.
"""

import re
from html import unescape

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from meg.mfa import MFAPolicyMiddleware
from tests import factories
from tests.conftest import client_for
from tests.factories import PASSWORD

SETUP_URL = "/accounts/2fa/totp/activate/"
SECURITY_URL = "/cabinet/parametres/securite/"
FIRM_MESSAGE = "Votre cabinet exige la double authentification"


@pytest.fixture
def firm_requires_mfa(firm):
    firm.mfa_required = True
    firm.save()
    return firm


def page(response):
    return unescape(response.content.decode())


def log_in(client, email):
    """The password step of the login: the answer is the dashboard, or the MFA step."""
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def set_up_totp(client):
    """Through the setup page, as a user would: read the key, answer with the app's code.

    Returns the TOTP secret and the recovery codes shown right after.
    """
    setup = page(client.get(SETUP_URL))
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', setup).group(1)
    response = client.post(SETUP_URL, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302, page(response)
    codes_page = client.get(response["Location"])
    codes = re.findall(r"<li><code>(\d{8})</code></li>", page(codes_page))
    return secret, codes


def log_in_with_code(email, code):
    client = Client()
    assert log_in(client, email)["Location"] == "/accounts/2fa/authenticate/"
    return client, client.post("/accounts/2fa/authenticate/", {"code": code})


def has_factor(user):
    return Authenticator.objects.filter(user=user, type__in=["totp", "webauthn"]).exists()


# --- The firm's policy -------------------------------------------------------------------------


def test_without_the_firm_setting_firm_users_need_no_mfa(collaborateur):
    assert client_for(collaborateur).get("/cabinet/").status_code == 200


def test_the_demo_firm_does_not_require_mfa(db):
    assert factories.FirmFactory().mfa_required is False


def test_firm_user_without_mfa_is_sent_to_set_it_up_before_anything_else(
        firm_requires_mfa, collaborateur, company):
    client = Client()
    assert log_in(client, "collab@alpha.test")["Location"] == "/"
    for url in ["/cabinet/", "/cabinet/entreprises/", SECURITY_URL, f"/entreprise/{company.pk}/",
                "/accounts/password/change/"]:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, SETUP_URL), url
    setup = client.get(SETUP_URL)
    assert setup.status_code == 200
    assert FIRM_MESSAGE in page(setup)
    assert 'data-testid="totp-secret"' in page(setup)


def test_what_setting_mfa_up_needs_stays_open(firm_requires_mfa, collaborateur):
    client = client_for(collaborateur)  # a session without a recent login: re-authenticate
    response = client.get(SETUP_URL)
    assert response["Location"] == f"/accounts/reauthenticate/?next={SETUP_URL.replace('/', '%2F')}"
    for url in ["/accounts/2fa/", "/accounts/reauthenticate/"]:
        assert client.get(url).status_code == 200, url
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD,
                                                          "next": SETUP_URL})
    assert response["Location"] == SETUP_URL
    for url in [SETUP_URL, "/accounts/2fa/webauthn/add/"]:
        assert client.get(url).status_code == 200, url
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"


def test_api_and_webhooks_are_not_browser_pages(firm_requires_mfa, collaborateur):
    client = client_for(collaborateur)
    assert client.get("/api/v1/companies/").status_code == 200
    webhook = client.post("/partners/progbat/webhooks/", b"{}", content_type="application/json")
    assert webhook.status_code != 302  # answered by the webhook itself (unsigned: refused)


def test_static_files_are_not_redirected(firm_requires_mfa, collaborateur):
    request = RequestFactory().get("/static/css/meg.css")
    request.user = collaborateur
    middleware = MFAPolicyMiddleware(lambda request: None)
    assert middleware.process_view(request, lambda request: None, (), {}) is None


def test_htmx_requests_are_redirected_by_htmx(firm_requires_mfa, collaborateur):
    response = client_for(collaborateur).get("/cabinet/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == SETUP_URL


def test_firm_user_with_mfa_goes_where_they_asked(firm_requires_mfa, collaborateur):
    client = Client()
    assert log_in(client, "collab@alpha.test")["Location"] == "/"
    assert client.get("/")["Location"] == SETUP_URL
    set_up_totp(client)
    assert client.get("/cabinet/").status_code == 200


def test_company_users_and_other_firms_are_not_concerned(firm_requires_mfa, company, dirigeant,
                                                         other_firm_user):
    assert client_for(dirigeant).get(f"/entreprise/{company.pk}/").status_code == 200
    assert client_for(other_firm_user).get("/cabinet/").status_code == 200


def test_a_user_who_must_use_mfa_cannot_deactivate_their_last_factor(firm_requires_mfa,
                                                                     collaborateur):
    client = Client()
    log_in(client, "collab@alpha.test")
    set_up_totp(client)
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 200
    assert "Vous ne pouvez pas désactiver" in page(response)
    assert has_factor(collaborateur)


def test_mfa_stays_optional_for_others_who_may_deactivate_it(collaborateur):
    client = Client()
    log_in(client, "collab@alpha.test")
    set_up_totp(client)
    assert client.post("/accounts/2fa/totp/deactivate/")["Location"] == "/accounts/2fa/"
    assert not has_factor(collaborateur)


# --- The setting, in the firm's Paramètres -----------------------------------------------------


def test_firm_admin_requires_mfa_and_it_is_audited(firm, accountant):
    client = client_for(accountant)
    assert 'name="mfa_required"' in page(client.get(SECURITY_URL))
    response = client.post(SECURITY_URL, {"mfa_required": "on"})
    assert response["Location"] == SECURITY_URL
    firm.refresh_from_db()
    assert firm.mfa_required is True
    event = AuditEvent.objects.get(firm=firm, action="firm.mfa_required")
    assert (event.actor, event.data) == (accountant, {"mfa_required": True})
    assert event.summary == "MFA obligatoire activée pour les utilisateurs du cabinet"
    # The admin is a firm user like the others: their next page is the setup page.
    assert client.get(SECURITY_URL)["Location"] == SETUP_URL


def test_turning_it_off_is_audited_too_and_saving_unchanged_records_nothing(
        firm_requires_mfa, accountant):
    Authenticator.objects.create(user=accountant, type="totp", data={"secret": "A" * 32})
    client = client_for(accountant)
    client.post(SECURITY_URL, {"mfa_required": "on"})
    assert not AuditEvent.objects.filter(action="firm.mfa_required").exists()
    client.post(SECURITY_URL, {})
    firm_requires_mfa.refresh_from_db()
    assert firm_requires_mfa.mfa_required is False
    assert AuditEvent.objects.get(action="firm.mfa_required").data == {"mfa_required": False}


def test_a_collaborateur_cannot_require_mfa(firm, accountant, collaborateur):
    client = client_for(collaborateur)
    response = client.get(SECURITY_URL)
    assert response.status_code == 200
    assert 'name="mfa_required"' not in page(response)
    assert client.post(SECURITY_URL, {"mfa_required": "on"}).status_code == 403
    firm.refresh_from_db()
    assert firm.mfa_required is False
    assert not AuditEvent.objects.filter(action="firm.mfa_required").exists()


def test_the_admin_sees_who_has_set_mfa_up(firm, accountant, collaborateur):
    Authenticator.objects.create(user=collaborateur, type="totp", data={"secret": "A" * 32})
    html = page(client_for(accountant).get(SECURITY_URL))
    rows = re.findall(r"<tr><td>.*?</tr>", html, re.S)
    status = {("collab@alpha.test" in row, "Non activée" in row) for row in rows}
    assert status == {(True, False), (False, True)}


# --- Staff of the Django admin -----------------------------------------------------------------


@pytest.fixture
def staff(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


def test_in_production_staff_without_mfa_set_it_up_before_the_admin(staff, settings):
    settings.PRODUCTION = True
    client = Client()
    assert log_in(client, staff.email)["Location"] == "/"
    response = client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, SETUP_URL)
    assert "L'administration de MEG exige" in page(client.get(SETUP_URL))
    Authenticator.objects.create(user=staff, type="totp", data={"secret": "A" * 32})
    assert client.get("/admin/").status_code == 200


def test_outside_production_staff_reach_the_admin_without_mfa(staff, settings):
    settings.PRODUCTION = False
    assert client_for(staff).get("/admin/").status_code == 200


def test_the_admin_login_goes_through_allauth_and_its_second_factor(db):
    response = Client().get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"


# --- The factors ------------------------------------------------------------------------------


def test_totp_login_asks_for_the_code_of_the_app(collaborateur):
    client = Client()
    log_in(client, "collab@alpha.test")
    secret, _codes = set_up_totp(client)
    client.post("/accounts/logout/")

    client, wrong = log_in_with_code("collab@alpha.test", "000000")
    assert wrong.status_code == 200 and "Code incorrect" in page(wrong)
    assert client.get("/cabinet/")["Location"].startswith("/accounts/login/")

    code = pyotp.TOTP(secret).now()
    client, right = log_in_with_code("collab@alpha.test", code)
    assert right["Location"] == "/"
    assert client.get("/cabinet/").status_code == 200
    # A code, once used, does not open a second session.
    _client, replay = log_in_with_code("collab@alpha.test", code)
    assert replay.status_code == 200 and "Code incorrect" in page(replay)


def test_recovery_codes_work_once_each(collaborateur):
    client = Client()
    log_in(client, "collab@alpha.test")
    _secret, codes = set_up_totp(client)
    assert len(codes) == 10 and len(set(codes)) == 10

    client, first = log_in_with_code("collab@alpha.test", codes[0])
    assert first["Location"] == "/"
    assert client.get("/cabinet/").status_code == 200

    _client, again = log_in_with_code("collab@alpha.test", codes[0])
    assert again.status_code == 200 and "Code incorrect" in page(again)

    _client, second = log_in_with_code("collab@alpha.test", codes[1])
    assert second["Location"] == "/"
    remaining = page(client.get("/accounts/2fa/recovery-codes/"))
    assert "8 codes sur 10 sont encore disponibles" in remaining
    assert codes[0] not in remaining and codes[2] in remaining


def test_mfa_pages_speak_french_in_meg_layout(collaborateur):
    client = Client()
    log_in(client, "collab@alpha.test")
    index = page(client.get(reverse("mfa_index")))
    assert "Sécurité du compte" in index and "Application d'authentification" in index
    assert 'class="topbar"' in index  # MEG's base template
    assert "<script>" not in index and "onclick" not in index


def test_a_password_reset_does_not_skip_the_second_factor(collaborateur):
    """MEG logs the user in after a password reset: with MFA, only after the code step."""
    Authenticator.objects.create(user=collaborateur, type="totp", data={"secret": "A" * 32})
    client = Client()
    client.post("/accounts/password/reset/", {"email": "collab@alpha.test"})
    key_url = re.search(r"http://testserver(/accounts/password/reset/key/\S+)",
                        mail.outbox[-1].body).group(1)
    form_url = client.get(key_url)["Location"]  # allauth hides the key behind a redirect
    response = client.post(form_url, {"password1": "Nouveau-mot-de-passe-2026",
                                       "password2": "Nouveau-mot-de-passe-2026"})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/cabinet/")["Location"].startswith("/accounts/login/")
