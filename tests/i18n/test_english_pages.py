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


def visible_text(html):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    for data in DATA:
        text = text.replace(data, " ")
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def english(accountant):
    client = client_for(accountant)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def assert_english(response, *expected):
    assert response.status_code == 200, response.status_code
    assert response["Content-Language"] == "en"
    text = visible_text(response.content.decode())
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
