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
from firms.models import Firm
from firms.selectors import dashboard_figures
from meg import demo as demo_data

pytestmark = pytest.mark.e2e

PASSWORD = demo_data.DEMO_PASSWORD
ACCOUNTANT = demo_data.ACCOUNTANT  # expert@demo.meg.test, Claire Expert
ACCOUNTANT_NAME = "Claire Expert"
DIRIGEANT = demo_data.MARTIN["dirigeant"][0]  # martin@demo.meg.test
COMPANY_NAME = demo_data.MARTIN["name"]  # Martin Rénovation

DASHBOARD_FIGURES = {
    "companies-created": ("companies", "created"),
    "companies-activated": ("companies", "activated"),
    "companies-inactivated": ("companies", "inactivated"),
    "licences-activated": ("licences", "activated"),
    "licences-expiring": ("licences", "expiring"),
    "licences-expired": ("licences", "expired"),
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


def expected_dashboard_figures() -> dict[str, int]:
    with scopes_disabled():
        firm = Firm.objects.get(siren=demo_data.DEMO_FIRM["siren"])
        figures = dashboard_figures(firm=firm)
    return {testid: figures[group][key] for testid, (group, key) in DASHBOARD_FIGURES.items()}


def test_accountant_activates_a_module_that_the_dirigeant_then_sees(demo, page, screenshot):
    with scopes_disabled():
        company = Company.objects.get(name=COMPANY_NAME)
    space_url = f"/entreprise/{company.pk}/"

    # 1. The accountant logs in and lands on the firm dashboard.
    log_in(page, ACCOUNTANT)
    expect(page).to_have_url(re.compile(r"/cabinet/$"))

    # 2. The dashboard shows the figures the database gives.
    for testid, value in expected_dashboard_figures().items():
        expect(page.get_by_test_id(testid), testid).to_have_text(str(value))
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
    expect(nav.get_by_test_id("nav-module-facturation")).to_have_count(0)
