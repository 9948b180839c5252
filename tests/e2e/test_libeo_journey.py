"""« Payer » without a Libeo key, in a real browser, against the live Libeo sandbox.

The dirigeant of "Martin Rénovation" clicks « Payer » on a supplier invoice while the company
has no Libeo account: MEG offers « Me connecter avec MEG »; Libeo logs the person in with MEG
(MEG is the OpenID provider: its consent screen), creates the account (« Créer votre compte
Libeo »), and sends the browser back to the invoice, where Libeo is now connected and
« Payer » pays it.

Everything stays on the live server's host (``localhost``): the sandbox is told to send people
back there only, and MEG's OpenID issuer is derived by django-oauth-toolkit from the host of
the request, so the issuer the sandbox discovers must be the one the ID token carries.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from companies.models import Company, CompanyMembership, Module
from companies.services import modules_save, user_module_access_set
from demo import seed as demo_data
from partners.libeo.models import LibeoConnection
from purchases.models import Payment
from purchases.services import invoice_create
from tests.e2e.test_core_journey import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MARTIN = demo_data.MARTIN["dirigeant"][0]  # martin@demo.meg.test
IBAN = "FR7630006000011234567890189"
SUPPLIER = "Bois & Cie"
NUMBER = "BC-2026-117"


@pytest.fixture(scope="module")
def libeo_sandbox(live_server, tmp_path_factory):
    """The Libeo sandbox, logging people in with the live MEG and sending them back to it."""
    from tests.sandboxes import start_sandbox

    sandbox = start_sandbox("libeo", env={
        "LIBEO_SANDBOX_DB": str(tmp_path_factory.mktemp("libeo-e2e") / "sandbox.sqlite3"),
        "LIBEO_SANDBOX_CONTROL": "1",
        "MEG_OIDC_ISSUER": f"{live_server.url}/o",
        "LIBEO_ALLOWED_RETURN_ORIGINS": live_server.url,
    })
    yield sandbox
    sandbox.stop()


@pytest.fixture
def libeo(libeo_sandbox, live_server, settings, demo):
    """The sandbox back to its seed; MEG calls it, and knows its callback as an OIDC client
    (the demo seed registered the default URIs, on port 8200)."""
    libeo_sandbox.control("reset")
    settings.LIBEO_BASE_URL = libeo_sandbox.url
    settings.LIBEO_OIDC_REDIRECT_URIS = f"{libeo_sandbox.url}/connect/meg/callback"
    with scopes_disabled():
        demo_data.register_libeo_client()
    return libeo_sandbox


@pytest.fixture
def martin_invoice(demo):
    """Achats activated for Martin Rénovation (the dirigeant is its administrator) and one
    supplier invoice to pay by « Virement par Libeo »."""
    with scopes_disabled():
        company = Company.objects.get(siret=demo_data.MARTIN["siret"])
        accountant = get_user_model().objects.get(email=demo_data.ACCOUNTANT)
        martin = CompanyMembership.objects.get(company=company, user__email=MARTIN).user
        modules_save(company=company, actor=accountant, enabled_codes=["achats"])
        user_module_access_set(company=company, actor=accountant, user=martin,
                               module=Module.objects.get(code="achats"), enabled=True,
                               is_admin=True)
        today = timezone.localdate()
        invoice = invoice_create(
            company=company, actor=martin, supplier_name=SUPPLIER, supplier_iban=IBAN,
            number=NUMBER, issue_date=today - datetime.timedelta(days=5),
            due_date=today + datetime.timedelta(days=25), amount_excl_tax=Decimal("2150.00"),
            vat_amount=Decimal("430.00"), amount_incl_tax=Decimal("2580.00"),
            payment_method="libeo")
    return invoice


def test_pay_without_a_key_connects_libeo_through_meg_then_pays(libeo, martin_invoice,
                                                                 live_server, page,
                                                                 screenshot):
    invoice = martin_invoice
    company_id = invoice.company_id
    invoice_url = f"{live_server.url}/entreprise/{company_id}/achats/{invoice.pk}/"

    # 1. Martin logs in, lands in the company space, opens Achats, then the invoice.
    log_in(page, MARTIN)
    expect(page).to_have_url(re.compile(rf"/entreprise/{company_id}/$"))
    page.locator("aside.space-nav").get_by_test_id("nav-module-achats").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Achats")
    page.get_by_role("link", name=SUPPLIER).click()
    expect(page).to_have_url(invoice_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(NUMBER)
    expect(page.get_by_test_id("payment-state")).not_to_contain_text("Programmé")
    screenshot(page, "libeo-1-invoice")

    # 2. « Payer » without a Libeo key: the connect page.
    page.get_by_test_id("pay-button").click()
    expect(page).to_have_url(re.compile(
        rf"/entreprise/{company_id}/achats/libeo/connecter/\?facture={invoice.pk}$"))
    expect(page.get_by_test_id("libeo-connect")).to_be_visible()
    screenshot(page, "libeo-2-connect")

    # 3. « Me connecter avec MEG »: Libeo sends the browser to MEG's consent screen (Martin is
    #    already logged into MEG in this browser).
    page.get_by_test_id("libeo-connect-meg").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/o/authorize/"))
    consent = page.get_by_test_id("oidc-consent")
    expect(consent).to_contain_text("Libeo demande à vous identifier")
    screenshot(page, "libeo-3-meg-consent")
    page.get_by_test_id("oidc-allow").click()

    # 4. Back at Libeo: « Créer votre compte Libeo », with Martin and the company MEG named.
    expect(page).to_have_url(re.compile(rf"^{re.escape(libeo.url)}/connect/meg/compte"))
    expect(page.locator("body")).to_contain_text("Créer votre compte Libeo")
    expect(page.get_by_test_id("identity-email")).to_have_text(MARTIN)
    expect(page.get_by_test_id("identity-company")).to_have_text(
        f"{demo_data.MARTIN['name']} (SIREN {demo_data.MARTIN['siret'][:9]})")
    screenshot(page, "libeo-4-libeo-create-account")
    create = page.get_by_test_id("create-account")
    expect(create).to_have_text("Créer mon compte")
    create.click()

    # 5. Back on MEG's invoice, Libeo connected.
    expect(page).to_have_url(invoice_url)
    expect(page.get_by_role("status")).to_contain_text("Votre compte Libeo est connecté à MEG")
    with scopes_disabled():
        connection = LibeoConnection.objects.get(company_id=company_id)
    assert (connection.source, connection.libeo_siren) == (
        "meg_connect", demo_data.MARTIN["siret"][:9])
    screenshot(page, "libeo-5-back-connected")

    # 6. « Payer »: the payment goes out through the outbox (eager Celery in tests) and the
    #    state shows it scheduled (or paid).
    page.get_by_test_id("pay-button").click()
    status = page.get_by_test_id("payment-status")
    expect(status).to_have_text(re.compile(r"^(Programmé|Payé)$"))
    expect(page.get_by_test_id("pay-button")).to_have_count(0)
    screenshot(page, "libeo-6-paid")
    page.reload()
    expect(page.get_by_test_id("payment-status")).to_have_text(re.compile(r"^(Programmé|Payé)$"))

    # Exactly one payment, at the sandbox and in MEG, for this invoice.
    state = libeo.state()
    external_id = f"meg-{invoice.pk}"
    assert state["payments_by_invoice"] == {external_id: 1}
    (paid,) = [p for p in state["payments"] if p["invoice_external_id"] == external_id]
    assert (paid["company_siren"], paid["amount"]) == (demo_data.MARTIN["siret"][:9], "2580.00")
    with scopes_disabled():
        payment = Payment.objects.get(invoice=invoice)
    assert payment.status in ("scheduled", "paid")
    assert payment.provider_payment_id == str(paid["id"])
