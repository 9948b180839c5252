"""The main pages, logged in with English chosen: English texts, and none of the French words
of MEG's interface left in the menus, headings, tables and buttons."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounting.conftest import invoice_event, linked_company, post_webhook  # noqa: F401
from tests.conftest import client_for

# Words of MEG's French interface; the test data's own names (« Cabinet Alpha », « Alpha
# Maçonnerie », « Ventes ProGBat ») are data, not interface, and are left out of the text.
FRENCH_UI = re.compile(
    r"\b(Tableau de bord|Entreprises?|Paramètres|Se déconnecter|Se connecter|Enregistrer|"
    r"Aucune?|Rechercher|Exporter|Télécharger|Factures?|Fournisseurs?|Règlements?|Écritures?|"
    r"Journaux|Exercices?|Période|Mot de passe|Notifications? par e-mail|Immédiatement|"
    r"Résumé quotidien|À traiter|Traiter|Gravité|Créées|Activées|Licences? à|Sécurité|"
    r"Préférences|Utilisateurs|Actualités|Connexions|Nouvelle|Modifier|Valider|Payer|"
    r"à payer|Saisir|Filtrer|Prévisualisation|Chargement|Clôturer|Jetons|Mes entreprises|"
    r"Rôle|Offre|Dossiers?|Nombre|Gestion|Répartition|Événements|Accès|Lancer)\b")
DATA = ["Cabinet Alpha", "Alpha Maçonnerie", "Ventes ProGBat", "DUPONT", "expert@alpha.test",
        "patron@alpha.test"]


def visible_text(html, data=()):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    for known in [*DATA, *data]:
        text = text.replace(known, " ")
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def english(accountant):
    client = client_for(accountant)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def assert_english(response, *expected, data=()):
    """``data``: texts of this page that are data, not interface (e.g. the PCG's labels)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Language"] == "en"
    text = visible_text(response.content.decode(), data)
    for phrase in expected:
        assert phrase in text, f"« {phrase} » missing from: {text[:2000]}"
    french = sorted(set(FRENCH_UI.findall(text)))
    assert not french, f"French left: {french} in: {text[:3000]}"
    return text


def test_dashboard_in_english(english, company):
    assert_english(english.get(reverse("firms:dashboard")),
                   "Dashboard", "Companies", "Settings", "Number of companies",
                   "Licence management", "Log out", "Notification preferences", "Français")


def test_companies_in_english(english, company):
    assert_english(english.get(reverse("companies:list")), "Company name", "SIRET",
                   "New company")
    assert_english(english.get(reverse("companies:detail", args=[company.pk])),
                   "Company users", "Assigned accountants", "Licences", "Invite a user")


def test_export_space_in_english(english, linked_company, post_webhook):  # noqa: F811
    post_webhook(invoice_event(linked_company))
    assert_english(english.get(f"/entreprise/{linked_company.pk}/export-ecritures/"),
                   "Accounting entry export", "Journal", "Entries", "To export", "Preview",
                   "Label", "Debit", "Credit", "Export", "Fiscal years")


def test_attention_board_in_english(english, company):
    assert_english(english.get(reverse("firms:attention")), "To do", "Site")


def test_month_end_exports_in_english(english, company):
    assert_english(english.get(reverse("accounting:batch_exports")), "Month-end exports",
                   "New month-end export", "Start the export")


def test_purchases_in_english(achats, dirigeant):
    client = client_for(dirigeant)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert_english(client.get(reverse("purchases:home", args=[achats.pk])),
                   "Purchases", "Invoices", "Suppliers", "New invoice")
    assert_english(client.get(reverse("purchases:create", args=[achats.pk])),
                   "New supplier invoice", "Supplier", "Payment method", "Save")


def test_notification_settings_in_english(english):
    assert_english(english.get(reverse("notifications:preferences")),
                   "Notification preferences", "Immediately", "Daily digest",
                   "Never (only in MEG)", "Payment failed")


def test_login_page_in_english(db):
    client = Client()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert_english(client.get(reverse("account_login")), "Log in to MEG", "Password",
                   "Remember me", "Forgotten password?")


def english_client(user):
    client = client_for(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def test_backfill_pages_in_english(accountant, linked_company):  # noqa: F811
    """« Importer les factures antérieures »: the page of a linked company, and a preview (the
    list ProGBat would give is stored as the preview stores it; no sandbox is needed to show
    it)."""
    from partners.progbat.models import ProgbatBackfill

    client = english_client(accountant)
    url = reverse("progbat:backfill", args=[linked_company.pk])
    assert_english(client.get(url), "Import earlier invoices", "The link is not retroactive",
                   "Invoices validated from", "See the period's invoices",
                   "Imports of earlier invoices", "No import yet.")
    amounts = ["100.00", "20.00", "120.00"]
    items = [{"id": f"inv_{n}", "number": f"ANT-{n}", "date": "2026-05-1{n}",
              "customer": "DUPONT", "version": 1, "amounts": amounts, "verdict": verdict,
              "reason": "", "result": None}
             for n, verdict in enumerate(["import", "already", "closed", "invalid"])]
    backfill = ProgbatBackfill.objects.create(
        firm=linked_company.firm, company=linked_company, date_from="2026-01-01",
        date_to="2026-05-31", requested_by=accountant, items=items, invoices=[{}] * 4)
    assert_english(
        client.get(reverse("progbat:backfill_detail", args=[linked_company.pk, backfill.pk])),
        "ProGBat invoices validated from 01/01/2026 to 31/05/2026", "To import",
        "Already in the journal", "Closed fiscal year", "Invalid entry", "Total listed",
        "1 invoice will be imported into the sales journal", "Import 1 invoice",
        "Invoices listed by ProGBat", "Number", "Customer", "Outcome", "Net", "VAT", "Gross",
        "Skipped: already in the journal", "Skipped: closed fiscal year",
        "Skipped: invalid entry")
    assert_english(client.get(url), "Preview", "from 01/01/2026 to 31/05/2026")


@pytest.fixture
def paid_invoice_with_pdf(achats, dirigeant):
    """A Libeo invoice recorded with its PDF (the pièce of its HA entry), paid: its BQLB entry
    is lettered with the invoice's 401 line."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile

    from purchases.models import Payment
    from purchases.providers import PaymentResult
    from purchases.services import invoice_pay, payment_settle
    from tests.purchases.conftest import a_pdf, connect_libeo, make_invoice

    connect_libeo(achats, dirigeant)
    invoice = make_invoice(achats, dirigeant, pdf=SimpleUploadedFile(
        "facture.pdf", a_pdf(), content_type="application/pdf"))
    payment = invoice_pay(invoice=invoice, actor=dirigeant)
    Payment.objects.filter(pk=payment.pk).update(status="scheduled")
    payment_settle(payment=payment, result=PaymentResult(
        status="paid", provider_payment_id="pay_1",
        executed_at=datetime.datetime(2026, 11, 20, 9, 30, tzinfo=datetime.UTC)))
    return invoice


def test_purchase_invoice_with_payment_and_piece_in_english(paid_invoice_with_pdf, dirigeant):
    invoice = paid_invoice_with_pdf
    response = english_client(dirigeant).get(
        reverse("purchases:invoice", args=[invoice.company_id, invoice.pk]))
    text = assert_english(response, "Payment", "Paid", "€1,200.00 paid by Libeo",
                          "Transfer sent on 20/11/2026 at 10:30", "View the invoice (PDF)",
                          "Accounting", "Expense account", "Edit the invoice")
    assert "Matériaux Rhône" in text
    assert reverse("purchases:document", args=[invoice.company_id, invoice.pk]) in (
        response.content.decode())


def test_export_space_with_lettering_and_pieces_in_english(paid_invoice_with_pdf, accountant):
    company_id = paid_invoice_with_pdf.company_id
    response = english_client(accountant).get(f"/entreprise/{company_id}/export-ecritures/")
    text = assert_english(response, "Accounting entry export", "Match", "Include the documents",
                          "A ZIP archive: the file and the PDF of every entry",
                          # the PCG's labels of the accounts are French data (as in the FEC)
                          data=["Fournisseurs", "Banques"])
    html = response.content.decode()
    assert 'title="Matching code"' in html
    assert re.findall(r'data-testid="lettering" title="Matched on 20/11/2026">A<', html) == [
        'data-testid="lettering" title="Matched on 20/11/2026">A<'] * 2
    labels = re.findall(r'data-testid="entry-document" aria-label="([^"]+)" title="([^"]+)"',
                        html)
    assert [(unescape(a), t) for a, t in labels] == [
        ("Open the document F-2026-001 (PDF, new tab)", "Open the document (PDF)")]
    assert "Let." not in text
