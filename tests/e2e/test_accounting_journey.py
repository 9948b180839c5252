"""From a ProGBat invoice to the accountant's FEC, in real browsers, against the live sandbox.

The dirigeant validates an invoice in ProGBat; the signed webhook reaches MEG, whose entry shows
in the export space's preview; the accountant exports it; ProGBat then refuses to edit it.
"""

import re

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from companies.models import Company
from demo import seed as demo_data
from tests.e2e.test_core_journey import log_in
from tests.sandboxes import SANDBOX_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def connect_progbat(page, progbat):
    page.goto("/cabinet/parametres/connexions-partenaires/")
    page.get_by_test_id("progbat-card").get_by_role("button", name="Connexion").click()
    page.locator("input[name=username]").fill("cabinet-demo")
    page.locator("input[name=password]").fill(SANDBOX_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_test_id("progbat-status")).to_have_text("Connecté")


def test_invoice_validated_in_progbat_is_exported_then_locked(demo, progbat, page, browser,
                                                              screenshot):
    with scopes_disabled():
        dupont = Company.objects.get(name=demo_data.DUPONT["name"])
    today = timezone.localdate()
    log_in(page, demo_data.ACCOUNTANT)
    connect_progbat(page, progbat)

    # In ProGBat, in its own browser session, the dirigeant creates and validates FAC001.
    progbat_tab = browser.new_context(base_url=progbat.url, locale="fr-FR").new_page()
    progbat_tab.goto("/login")
    progbat_tab.locator("input[name=username]").fill("dupont")
    progbat_tab.locator("input[name=password]").fill(SANDBOX_PASSWORD)
    progbat_tab.locator("form button[type=submit]").click()
    progbat_tab.goto("/accounts/acc_demo_dupont/")
    form = progbat_tab.get_by_test_id("invoice-create-form")
    form.locator("[name=invoice-number]").fill("FAC001")
    form.locator("[name=invoice-date]").fill(today.isoformat())
    form.locator("[name=invoice-customer_name]").fill("DUPONT")
    form.locator("[name=invoice-customer_account]").fill("DUPO")
    form.locator("[name=lines-0-label]").fill("Rénovation salle de bain")
    form.locator("[name=lines-0-amount_excl_tax]").fill("100.00")
    form.get_by_test_id("invoice-create-submit").click()
    row = progbat_tab.get_by_test_id("invoice-row").filter(has_text="FAC001")
    row.get_by_test_id("validate-button").click()
    expect(row.get_by_test_id("invoice-status")).to_contain_text("version 1")

    # MEG received the webhook: the entry is in the export space's preview.
    space = f"/entreprise/{dupont.pk}/export-ecritures/"
    page.goto(space)
    # (Dupont's supplier invoices are in the preview too, in the purchases journal HA, and its
    # paid Libeo payment in BQLB.)
    for _ in range(20):
        if page.get_by_test_id("preview-line").filter(has_text="FAC001").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    lines = page.get_by_test_id("preview-line").filter(has_text="FAC001")
    expect(lines).to_have_count(3)
    expect(lines.first).to_contain_text("FAC001 DUPONT")
    expect(lines.first).to_contain_text("120,00")
    screenshot(page, "accounting-1-preview")

    # The accountant exports it as FEC (an import export, named after its journal and period).
    page.get_by_test_id("export-form").get_by_label("HA — Achats").uncheck()
    page.get_by_test_id("export-form").get_by_label("BQLB — Banque Libeo").uncheck()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("export-submit").click()
    row_export = page.get_by_test_id("export-row").first
    download_link = row_export.get_by_test_id("export-download")
    expect(download_link).to_have_text(re.compile(rf"^{dupont.siren}_VT_\d{{8}}-\d{{8}}\.txt$"))
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.startswith(f"{dupont.siren}_VT_")
    screenshot(page, "accounting-2-exported")

    # ProGBat now refuses to edit the invoice.
    row = progbat_tab.get_by_test_id("invoice-row").filter(has_text="FAC001")
    progbat_tab.reload()
    expect(row.get_by_test_id("invoice-status")).to_contain_text("verrouillée")
    row.get_by_test_id("edit-button").click()
    expect(progbat_tab.get_by_test_id("invoice-locked")).to_be_visible()
    progbat_tab.locator("[name=lines-0-amount_excl_tax]").fill("200.00")
    progbat_tab.get_by_test_id("edit-submit").click()
    expect(progbat_tab.get_by_test_id("error-message")).to_contain_text("verrouillée")
    screenshot(progbat_tab, "accounting-3-progbat-refuses")
