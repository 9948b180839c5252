"""The guide's prescripteur case, in a real browser, against the live ProGBat sandbox.

The accountant connects their own ProGBat account, activates ProGBat for a client company,
gives the first-access consent, and opens ProGBat, which the sandbox shows in a new tab on the
company's newly created account.
"""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from companies.models import Company
from demo import seed as demo_data
from tests.e2e.test_core_journey import log_in
from tests.sandboxes import SANDBOX_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_prescripteur_case_from_connexion_to_the_progbat_tab(demo, progbat, page, screenshot):
    with scopes_disabled():
        company = Company.objects.get(name=demo_data.MARTIN["name"])
    log_in(page, demo_data.ACCOUNTANT)
    expect(page).to_have_url(re.compile(r"/cabinet/$"))

    # Paramètres → Connexions partenaires → Connexion, then ProGBat's own login page.
    page.locator("header details.dropdown summary", has_text="Paramètres").click()
    page.get_by_role("link", name="Connexions partenaires").click()
    card = page.get_by_test_id("progbat-card")
    expect(card.get_by_test_id("progbat-status")).to_have_text("Non connecté")
    card.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(progbat.url)}/login"))
    page.locator("input[name=username]").fill("cabinet-demo")
    page.locator("input[name=password]").fill(SANDBOX_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cabinet/parametres/connexions-partenaires/$"))
    expect(page.get_by_test_id("progbat-status")).to_have_text("Connecté")
    screenshot(page, "progbat-1-connected")

    # Activate ProGBat for Martin Rénovation.
    page.goto(f"/entreprise/{company.pk}/parametres/modules/")
    page.get_by_test_id("module-progbat").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Modules enregistrés : ProGBat.")

    # First access from the company space: consent, then the account is created (trial).
    page.locator("aside.space-nav").get_by_test_id("nav-module-progbat").click()
    expect(page.get_by_test_id("progbat-consent")).to_be_visible()
    screenshot(page, "progbat-2-consent")
    page.get_by_test_id("progbat-consent-accept").click()
    active = page.get_by_test_id("progbat-active")
    expect(active).to_contain_text("Mois d'essai Start + jusqu'au")
    screenshot(page, "progbat-3-active")

    # « Ouvrir ProGBat » opens a new tab on the company's ProGBat account.
    with page.context.expect_page() as new_tab:
        active.get_by_test_id("progbat-open").click()
    tab = new_tab.value
    tab.wait_for_load_state()
    expect(tab).to_have_url(re.compile(rf"^{re.escape(progbat.url)}/"))
    expect(tab.locator("body")).to_contain_text(demo_data.MARTIN["name"])
    expect(tab.locator("body")).to_contain_text(demo_data.ACCOUNTANT)
    screenshot(tab, "progbat-4-progbat-tab")
