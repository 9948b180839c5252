"""The core journey, in a real browser, on the demo data.

An accountant logs in, reads the firm dashboard, activates the *Achats* module for one of
the firm's companies; that company's dirigeant then logs in and finds *Achats* in the
company space — and only the modules the firm activated.
"""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from companies.models import Company
from demo import seed as demo_data

pytestmark = pytest.mark.e2e

PASSWORD = demo_data.DEMO_PASSWORD
ACCOUNTANT = demo_data.ACCOUNTANT  # expert@demo.meg.test, Claire Expert
ACCOUNTANT_NAME = "Claire Expert"
DIRIGEANT = demo_data.MARTIN["dirigeant"][0]  # martin@demo.meg.test
COMPANY_NAME = demo_data.MARTIN["name"]  # Martin Rénovation

# The demo firm as ``seed_demo`` builds it (demo/seed.py), counted by hand rather than asked of
# the code that draws the dashboard. Companies: Dupont, Martin and Lefèvre, activated, plus 50
# numbered ones: n % 10 in (1, 2) stay created (10), n % 10 == 3 are inactivated (5), the other
# 35 are activated; n % 3 == 0 are trésorerie dossiers (16). Licences: Dupont's (premium) and
# Martin's (free) run for months; each numbered company has one (premium when n % 3 == 0), that
# ended 10 days ago when n % 5 == 0 (10), ends in 15 days when n % 5 == 1 (10), else in 200 (30).
NUMBERED_COMPANIES = 50
DASHBOARD_FIGURES = {
    "companies-created": 3 + 50,  # « Créées »: every company of the firm, whatever its state
    "companies-activated": 3 + 35,
    "companies-inactivated": 5,
    "licences-activated": 2 + 10 + 30,  # valid today, those about to end included
    "licences-expiring": 10,  # valid today and ending within 30 days
    "licences-expired": 10,
}
# Legends of the two rings. Premium licences valid today: Dupont's, and the 16 numbered
# companies with n % 3 == 0 minus the 3 of them (15, 30, 45) whose licence has ended.
DONUT_LEGENDS = {
    "widget-dossiers": {"Engagement": 53 - 16, "Compta de trésorerie": 16},
    "widget-repartition-licences": {"MEG Premium": 1 + 16 - 3, "MEG Free": 42 - 14},
}


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "button[type=submit]").click()


def log_out(page: Page, display_name: str) -> None:
    """Through the user menu of the top bar: open it, then « Se déconnecter »."""
    page.locator("header details.dropdown summary", has_text=display_name).click()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_accountant_activates_a_module_that_the_dirigeant_then_sees(demo, page, screenshot):
    with scopes_disabled():
        company = Company.objects.get(name=COMPANY_NAME)
    space_url = f"/entreprise/{company.pk}/"

    # 1. The accountant logs in and lands on the firm dashboard.
    log_in(page, ACCOUNTANT)
    expect(page).to_have_url(re.compile(r"/cabinet/$"))

    # 2. The dashboard shows the figures of the demo firm, counted by hand.
    assert demo_data.EXTRA_COMPANIES == NUMBERED_COMPANIES, "the hand count needs updating"
    for testid, value in DASHBOARD_FIGURES.items():
        expect(page.get_by_test_id(testid), testid).to_have_text(str(value))
    for testid, legend in DONUT_LEGENDS.items():
        for label, value in legend.items():
            expect(page.get_by_test_id(testid), f"{testid} {label}").to_contain_text(
                re.compile(rf"{label} : {value} \("))
    screenshot(page, "1-dashboard")

    # 3. Companies list → the company → « Paramétrage des modules ».
    page.get_by_role("navigation").get_by_role("link", name="Entreprises").first.click()
    expect(page).to_have_url(re.compile(r"/cabinet/entreprises/$"))
    screenshot(page, "2-company-list")
    page.get_by_role("searchbox", name="Rechercher").fill("Martin")
    expect(page.locator("#company-table")).to_contain_text("1 entreprise")
    page.get_by_role("link", name=COMPANY_NAME).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY_NAME)
    # The detail page's actions are links styled as buttons (<a role="button">).
    page.get_by_role("button", name="Paramétrage des modules").click()
    expect(page).to_have_url(re.compile(rf"{space_url}parametres/modules/$"))

    # 4. It ticks « Achats » and saves.
    achats = page.get_by_test_id("module-achats")
    expect(achats).not_to_be_checked()
    achats.check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Modules enregistrés : Achats.")
    expect(page.get_by_test_id("module-achats")).to_be_checked()
    screenshot(page, "3-module-settings")
    log_out(page, ACCOUNTANT_NAME)

    # 5. The dirigeant logs in, lands in the company space and finds « Achats » there.
    log_in(page, DIRIGEANT)
    expect(page).to_have_url(re.compile(rf"{space_url}$"))
    nav = page.locator("aside.space-nav")
    expect(nav.get_by_test_id("nav-module-achats")).to_have_text("Achats")
    expect(nav.locator("[data-testid^=nav-module-]")).to_have_count(1)  # Achats alone
