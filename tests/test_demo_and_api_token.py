"""`seed_demo` builds the stable demo surface; `create_api_token` gives a working token."""

import datetime
import re
from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from companies.models import Company, CompanyMembership, Licence, ModuleActivation
from companies.selectors import is_module_admin
from firms.models import Firm, FirmMembership, PartnerConvention
from users.models import User


def test_seed_demo_is_idempotent_and_matches_the_design(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (Company.objects.count(), User.objects.count(), Licence.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert (Company.objects.count(), User.objects.count(), Licence.objects.count()) == counts
    assert "expert@demo.meg.test" in out.getvalue()

    firm = Firm.objects.get(siren="900000043")
    assert firm.name == "Cabinet Démo"
    assert PartnerConvention.objects.get(firm=firm, partner="progbat").kind == "prescripteur"
    assert FirmMembership.objects.get(user__email="expert@demo.meg.test").role == "admin"
    assert FirmMembership.objects.get(user__email="voisin@demo.meg.test").firm.name == \
        "Cabinet Voisin"

    dupont = Company.objects.get(firm=firm, siret="90000001900019")
    assert dupont.name == "Dupont Bâtiment"
    boss = CompanyMembership.objects.get(company=dupont, role="dirigeant").user
    assert boss.email == "dirigeant@demo.meg.test"
    assert is_module_admin(boss, dupont, "achats")
    link = dupont.progbat_link
    assert (link.status, link.progbat_account_id) == ("active", "acc_demo_dupont")

    martin = Company.objects.get(firm=firm, siret="90000002700012")
    assert martin.name == "Martin Rénovation"
    assert CompanyMembership.objects.get(company=martin, role="dirigeant").user.email == \
        "martin@demo.meg.test"
    assert not ModuleActivation.objects.filter(company=martin).exists()

    extra = Company.objects.filter(firm=firm).exclude(pk__in=[dupont.pk, martin.pk])
    assert 45 <= extra.count() <= 55
    assert set(extra.values_list("state", flat=True)) == {"created", "activated", "inactivated"}
    # Licences activated, expiring (within 30 days) and expired, as the design lists them.
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=30)
    licences = Licence.objects.filter(firm=firm)
    assert licences.filter(starts_on__lte=today, ends_on__gt=soon).exists()
    assert licences.filter(starts_on__lte=today, ends_on__gte=today, ends_on__lte=soon).exists()
    assert licences.filter(ends_on__lt=today).exists()


def test_demo_logins_work(db):
    call_command("seed_demo", stdout=StringIO())
    for email in ["expert@demo.meg.test", "voisin@demo.meg.test", "dirigeant@demo.meg.test",
                  "martin@demo.meg.test"]:
        client = Client()
        response = client.post("/accounts/login/", {"login": email,
                                                    "password": "demo-password-2026"})
        assert response.status_code == 302, email


def test_create_api_token_prints_a_token_that_opens_the_api(db):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("create_api_token", "expert@demo.meg.test", stdout=out)
    token = out.getvalue().strip()
    response = Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/companies/?page=2")
    assert response.status_code == 200
    assert response.json()["count"] == Company.objects.filter(firm__siren="900000043").count()

    again = StringIO()
    call_command("create_api_token", "expert@demo.meg.test", stdout=again)
    assert again.getvalue().strip() != token
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(
        "/api/v1/companies/").status_code == 401  # the previous token is revoked


def test_api_schema_and_docs_are_served(db):
    schema = Client().get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/companies/{company_id}/" in schema.content
    assert Client().get("/api/docs/").status_code == 200


def test_seed_demo_shows_purchases_and_payments_in_the_books(db):
    """Dupont Bâtiment shows DESIGN §7.2 (README « Achats et paiements dans les écritures »),
    read through the API and the pages, and a second run adds nothing."""
    from html import unescape

    from accounting.models import Entry, EntryDocument, Lettering
    from purchases.models import Payment
    from tests.conftest import client_for

    call_command("seed_demo", stdout=StringIO())
    def counts():
        return (Entry.objects.count(), Payment.objects.count(), Lettering.objects.count(),
                EntryDocument.objects.count())

    before = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == before

    dupont = Company.objects.get(siret="90000001900019")
    accountant = User.objects.get(email="expert@demo.meg.test")
    boss = User.objects.get(email="dirigeant@demo.meg.test")
    call_command("create_api_token", "expert@demo.meg.test", stdout=(out := StringIO()))
    api = Client(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    base = f"/api/v1/companies/{dupont.pk}"

    def entries(journal):
        response = api.get(f"{base}/entries/", {"journal": journal, "page_size": 100})
        assert response.status_code == 200, response.content
        return response.json()["results"]

    # Purchases journal: one entry per supplier invoice, one of them multi-rate, some exported,
    # and the invoice edited after export has its correcting entry.
    purchases = entries("HA")
    by_piece = {}
    for entry in purchases:
        by_piece.setdefault(entry["piece_ref"], []).append(entry)
    assert {"MR-2611", "EL-0457", "LOC-88", "OP-5521", "CP-20931"} <= set(by_piece)
    assert {entry["state"] for entry in purchases} == {"draft", "exported"}
    original, correction = sorted(by_piece["LOC-88"], key=lambda entry: entry["id"])
    assert original["state"] == "exported" and correction["label"].startswith("Correction")
    assert sorted((line["account"], line["debit"], line["credit"])
                  for line in correction["lines"]) == [
        ("401000", "0.00", "36.00"), ("445660", "6.00", "0.00"), ("613500", "30.00", "0.00")]
    (multi_rate,) = by_piece["CP-20931"]
    assert ("445660", "51.30") in [(line["account"], line["debit"])
                                   for line in multi_rate["lines"]]

    # Payments: one paid by Libeo (when the money left), one failed with its reason.
    response = api.get(f"{base}/payments/")
    assert response.status_code == 200, response.content
    payments = {p["invoice"]: p for p in response.json()["results"]}
    statuses = sorted((p["status"], p["provider"]) for p in payments.values())
    assert statuses == [("failed", "libeo"), ("paid", "libeo")]
    (paid,) = [p for p in payments.values() if p["status"] == "paid"]
    (failed,) = [p for p in payments.values() if p["status"] == "failed"]
    assert paid["executed_at"] and failed["failure_reason"].startswith("IBAN du fournisseur")

    # The paid one is a BQLB entry whose supplier line is lettered with the invoice's: the
    # export space shows the same code on both.
    (bank,) = entries("BQLB")
    assert bank["piece_ref"] == "MR-2611"
    assert sorted((line["account"], line["debit"], line["credit"]) for line in bank["lines"]) \
        == [("401000", "1500.00", "0.00"), ("512000", "0.00", "1500.00")]
    html = unescape(client_for(accountant).get(
        f"/entreprise/{dupont.pk}/export-ecritures/", {"journals": ["BQLB", "HA"]})
        .content.decode())
    lettered = re.findall(r'<td>MR-2611</td>.*?data-testid="lettering"[^>]*>([^<]+)<', html,
                          re.S)
    assert lettered == ["A", "A"]

    # Pièces: every demo invoice's PDF is attached to its purchases entry; the paperclip
    # opens it.
    clips = re.findall(r'<td>([A-Z]+-\d+) <a href="([^"]+)"[^>]*data-testid="entry-document"',
                       html)
    assert {piece for piece, _url in clips} == {
        "MR-2611", "EL-0457", "LOC-88", "OP-5521", "CP-20931"}
    document = client_for(accountant).get(dict(clips)["MR-2611"])
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert b"".join(document.streaming_content).startswith(b"%PDF-")

    # The failed one: its reason on the invoice, and « Payer de nouveau ».
    page = unescape(client_for(boss).get(
        f"/entreprise/{dupont.pk}/achats/{failed['invoice']}/").content.decode())
    assert failed["failure_reason"] in page and "Payer de nouveau" in page
