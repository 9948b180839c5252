"""The firm's attention board (*À traiter*), through its pages: each kind of row appears with
its cause and goes when the cause is fixed; filters by site and collaborateur; another firm's
problems never show; the dashboard counts them and links to the page; and the number of
queries does not depend on the number of companies."""

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.models import Entry, InboxEvent, IntegrityCheck
from accounting.tasks import journals_verify
from partners.common.models import PartnerConnection
from partners.progbat import client as progbat_client
from partners.progbat.models import ProgbatLink
from purchases.providers import PaymentResult
from purchases.services import invoice_pay, payment_settle
from tests import factories
from tests.accounting.conftest import (  # noqa: F401  (fixtures)
    invoice_event,
    linked_company,
    post_webhook,
    tampering,
)
from tests.conftest import client_for
from tests.purchases.conftest import connect_libeo, make_invoice

BOARD = "/cabinet/a-traiter/"
NOW = timezone.now()


def board(client, **filters):
    response = client.get(BOARD, filters)
    assert response.status_code == 200
    return unescape(response.content.decode())


def rows(html, kind=None):
    """``[(kind, company id, text of the row)]`` of the page's rows."""
    found = re.findall(r'data-testid="attention-row" data-kind="([^"]+)" '
                       r'data-company="([^"]*)">(.*?)</tr>', html, re.S)
    return [(k, int(c) if c else None, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))
            for k, c, body in found if kind in (None, k)]


def kinds(html):
    return sorted({kind for kind, _company, _text in rows(html)})


def progbat_link(company, user, **fields):
    values = {"status": "active", "activated_at": NOW, "activated_by": user,
              "licence_status": "licensed", "plan": "premium"}
    values.update(fields)
    return ProgbatLink.objects.create(firm=company.firm, company=company, **values)


def expired_connection(user, firm):
    return PartnerConnection.objects.create(firm=firm, user=user, partner="progbat",
                                            status=PartnerConnection.Status.EXPIRED,
                                            access_token="old", refresh_token="old")


def draft_entry(company):
    journal = factories.JournalFactory(company=company)
    return factories.EntryFactory(journal=journal, number=None)


# --- Each kind of row: there with its cause, gone once fixed ----------------------------------

def test_an_expired_connection_names_its_collaborateur_and_goes_when_they_reconnect(
        firm, accountant, collaborateur, company, monkeypatch):
    factories.CompanyAccountantFactory(company=company, user=collaborateur)
    expired_connection(collaborateur, firm)
    (row,) = rows(board(client_for(accountant)), "connection_expired")
    assert "Connexion ProGBat expirée" in row[2] and collaborateur.display_name in row[2]
    assert "1 entreprise de son portefeuille" in row[2]
    assert 'href="/cabinet/parametres/connexions-partenaires/"' in board(client_for(accountant))

    # Only the collaborateur can reconnect: their own OAuth round trip.
    own = client_for(collaborateur)
    assert "Vous" in rows(board(own), "connection_expired")[0][2]
    monkeypatch.setattr(progbat_client, "exchange_code", lambda **kw: {
        "access_token": "new", "refresh_token": "new-refresh", "expires_in": 3600})
    own.post("/partners/progbat/oauth/connect/")
    state = own.session["progbat_oauth"]["state"]
    response = own.get("/partners/progbat/oauth/callback/", {"state": state, "code": "c0de"})
    assert response.status_code == 302
    assert rows(board(client_for(accountant)), "connection_expired") == []


def test_entries_waiting_for_export_go_once_exported(linked_company, post_webhook,  # noqa: F811
                                                     accountant,
                                                     django_capture_on_commit_callbacks):
    post_webhook(invoice_event(linked_company))
    post_webhook(invoice_event(linked_company, invoice_id="inv_2", number="FAC002",
                               date="2026-07-01", validated_at="2026-07-01T09:00:00Z"))
    client = client_for(accountant)
    (row,) = rows(board(client), "entries_to_export")
    assert row[1] == linked_company.pk
    assert "2 écritures à exporter (du 10/06/2026 au 01/07/2026)" in row[2]
    assert f'href="/entreprise/{linked_company.pk}/export-ecritures/"' in board(client)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/entreprise/{linked_company.pk}/export-ecritures/", {
            "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["VT"],
            "format": "fec"})
    assert rows(board(client), "entries_to_export") == []


def test_a_refused_event_shows_until_it_is_a_month_old(linked_company, post_webhook,  # noqa: F811
                                                       accountant,
                                                       django_capture_on_commit_callbacks):
    post_webhook(invoice_event(linked_company))
    client = client_for(accountant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/entreprise/{linked_company.pk}/export-ecritures/", {
            "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["VT"],
            "format": "fec"})
    post_webhook(invoice_event(linked_company, version=2))  # an update after the export
    assert InboxEvent.objects.filter(status="rejected").count() == 1
    (row,) = rows(board(client), "events")
    assert row[1] == linked_company.pk and "1 événement partenaire refusé" in row[2]
    # Nobody can undo that refusal: after a month it leaves the board (and stays listed with
    # its reason in the company's export space).
    InboxEvent.objects.filter(status="rejected").update(
        received_at=timezone.now() - datetime.timedelta(days=31))
    assert rows(board(client), "events") == []


def test_an_ignored_event_goes_when_a_later_version_is_journalised(
        linked_company, post_webhook, accountant):  # noqa: F811
    # Validated before the link (not retroactive): ignored, with its reason.
    post_webhook(invoice_event(linked_company, validated_at="2026-05-01T00:00:00Z",
                               date="2026-05-01"))
    client = client_for(accountant)
    (row,) = rows(board(client), "events")
    assert "1 événement partenaire ignoré" in row[2]
    # The client changed the invoice after the link: its new version is journalised.
    post_webhook(invoice_event(linked_company, version=2, date="2026-05-01"))
    assert rows(board(client), "events") == []


def test_a_failed_payment_links_to_its_invoice_and_goes_when_paid_again(achats, dirigeant,
                                                                        accountant):
    invoice = make_invoice(achats, dirigeant)
    connect_libeo(achats, dirigeant)
    payment = invoice_pay(invoice=invoice, actor=dirigeant)
    payment_settle(payment=payment, result=PaymentResult(
        status="failed", error_code="insufficient_funds", error_detail="Solde insuffisant."))
    client = client_for(accountant)
    html = board(client)
    (row,) = rows(html, "payment_failed")
    text = row[2].replace("\u202f", " ").replace("\xa0", " ")
    assert "facture F-2026-001 de Matériaux Rhône, 1 200,00 €" in text
    assert "Solde insuffisant." in row[2]
    assert f'href="/entreprise/{achats.pk}/achats/{invoice.pk}/"' in html

    response = client_for(dirigeant).post(f"/entreprise/{achats.pk}/achats/{invoice.pk}/payer/")
    assert response.status_code == 302
    assert invoice.payments.count() == 2
    assert rows(board(client), "payment_failed") == []


def test_an_integrity_failure_shows_until_the_books_check_out_again(
        linked_company, post_webhook, accountant, django_capture_on_commit_callbacks):  # noqa: F811
    post_webhook(invoice_event(linked_company))
    client = client_for(accountant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/entreprise/{linked_company.pk}/export-ecritures/", {
            "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["VT"],
            "format": "fec"})
    with tampering() as cursor:
        cursor.execute("UPDATE accounting_entry SET label = 'x' WHERE piece_ref = 'FAC001'")
    journals_verify()
    html = board(client)
    (row,) = rows(html, "integrity")
    assert "Inaltérabilité : 1 anomalie trouvée" in row[2]
    assert f'href="/entreprise/{linked_company.pk}/export-ecritures/#integrite"' in html

    with tampering() as cursor:
        cursor.execute("UPDATE accounting_entry SET label = 'FAC001 DUPONT' "
                       "WHERE piece_ref = 'FAC001'")
    journals_verify()
    assert IntegrityCheck.objects.get(company=linked_company).intact
    assert rows(board(client), "integrity") == []


@pytest.mark.parametrize(("status", "words"), [
    ("error", "Liaison ProGBat en erreur : ProGBat ne répond pas"),
    ("pending_consent", "en attente du consentement"),
    ("pending_credentials", "en attente des identifiants"),
])
def test_a_progbat_link_to_fix_opens_its_progbat_page(company, accountant, status, words):
    link = progbat_link(company, accountant, status=status, licence_status="",
                        error_detail="ProGBat ne répond pas" if status == "error" else "")
    client = client_for(accountant)
    html = board(client)
    kind = "progbat_link_error" if status == "error" else "progbat_link_pending"
    (row,) = rows(html, kind)
    assert words in row[2] and "Vous" in row[2]  # activated by this accountant
    assert f'href="/entreprise/{company.pk}/progbat/"' in html
    ProgbatLink.objects.filter(pk=link.pk).update(status="active", licence_status="licensed")
    assert rows(board(client)) == []


def test_a_trial_ending_within_14_days_shows_until_the_licence_is_bought(firm, company,
                                                                         accountant):
    later = factories.CompanyFactory(firm=firm, name="Essai Lointain")
    progbat_link(company, accountant, licence_status="trial", plan="start_plus",
                 trial_ends_at=NOW + datetime.timedelta(days=13))
    progbat_link(later, accountant, licence_status="trial",
                 trial_ends_at=NOW + datetime.timedelta(days=20))
    client = client_for(accountant)
    (row,) = rows(board(client), "progbat_trial_ending")
    assert row[1] == company.pk
    assert "Essai ProGBat Start + jusqu'au" in row[2] and "acheter sa licence" in row[2]
    ProgbatLink.objects.filter(company=company).update(licence_status="licensed")
    assert rows(board(client), "progbat_trial_ending") == []


def test_a_licence_to_assign_shows_until_the_distributeur_assigns_it(company, accountant):
    progbat_link(company, accountant, licence_status="free", plan="free")
    client = client_for(accountant)
    (row,) = rows(board(client), "progbat_licence_to_assign")
    assert "attribuez-en une dans votre back-office ProGBat" in row[2]
    ProgbatLink.objects.filter(company=company).update(licence_status="licensed")
    assert rows(board(client)) == []


# --- Filters ------------------------------------------------------------------------------------

@pytest.fixture
def two_sites(firm, accountant):
    """Lyon: Léa with company A. Paris: Paul with company B. Company C has no accountant. Each
    company has entries to export; Léa's and Paul's connections have expired."""
    lyon = factories.SiteFactory(firm=firm, name="Lyon")
    paris = factories.SiteFactory(firm=firm, name="Paris")
    lea = factories.FirmMembershipFactory(firm=firm, role="collaborateur", site=lyon,
                                          user__first_name="Léa", user__last_name="Lyon").user
    paul = factories.FirmMembershipFactory(firm=firm, role="collaborateur", site=paris,
                                           user__first_name="Paul", user__last_name="Paris").user
    companies = {}
    for name, owner in [("A", lea), ("B", paul), ("C", None)]:
        companies[name] = factories.CompanyFactory(firm=firm, name=f"Entreprise {name}")
        if owner is not None:
            factories.CompanyAccountantFactory(company=companies[name], user=owner)
        draft_entry(companies[name])
    for user in (lea, paul):
        expired_connection(user, firm)
    return {"lyon": lyon, "paris": paris, "lea": lea, "paul": paul, **companies}


def test_unfiltered_the_board_shows_every_company_and_collaborateur(two_sites, accountant):
    html = board(client_for(accountant))
    assert len(rows(html, "entries_to_export")) == 3
    assert len(rows(html, "connection_expired")) == 2


def test_by_site_a_company_belongs_to_the_site_of_its_accountants(two_sites, accountant):
    html = board(client_for(accountant), site=two_sites["lyon"].pk)
    assert [r[1] for r in rows(html, "entries_to_export")] == [two_sites["A"].pk]
    (connection_row,) = rows(html, "connection_expired")
    assert "Léa Lyon" in connection_row[2] and "Paul" not in html.split("attention-rows")[1]


def test_by_collaborateur_their_portfolio_and_their_own_connection(two_sites, accountant):
    html = board(client_for(accountant), collaborateur=two_sites["paul"].pk)
    assert [r[1] for r in rows(html, "entries_to_export")] == [two_sites["B"].pk]
    (connection_row,) = rows(html, "connection_expired")
    assert "Paul Paris" in connection_row[2]
    # Both filters: Paul's companies that have an accountant in Lyon (none).
    assert rows(board(client_for(accountant), collaborateur=two_sites["paul"].pk,
                      site=two_sites["lyon"].pk)) == []


def test_by_kind_and_the_portfolio_shortcut(two_sites, accountant):
    html = board(client_for(accountant), kind="connection_expired")
    assert kinds(html) == ["connection_expired"]
    mine = board(client_for(two_sites["lea"]), collaborateur=two_sites["lea"].pk)
    assert "Vous" in rows(mine, "connection_expired")[0][2]
    assert [r[1] for r in rows(mine, "entries_to_export")] == [two_sites["A"].pk]


# --- Tenancy ------------------------------------------------------------------------------------

def test_another_firms_problems_never_show(firm, accountant, company, other_firm,
                                           other_firm_user, other_company):
    progbat_link(other_company, other_firm_user, status="error", error_detail="Ailleurs")
    draft_entry(other_company)
    expired_connection(other_firm_user, other_firm)
    factories.InboxEventFactory(company=other_company, status="rejected", reason="Ailleurs")
    IntegrityCheck.objects.create(firm=other_firm, company=other_company, checked_at=NOW,
                                  intact=False, problems=["Ailleurs"])
    client = client_for(accountant)
    html = board(client)
    assert rows(html) == [] and "Bêta" not in html and "Ailleurs" not in html
    dashboard = unescape(client.get("/cabinet/").content.decode())
    assert 'data-testid="attention-empty"' in dashboard
    # Naming the other firm's site or user as a filter shows nothing of theirs.
    other_site = factories.SiteFactory(firm=other_firm, name="Marseille")
    for filters in ({"site": other_site.pk}, {"collaborateur": other_firm_user.pk}):
        html = board(client, **filters)
        assert rows(html) == [] and "Ailleurs" not in html
        assert "Ce filtre ne correspond" in html
    # And their own board still shows their problems.
    assert len(rows(board(client_for(other_firm_user)))) == 5


def test_company_users_cannot_open_the_board(dirigeant):
    assert client_for(dirigeant).get(BOARD).status_code == 403


# --- The dashboard block ------------------------------------------------------------------------

def test_the_dashboard_block_counts_each_kind_and_links_to_the_page(two_sites, accountant):
    progbat_link(two_sites["A"], accountant, status="error", licence_status="")
    html = unescape(client_for(accountant).get("/cabinet/").content.decode())
    block = html.split('data-testid="attention-block"')[1].split("</section>")[0]
    assert "3 écritures à exporter (3 entreprise(s))" in block
    assert "2 collaborateurs doivent se reconnecter" in block
    assert "1 entreprise à relier de nouveau" in block
    assert f'href="{BOARD}?kind=entries_to_export"' in block
    assert f'href="{BOARD}"' in block
    # Errors first, as on the page.
    assert block.index("reconnecter") < block.index("écritures à exporter")


def test_the_dashboard_counts_match_the_page(two_sites, accountant):
    progbat_link(two_sites["B"], accountant, status="pending_consent", licence_status="")
    client = client_for(accountant)
    html = unescape(client.get("/cabinet/").content.decode())
    counted = dict(re.findall(r'data-testid="attention-count-(\w+)" data-rows="(\d+)"', html))
    listed = {}
    for kind, _company, _text in rows(board(client)):
        listed[kind] = listed.get(kind, 0) + 1
    assert {k: int(v) for k, v in counted.items()} == listed



# --- The navigation's link ----------------------------------------------------------------------

def nav_badge(html):
    """The text of the top navigation's « À traiter » link and its badge (None: no badge)."""
    link = re.search(r'<a href="/cabinet/a-traiter/" data-testid="nav-attention"[^>]*>(.*?)</a>',
                     html, re.S)
    assert link, "no « À traiter » link in the navigation"
    badge = re.search(r'data-testid="attention-badge"[^>]*>(\d+)</mark>', link.group(1))
    return re.sub(r"<[^>]+>.*", "", link.group(1)).strip(), badge and int(badge.group(1))


def test_the_navigation_links_to_the_board_with_its_number_of_rows(two_sites, accountant,
                                                                    dirigeant):
    client = client_for(accountant)
    everything = len(rows(board(client)))
    assert everything == 5
    for url in ("/cabinet/", "/cabinet/entreprises/", BOARD, "/cabinet/exports-mensuels/"):
        html = unescape(client.get(url).content.decode())
        assert nav_badge(html) == ("À traiter", everything), url
    # Filtered, the page shows fewer rows; the badge still counts the whole firm.
    html = board(client, site=two_sites["lyon"].pk)
    assert len(rows(html)) == 2 and nav_badge(html) == ("À traiter", 5)
    # Fixed causes leave the badge; nothing left, no badge.
    PartnerConnection.objects.all().update(status=PartnerConnection.Status.CONNECTED)
    assert nav_badge(unescape(client.get("/cabinet/").content.decode()))[1] == 3
    Entry.objects.filter(firm=two_sites["A"].firm, state="draft").delete()
    assert nav_badge(unescape(client.get("/cabinet/").content.decode())) == ("À traiter", None)
    # Company users have no firm board, hence no link.
    assert 'data-testid="nav-attention"' not in client_for(dirigeant).get(
        f"/entreprise/{dirigeant.company_memberships.first().company_id}/").content.decode()


# --- Query count --------------------------------------------------------------------------------

def add_companies_with_every_problem(firm, admin, n, start):
    """``n`` companies, each with six rows: its collaborateur's expired connection, entries to
    export, a refused event, an integrity failure, a failed payment, and a ProGBat link in
    error, waiting for consent, in a trial ending soon or without licence (in turn)."""
    kinds_of_link = [{"status": "error", "licence_status": ""},
                     {"status": "pending_consent", "licence_status": ""},
                     {"licence_status": "trial", "trial_ends_at": NOW + datetime.timedelta(days=3)},
                     {"licence_status": "free"}]
    for i in range(start, start + n):
        company = factories.CompanyFactory(firm=firm, name=f"Entreprise {i:03d}")
        collaborateur = factories.FirmMembershipFactory(firm=firm, role="collaborateur").user
        factories.CompanyAccountantFactory(company=company, user=collaborateur)
        expired_connection(collaborateur, firm)
        draft_entry(company)
        factories.InboxEventFactory(company=company, status="rejected", reason="Refusé")
        IntegrityCheck.objects.create(firm=firm, company=company, checked_at=NOW, intact=False,
                                      problems=["Empreinte différente"])
        factories.PaymentFactory(invoice=factories.SupplierInvoiceFactory(company=company),
                                 status="failed", error_detail="Solde insuffisant")
        progbat_link(company, admin, **kinds_of_link[i % 4])


def queries_for(client, url):
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


def test_the_query_count_does_not_grow_with_the_number_of_companies(firm, accountant):
    client = client_for(accountant)
    add_companies_with_every_problem(firm, accountant, 3, 0)
    page_3, response = queries_for(client, BOARD)
    assert len(rows(unescape(response.content.decode()))) == 3 * 6
    dashboard_3, _ = queries_for(client, "/cabinet/")
    add_companies_with_every_problem(firm, accountant, 27, 3)
    page_30, response = queries_for(client, BOARD + "?page=2")
    assert "Page 2 sur 8" in unescape(response.content.decode())  # 180 rows, 25 a page
    dashboard_30, _ = queries_for(client, "/cabinet/")
    filtered = queries_for(client, f"{BOARD}?collaborateur={accountant.pk}")[0]
    assert page_30 == page_3
    assert dashboard_30 == dashboard_3 <= 12  # DESIGN §10, the board's block included
    # The filter's own choice lookup and the navigation badge's count of the whole firm (one
    # UNION query; the unfiltered page counts its own rows), nothing per company.
    assert filtered <= page_3 + 2
