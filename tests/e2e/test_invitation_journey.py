"""Invitations in a real browser, on the demo data (finding 3 of the security issue).

Cabinet Voisin's admin adds Cabinet Démo's accountant to one of its companies: the page says
only « Invitation envoyée », and lists the address as pending. She opens the e-mail's link,
logs in, and declines; nothing of hers was ever shown to Voisin.
"""

import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from companies.models import Company, CompanyMembership
from demo import seed as demo_data

pytestmark = pytest.mark.e2e

PASSWORD = demo_data.DEMO_PASSWORD
LINK = re.compile(r"https?://[^\s\"<>]+/invitations/[^/\s\"<>]+/")


def log_in(page: Page, email: str) -> None:
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "button[type=submit]").click()


def test_an_invited_accountant_of_another_firm_declines(demo, page, screenshot):
    with scopes_disabled():
        company = Company.objects.get(name=demo_data.NEIGHBOUR_COMPANY["name"])

    page.goto("/accounts/login/")
    log_in(page, demo_data.NEIGHBOUR)
    page.goto(f"/cabinet/entreprises/{company.pk}/")
    page.get_by_text("Inviter un utilisateur").click()
    page.get_by_label("Adresse e-mail").fill(demo_data.ACCOUNTANT)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Invitation envoyée à {demo_data.ACCOUNTANT}.")
    expect(page.get_by_test_id("pending-invitations")).to_contain_text(demo_data.ACCOUNTANT)
    expect(page.locator("main")).not_to_contain_text("Claire Expert")
    screenshot(page, "invitation-1-sent")

    link = LINK.search(mail.outbox[-1].body).group(0)
    page.context.clear_cookies()
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    log_in(page, demo_data.ACCOUNTANT)
    expect(page.get_by_role("heading", name="Invitation")).to_be_visible()
    expect(page.locator("main")).to_contain_text(company.name)
    screenshot(page, "invitation-2-page")
    page.get_by_test_id("invitation-decline").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation refusée.")
    with scopes_disabled():
        assert not CompanyMembership.objects.filter(
            company=company, user__email=demo_data.ACCOUNTANT).exists()
