"""MFA, in a real browser, on the demo data.

The demo firm's admin turns « MFA obligatoire » on; a collaborateur who logs in is then sent to
set up an authenticator app before anything else. The test plays the app: it reads the key the
setup page shows for manual entry and computes the codes with pyotp. The collaborateur logs out
and back in with a code; each recovery code opens one session, once. Then a security key and a
passkey, on Chromium's virtual authenticator, through allauth's WebAuthn scripts.
"""

import re
import time

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from demo import seed as demo_data
from firms.models import Firm
from firms.services import firm_user_create
from tests.e2e.test_core_journey import log_in, log_out

pytestmark = pytest.mark.e2e

PASSWORD = demo_data.DEMO_PASSWORD
ADMIN = demo_data.ACCOUNTANT  # expert@demo.meg.test, Claire Expert, the demo firm's admin
ADMIN_NAME = "Claire Expert"
COLLAB = "camille@demo.meg.test"
COLLAB_NAME = "Camille Martel"
SETUP_URL = re.compile(r"/accounts/2fa/totp/activate/$")
MFA_STEP_URL = re.compile(r"/accounts/2fa/authenticate/$")
DASHBOARD_URL = re.compile(r"/cabinet/$")


@pytest.fixture
def collaborateur(demo):
    """A collaborateur of the demo firm, added by its admin, with a password already set."""
    with scopes_disabled():
        firm = Firm.objects.get(siren=demo_data.DEMO_FIRM["siren"])
        admin = get_user_model().objects.get(email=ADMIN)
        user = firm_user_create(firm=firm, actor=admin, email=COLLAB, first_name="Camille",
                                last_name="Martel", role="collaborateur").user
    user.set_password(PASSWORD)
    user.save()
    return user


class AuthenticatorApp:
    """What a phone's app does: a code every 30 s. Never the same code twice (MEG refuses a
    replayed code): after one is used, the next step's code is used, which MEG accepts too."""

    def __init__(self, secret):
        self.totp = pyotp.TOTP(secret)
        self.used = set()

    def code(self):
        for offset in (0, 30, -30):
            code = self.totp.at(time.time() + offset)
            if code not in self.used:
                self.used.add(code)
                return code
        raise AssertionError("no fresh code")


def enter_code(page: Page, code: str) -> None:
    expect(page).to_have_url(MFA_STEP_URL)
    expect(page.get_by_role("heading", name="Double authentification")).to_be_visible()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Vérifier").click()


def test_firm_requires_mfa_and_a_collaborateur_sets_it_up(collaborateur, page, screenshot):
    # 1. The firm admin turns « MFA obligatoire » on, in Paramètres → Sécurité.
    log_in(page, ADMIN)
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_test_id("parametres-menu").locator("summary").click()
    page.get_by_role("link", name="Sécurité", exact=True).click()
    expect(page.get_by_role("heading", name="Double authentification (MFA)")).to_be_visible()
    switch = page.get_by_label("MFA obligatoire")
    expect(switch).not_to_be_checked()
    switch.check()
    screenshot(page, "mfa-1-firm-setting")
    page.get_by_role("button", name="Enregistrer").click()
    # The admin is a firm user too: their next page is the setup page.
    expect(page).to_have_url(SETUP_URL)
    expect(page.get_by_text("MFA obligatoire activée")).to_be_visible()
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="firm.mfa_required",
                                         actor__email=ADMIN).count() == 1
    log_out(page, ADMIN_NAME)

    # 2. The collaborateur logs in and is made to set up an authenticator app.
    log_in(page, COLLAB)
    expect(page).to_have_url(SETUP_URL)
    expect(page.get_by_text("Votre cabinet exige la double authentification")).to_be_visible()
    page.goto("/cabinet/entreprises/")  # anywhere else: back to the setup page
    expect(page).to_have_url(SETUP_URL)
    expect(page.locator(".mfa-qr svg")).to_be_visible()
    screenshot(page, "mfa-2-setup")
    app = AuthenticatorApp(re.sub(r"\s", "", page.get_by_test_id("totp-secret").inner_text()))
    page.get_by_label("Code affiché par l'application").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    page.get_by_label("Code affiché par l'application").fill(app.code())
    page.get_by_role("button", name="Activer").click()

    # 3. MEG shows the recovery codes once set up; then the collaborateur reaches MEG.
    expect(page.get_by_role("heading", name="Codes de récupération")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"\d{8}", code) for code in codes)
    screenshot(page, "mfa-3-recovery-codes")
    page.get_by_role("button", name="Continuer vers MEG").click()
    expect(page).to_have_url(DASHBOARD_URL)
    log_out(page, COLLAB_NAME)

    # 4. Logging in now takes the password, then a code of the app.
    log_in(page, COLLAB)
    enter_code(page, "000000")
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    screenshot(page, "mfa-4-code-step")
    enter_code(page, app.code())
    expect(page).to_have_url(DASHBOARD_URL)
    log_out(page, COLLAB_NAME)

    # 5. A recovery code stands in for the app, once.
    log_in(page, COLLAB)
    enter_code(page, codes[0])
    expect(page).to_have_url(DASHBOARD_URL)
    log_out(page, COLLAB_NAME)
    log_in(page, COLLAB)
    enter_code(page, codes[0])
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    enter_code(page, codes[1])
    expect(page).to_have_url(DASHBOARD_URL)

    # 6. « Sécurité du compte » in the user menu: the app is on, 8 codes are left, and the
    # firm's rule keeps the last factor from being switched off.
    page.locator("header details.dropdown summary", has_text=COLLAB_NAME).click()
    page.get_by_role("link", name="Sécurité du compte").click()
    expect(page.get_by_test_id("mfa-totp")).to_contain_text("Activée")
    expect(page.get_by_test_id("mfa-recovery-codes")).to_contain_text("8 sur 10 disponibles")
    expect(page.get_by_test_id("mfa-required")).to_be_visible()
    screenshot(page, "mfa-5-account-security")
    page.get_by_test_id("mfa-totp").get_by_role("button", name="Désactiver").click()
    expect(page.get_by_role("alert")).to_contain_text("Vous ne pouvez pas désactiver")


def add_virtual_authenticator(page: Page) -> None:
    """Chromium's virtual authenticator (DevTools protocol): a platform key with a PIN or a
    fingerprint, which answers at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})


def test_security_key_then_passkey_login(collaborateur, page, screenshot):
    add_virtual_authenticator(page)
    log_in(page, COLLAB)
    expect(page).to_have_url(DASHBOARD_URL)  # the demo firm does not require MFA

    # A passkey: a security key that may also log in on its own, without the password.
    page.goto("/accounts/2fa/")
    page.get_by_test_id("mfa-webauthn").get_by_role("button", name="Ajouter une clé").click()
    page.get_by_label("Nom de la clé").fill("Ordinateur du bureau")
    page.get_by_label("Clé d'accès").check()
    screenshot(page, "mfa-6-add-key")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    # The first factor comes with recovery codes.
    expect(page.get_by_role("heading", name="Codes de récupération")).to_be_visible()
    page.goto("/accounts/2fa/")
    expect(page.get_by_test_id("mfa-webauthn")).to_contain_text("1 clé")
    page.get_by_test_id("mfa-webauthn").get_by_role("button", name="Gérer les clés").click()
    expect(page.get_by_test_id("webauthn-keys")).to_contain_text("Ordinateur du bureau")
    expect(page.get_by_test_id("webauthn-keys")).to_contain_text("Clé d'accès")
    log_out(page, COLLAB_NAME)

    # With the password, the key is the second factor.
    log_in(page, COLLAB)
    expect(page).to_have_url(MFA_STEP_URL)
    page.get_by_role("button", name="Utiliser une clé de sécurité").click()
    expect(page).to_have_url(DASHBOARD_URL)
    log_out(page, COLLAB_NAME)

    # Or the passkey alone.
    page.get_by_role("button", name="Utiliser une clé d'accès").click()
    expect(page).to_have_url(DASHBOARD_URL)
