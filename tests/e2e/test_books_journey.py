"""Purchases and payments reach the books (DESIGN §7.2), in real browsers, on the production
shape of payments: the live Libeo sandbox and a real Celery worker.

Dupont Bâtiment's dirigeant (Achats administrator) pastes the company's Libeo key, records a
supplier invoice with its PDF and two VAT rates, and clicks « Payer ». The payment leaves
through the outbox: the live server publishes the delivery to Redis, a Celery worker (its own
process, on the test database) sends the invoice and the payment to the sandbox, which
schedules it. The sandbox's test control then reports the transfer made; MEG learns it the way
beat makes it learn it (``libeo_payments_poll`` published to the worker), and the invoice shows
when the money left. The accountant opens the export space: the purchases entry (HA) and the
payment entry (BQLB) are there, their supplier lines lettered with one code; the paperclip of
the purchases entry opens the invoice's PDF; the export « Inclure les pièces » is one ZIP, its
FEC carrying that code (EcritureLet) on both lines and the PDF named by its PieceRef.
"""

import datetime
import os
import re
import zipfile
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect
from pypdf import PdfWriter

from accounting.formats import FEC_COLUMNS
from companies.models import Company
from demo import seed as demo_data
from meg.celery import app as celery_app
from partners.common import tasks  # noqa: F401  (registers outbox_deliver with the app)
from purchases.models import Payment, SupplierInvoice
from tests.e2e.test_core_journey import log_in
from tests.integration.workers import meg_env, start_celery_worker, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# This run's Redis database (parallel runs on one machine each have their own), else 12.
BROKER_URL = f"redis://127.0.0.1:6379/{urlsplit(os.environ.get('REDIS_URL', '')).path[1:] or 12}"
DELIVER = "partners.common.tasks.outbox_deliver"
POLL = "partners.libeo.tasks.libeo_payments_poll"
SUPPLIER = "Béton Lyonnais"
IBAN = "FR7610107001011234567890129"
NUMBER = "BL-2026-0412"
# The Libeo sandbox's documented demo key of Dupont Bâtiment (sandboxes/libeo/seed.py).
DEMO_API_KEY = "libeo_demo_dupont_0123456789abcdef"


class SharedRedis:
    """The machine's Redis (``BROKER_URL``), in the shape ``meg_env`` expects of a broker."""

    def url(self, db):
        return BROKER_URL


@pytest.fixture(scope="module")
def libeo_sandbox(tmp_path_factory):
    from tests.sandboxes import start_sandbox

    sandbox = start_sandbox("libeo", env={
        "LIBEO_SANDBOX_DB": str(tmp_path_factory.mktemp("libeo-books") / "sandbox.sqlite3"),
        "LIBEO_SANDBOX_CONTROL": "1"})
    yield sandbox
    sandbox.stop()


@pytest.fixture
def libeo(libeo_sandbox, settings):
    """The sandbox back to its seed (Dupont Bâtiment's Libeo account and its demo key)."""
    libeo_sandbox.control("reset")
    settings.LIBEO_BASE_URL = libeo_sandbox.url
    return libeo_sandbox


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def publisher(broker, monkeypatch):
    """The live server runs in this process, where Celery is eager (no CELERY_BROKER_URL):
    here the outbox's deliveries are published to Redis instead, as MEG's web process does on
    the production shape, for the worker to run. ``publisher.send_task(POLL)`` is what beat
    does every 5 s."""
    app = Celery("meg-web-probe", broker=BROKER_URL, set_as_current=False)

    def publish(args=None, kwargs=None, **options):
        return app.send_task(DELIVER, args=args, kwargs=kwargs,
                             countdown=options.get("countdown"))

    monkeypatch.setitem(vars(celery_app.tasks[DELIVER]), "apply_async", publish)
    yield app
    app.close()


@pytest.fixture
def worker(demo, libeo, publisher, tmp_path):
    """``celery -A meg worker`` on the test database, Redis, and the Libeo sandbox."""
    env = meg_env(database=connection.settings_dict["NAME"], broker=SharedRedis(),
                  progbat_url=settings.PROGBAT_BASE_URL, media_root=settings.MEDIA_ROOT)
    env["LIBEO_BASE_URL"] = libeo.url
    process = start_celery_worker(env=env, log_path=tmp_path / "worker.log")
    process.wait_log(r"ready\.", timeout=60)
    yield process
    process.stop()


def invoice_pdf(path):
    """A one-page PDF, as a scanned invoice would be (pypdf reads its page)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def fec_rows(content):
    lines = content.decode("utf-8-sig").split("\r\n")[1:]
    return [dict(zip(FEC_COLUMNS, line.split("\t"), strict=True)) for line in lines if line]


def test_a_supplier_invoice_paid_with_libeo_reaches_the_books_lettered(
        demo, libeo, worker, publisher, live_server, page, browser, screenshot, tmp_path):
    with scopes_disabled():
        dupont = Company.objects.get(siret=demo_data.DUPONT["siret"])
    achats = f"/entreprise/{dupont.pk}/achats/"
    today = timezone.localdate()

    # 1. The dirigeant pastes the company's Libeo key (Achats → ⚙ Options).
    log_in(page, demo_data.DUPONT["dirigeant"][0])
    expect(page).to_have_url(re.compile(rf"/entreprise/{dupont.pk}/$"))
    page.goto(achats)
    page.get_by_test_id("achats-options").click()
    page.locator("input[name=api_key]").fill(DEMO_API_KEY)
    page.get_by_test_id("libeo-options").get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_test_id("libeo-key")).to_contain_text(DEMO_API_KEY[-4:])
    screenshot(page, "books-1-libeo-key")

    # 2. A supplier invoice with its PDF and two VAT rates (the totals are their sums).
    page.get_by_role("link", name="Nouvelle facture").click()
    page.locator("[name=supplier_name]").fill(SUPPLIER)
    page.locator("[name=supplier_iban]").fill(IBAN)
    page.locator("[name=number]").fill(NUMBER)
    page.locator("[name=issue_date]").fill(today.isoformat())
    page.locator("[name=due_date]").fill((today + datetime.timedelta(days=30)).isoformat())
    page.locator("[name=payment_method]").select_option("libeo")
    page.locator("[name=expense_account]").fill("601000")
    pdf_path = invoice_pdf(tmp_path / "facture-beton.pdf")
    pdf_bytes = pdf_path.read_bytes()
    page.locator("[name=pdf]").set_input_files(pdf_path)
    page.locator("[name=tva-0-rate]").select_option("20")
    page.locator("[name=tva-0-base_amount]").fill("1000.00")
    page.locator("[name=tva-1-rate]").select_option("10")
    page.locator("[name=tva-1-base_amount]").fill("500.00")
    screenshot(page, "books-2-invoice-form")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{SUPPLIER} — {NUMBER}")
    books = page.get_by_test_id("invoice-books")
    expect(books).to_contain_text("601000")
    expect(books).to_contain_text("20 %")
    expect(books).to_contain_text("10 %")
    expect(page.locator("hgroup")).to_contain_text("1 750,00 € TTC")
    with scopes_disabled():
        invoice = SupplierInvoice.objects.get(company=dupont, number=NUMBER)
    assert (invoice.amount_excl_tax, invoice.vat_amount, invoice.amount_incl_tax) == (
        Decimal("1500.00"), Decimal("250.00"), Decimal("1750.00"))
    pdf_link = page.get_by_role("link", name="Voir la facture (PDF)")
    document = page.request.get(pdf_link.get_attribute("href"))
    assert document.ok and document.body().startswith(b"%PDF-")
    assert document.headers["content-type"] == "application/pdf"
    screenshot(page, "books-3-invoice")

    # 3. « Payer »: the worker delivers it to Libeo, which schedules the transfer.
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("payment-status")).to_have_text("Programmé", timeout=60_000)
    state = libeo.state()
    external_id = f"meg-{invoice.pk}"
    assert state["payments_by_invoice"] == {external_id: 1}
    (at_libeo,) = state["payments"]
    assert (at_libeo["amount"], at_libeo["status"]) == ("1750.00", "scheduled")
    assert re.search(rf"Task {re.escape(DELIVER)}\[[-\w]+\] succeeded", worker.log())
    screenshot(page, "books-4-scheduled")

    # 4. The bank makes the transfer (the sandbox's control); MEG learns it at its next check.
    libeo.control(f"payments/{at_libeo['id']}", {"status": "paid"})

    def paid():
        publisher.send_task(POLL)  # what beat publishes every 5 s
        page.wait_for_timeout(1000)
        page.reload()
        return page.get_by_test_id("payment-status").inner_text() == "Payé"

    wait_until(paid, timeout=60, interval=1, message=lambda: worker.tail())
    expect(page.get_by_test_id("payment-executed-at")).to_contain_text(
        f"Virement parti le {today:%d/%m/%Y}")
    with scopes_disabled():
        payment = Payment.objects.get(invoice=invoice)
    assert (payment.status, payment.provider_payment_id) == ("paid", str(at_libeo["id"]))
    screenshot(page, "books-5-paid")

    # 5. The accountant, in the export space: the HA entry and the BQLB entry, lettered.
    accountant = browser.new_context(base_url=live_server.url, locale="fr-FR",
                                     viewport={"width": 1280, "height": 900}).new_page()
    accountant.set_default_timeout(10_000)
    log_in(accountant, demo_data.ACCOUNTANT)
    accountant.goto(f"/entreprise/{dupont.pk}/export-ecritures/")
    journals = accountant.get_by_test_id("journals")
    expect(journals).to_contain_text("HA — Achats")
    expect(journals).to_contain_text("BQLB — Banque Libeo")
    filters = accountant.locator("form.filters")
    filters.locator("[name=date_from]").fill(today.isoformat())
    filters.get_by_role("button", name="Filtrer").click()
    lines = accountant.get_by_test_id("preview-line").filter(has_text=NUMBER)
    expect(lines).to_have_count(5)  # HA: 601000, 44566, 401000; BQLB: 401000, 512000
    supplier_lines = lines.filter(has_text="401000")
    expect(supplier_lines).to_have_count(2)
    codes = supplier_lines.get_by_test_id("lettering").all_inner_texts()
    assert len(codes) == 2 and codes[0] == codes[1] and codes[0], codes
    code = codes[0]
    expect(lines.filter(has_text="512000")).to_contain_text("1 750,00")
    screenshot(accountant, "books-6-preview-lettered")

    # The HA entry carries its pièce: the paperclip opens the invoice's PDF (a new tab).
    paperclip = lines.get_by_test_id("entry-document")
    expect(paperclip).to_have_count(1)  # on the purchases entry, once
    with accountant.expect_popup() as popup:
        paperclip.click()
    assert re.search(rf"/entreprise/{dupont.pk}/export-ecritures/", popup.value.url)
    popup.value.close()
    piece = accountant.request.get(paperclip.get_attribute("href"))
    assert piece.ok and piece.headers["content-type"] == "application/pdf"
    assert piece.body() == pdf_bytes

    # 6. The export with its pièces (« Inclure les pièces »): one ZIP, downloaded, holding the
    #    FEC of the journals (all ticked) and the PDF named by its PieceRef; in the FEC both
    #    supplier lines carry the lettering code and its date.
    accountant.once("dialog", lambda dialog: dialog.accept())
    form = accountant.get_by_test_id("export-form")
    form.get_by_test_id("include-documents").locator("input").check()
    form.get_by_test_id("export-submit").click()
    download_link = accountant.get_by_test_id("export-row").first.get_by_test_id(
        "export-download")
    expect(download_link).to_have_text(re.compile(rf"^{dupont.siren}_.+_pieces\.zip$"),
                                       timeout=30_000)
    with accountant.expect_download() as download:
        download_link.click()
    archive = zipfile.ZipFile(download.value.path())
    assert archive.testzip() is None
    (fec_name,) = [name for name in archive.namelist() if name.endswith(".txt")]
    assert archive.read(f"pieces/{NUMBER}.pdf") == pdf_bytes
    content = archive.read(fec_name)
    rows = [row for row in fec_rows(content) if row["PieceRef"] == NUMBER]
    assert {row["JournalCode"] for row in rows} == {"HA", "BQLB"}
    lettered = sorted((row["JournalCode"], row["CompteNum"], row["CompAuxNum"],
                       row["EcritureLet"], row["DateLet"]) for row in rows
                      if row["EcritureLet"])
    aux = lettered[0][2] if lettered else ""
    assert lettered == [("BQLB", "401000", aux, code, f"{today:%Y%m%d}"),
                        ("HA", "401000", aux, code, f"{today:%Y%m%d}")]
    ha = {row["CompteNum"]: row for row in rows if row["JournalCode"] == "HA"}
    assert (ha["601000"]["Debit"], ha["401000"]["Credit"]) == ("1500,00", "1750,00")
    screenshot(accountant, "books-7-exported")
    accountant.context.close()
