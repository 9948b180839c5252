"""Finding 10 (and the browser side of finding 9): no inline JavaScript, and pages that live
under the Content-Security-Policy without violating it.

« Retirer » removed a company user without asking: the apostrophe of « l'entreprise » ended the
string of its inline ``onclick="return confirm('…')"``, the script failed, the form went. The
questions are now ``data-confirm`` attributes that static/js/meg.js asks.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from companies.models import Company, CompanyMembership
from demo import seed as demo_data
from tests import factories
from tests.e2e import conftest as e2e

# The browser tests' fixtures (tests/e2e/conftest.py), for the two tests here.
browser, page, demo = e2e.browser, e2e.page, e2e.demo

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [path for folder in ROOT.glob("*/templates") for path in folder.rglob("*.html")]
TEMPLATES += list((ROOT / "templates").rglob("*.html"))
# E-mail bodies are read by mail clients, never served under MEG's CSP (inline styles are the
# norm there); every page template is scanned.
TEMPLATES = [path for path in TEMPLATES if "email" not in path.parent.parts]
INLINE_SCRIPT = [
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an on…= event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
    # <script> without src (JSON data blocks, type="application/json", would be allowed)
    (re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE),
     "an inline <script>"),
    (re.compile(r"<style[\s>]", re.IGNORECASE), "an inline <style>"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style= attribute"),
]


def test_no_template_has_inline_javascript_or_styles():
    assert len(TEMPLATES) > 30
    found = [f"{path.relative_to(ROOT)}:{text[:match.start()].count(chr(10)) + 1}: {what}"
             for path in TEMPLATES for text in [path.read_text()]
             for pattern, what in INLINE_SCRIPT for match in pattern.finditer(text)]
    assert found == []


def test_the_question_is_an_escaped_attribute(client, accountant, company, salarie):
    client.force_login(accountant)
    response = client.get(reverse("companies:detail", args=[company.pk]))
    questions = ConfirmQuestions()
    questions.feed(response.text)
    assert "Retirer cet utilisateur de l'entreprise ?" in questions.found
    assert "confirm(" not in response.text


class ConfirmQuestions(HTMLParser):
    """The ``data-confirm`` values of a page, as the browser reads them."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name == "data-confirm"]


def log_in(page: Page, email):
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(demo_data.DEMO_PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def csp_violations(page: Page):
    """What the browser reported as refused by the Content-Security-Policy (console)."""
    violations = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    return violations


def unexpected(violations):
    """Redoc always tries its vendor's logo from their CDN, and hides it when refused: refused
    it stays (no request leaves for another origin)."""
    return [text for text in violations if "Loading the image 'https://cdn.redoc.ly/" not in text]


@pytest.mark.e2e
def test_retirer_asks_first_and_dismissing_removes_nobody(demo, page):
    with scopes_disabled():
        company = Company.objects.get(name=demo_data.MARTIN["name"])
        membership = factories.CompanyMembershipFactory(
            company=company, role=CompanyMembership.Role.SALARIE,
            user__email="ouvrier@demo.meg.test", user__first_name="Olivier",
            user__last_name="Ouvrier")
    violations = csp_violations(page)
    log_in(page, demo_data.ACCOUNTANT)
    page.goto(reverse("companies:detail", args=[company.pk]))
    row = page.get_by_role("row").filter(has_text="ouvrier@demo.meg.test")

    questions = []

    def dismiss(dialog):
        questions.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.get_by_role("button", name="Retirer").click()
    expect(row).to_be_visible()
    assert questions == [("confirm", "Retirer cet utilisateur de l'entreprise ?")]
    page.reload()
    expect(page.get_by_role("row").filter(has_text="ouvrier@demo.meg.test")).to_be_visible()
    with scopes_disabled():
        assert CompanyMembership.objects.filter(pk=membership.pk).exists()

    # Accepted, the question lets the form go: the user is removed.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row").filter(has_text="ouvrier@demo.meg.test").get_by_role(
        "button", name="Retirer").click()
    expect(page.get_by_role("row").filter(has_text="ouvrier@demo.meg.test")).to_have_count(0)
    with scopes_disabled():
        assert not CompanyMembership.objects.filter(pk=membership.pk).exists()
    assert violations == []


@pytest.mark.e2e
def test_pages_render_under_the_policy_without_violations(demo, page):
    with scopes_disabled():
        company = Company.objects.get(name=demo_data.DUPONT["name"])
    factories.UserFactory(email="admin@demo.meg.test", is_staff=True, is_superuser=True,
                          password=demo_data.DEMO_PASSWORD)
    violations = csp_violations(page)
    page.goto(reverse("account_reset_password"))
    log_in(page, demo_data.ACCOUNTANT)
    for url in [reverse("account_email"), reverse("firms:dashboard"), reverse("companies:list"),
                reverse("companies:detail", args=[company.pk]),
                reverse("companies:space", args=[company.pk]),
                reverse("accounting:export_space", args=[company.pk]),
                reverse("firms:users"), reverse("firms:company_users"), reverse("firms:news"),
                reverse("firms:partner_connections"), reverse("firms:audit"),
                reverse("account_change_password"), "/api/v1/companies/"]:
        page.goto(url)
        expect(page.locator("body")).not_to_be_empty()
    # htmx still works: the company search swaps the list in place.
    page.goto(reverse("companies:list"))
    page.locator("input[name=q]").fill("Dupont")
    expect(page.get_by_role("link", name=demo_data.DUPONT["name"])).to_be_visible()
    expect(page.get_by_role("link", name=demo_data.MARTIN["name"])).to_have_count(0)
    # The API documentation (third-party bundles) renders too.
    page.goto(reverse("api-docs"))
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.goto(reverse("api-redoc"))
    expect(page.locator("redoc h1, [role=main] h1").first).to_be_visible()
    assert unexpected(violations) == []

    page.context.clear_cookies()
    log_in(page, "admin@demo.meg.test")
    for url in ["/admin/", "/admin/companies/company/", "/admin/users/user/add/"]:
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
    assert unexpected(violations) == []
