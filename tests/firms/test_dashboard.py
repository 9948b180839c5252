"""The firm dashboard's figures, against fixtures counted by hand."""

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.conftest import client_for

TODAY = datetime.date.today()


def days(n):
    return TODAY + datetime.timedelta(days=n)


def shown(html, testid):
    match = re.search(rf'data-testid="{testid}">(\d+)<', html)
    assert match, f"{testid} is not on the dashboard"
    return int(match.group(1))


@pytest.fixture
def counted_firm(firm, accountant, other_firm):
    # Companies: 3 created, 4 activated, 2 inactivated; 6 engagement, 3 trésorerie.
    states = ["created"] * 3 + ["activated"] * 4 + ["inactivated"] * 2
    dossiers = ["engagement"] * 6 + ["tresorerie"] * 3
    companies = [factories.CompanyFactory(firm=firm, state=s, dossier_type=d)
                 for s, d in zip(states, dossiers, strict=True)]
    # Licences: valid today → 5 (of which 2 end within 30 days: today+0 and today+30; 3 free,
    # 2 premium); expired → 3; not started yet → 1 (counted nowhere).
    for tier, start, end in [("free", -100, 200), ("free", -10, 0), ("premium", -5, 30),
                             ("premium", 0, 31), ("free", -400, 365),
                             ("free", -300, -1), ("premium", -300, -30), ("free", -60, -59),
                             ("free", 5, 100)]:
        factories.LicenceFactory(company=companies[0], tier=tier, starts_on=days(start),
                                 ends_on=days(end))
    # Another firm's rows never count.
    other = factories.CompanyFactory(firm=other_firm, state="inactivated",
                                     dossier_type="tresorerie")
    factories.LicenceFactory(company=other, ends_on=days(-3), starts_on=days(-30))
    return firm


def test_dashboard_figures_match_the_hand_count(counted_firm, accountant):
    html = client_for(accountant).get("/cabinet/").content.decode()
    assert shown(html, "companies-created") == 9
    assert shown(html, "companies-activated") == 4
    assert shown(html, "companies-inactivated") == 2
    assert shown(html, "licences-activated") == 5
    assert shown(html, "licences-expiring") == 2
    assert shown(html, "licences-expired") == 3
    assert "Engagement : <strong>6</strong>" in html
    assert "Compta de trésorerie : <strong>3</strong>" in html
    assert "MEG Free : <strong>3</strong>" in html
    assert "MEG Premium : <strong>2</strong>" in html


def test_dashboard_shows_the_four_widgets_and_the_settings_menu(firm, accountant):
    html = unescape(client_for(accountant).get("/cabinet/").content.decode())
    for title in ["Nombre d'entreprises", "Gestion des licences", "Répartition des dossiers",
                  "Répartition des licences", "Cabinets / Sites", "Utilisateurs Cabinets",
                  "Utilisateurs Entreprises", "Actualités cabinet", "Connexions partenaires"]:
        assert title in html, title
    assert "Votre cabinet n'a pas encore d'entreprise." in html


def queries_for_dashboard(user):
    client = client_for(user)
    client.get("/cabinet/")  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/cabinet/").status_code == 200
    return len(queries)


def add_companies(firm, n):
    for _ in range(n):
        company = factories.CompanyFactory(firm=firm)
        membership = factories.CompanyMembershipFactory(company=company)
        factories.LicenceFactory(company=company, user=membership.user)


def test_dashboard_query_count_does_not_grow_with_the_firm(firm, accountant):
    add_companies(firm, 10)
    with_10 = queries_for_dashboard(accountant)
    add_companies(firm, 290)
    with_300 = queries_for_dashboard(accountant)
    assert with_10 == with_300
    assert with_300 <= 12
