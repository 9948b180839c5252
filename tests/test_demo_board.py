"""`seed_demo` gives Cabinet Démo an attention board (*À traiter*) with one row of each kind a
prescripteur firm meets, on two sites with a collaborateur each, so that the board and its
filters show something in the demo (read through the page, as a firm user sees it)."""

import re
from html import unescape
from io import StringIO

from django.core.management import call_command
from django.test import Client

from companies.models import Company
from demo import seed as demo
from firms.models import FirmMembership, Site
from users.models import User

BOARD = "/cabinet/a-traiter/"


def logged_in(email):
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, email
    return client


def board_rows(client, **filters):
    """``{(kind, company name or the collaborateur's line): row text}`` of the whole board."""
    found, page = {}, 1
    while True:
        response = client.get(BOARD, {**filters, "page": page})
        assert response.status_code == 200
        html = unescape(response.content.decode())
        for kind, body in re.findall(r'data-testid="attention-row" data-kind="([^"]+)" '
                                     r'data-company="[^"]*">(.*?)</tr>', html, re.S):
            cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
                     for cell in re.findall(r"<td>(.*?)</td>", body, re.S)]
            found[(kind, cells[1])] = " | ".join(cells[2:4])
        if f"page={page + 1}" not in html:
            return found, html
        page += 1


def name(index):
    return demo.extra_company_name(index)


def test_the_demo_board_has_a_row_of_each_kind_and_filters_by_site_and_collaborateur(db):
    call_command("seed_demo", stdout=StringIO())
    expert = logged_in(demo.ACCOUNTANT)
    rows, html = board_rows(expert)

    expected = {
        ("progbat_link_error", name(6)): "Liaison ProGBat en erreur : Ce SIREN est déjà relié",
        ("progbat_link_pending", name(14)): "en attente du consentement",
        ("progbat_trial_ending", name(15)): "Essai ProGBat Start + jusqu'au",
        ("events", name(16)): "1 événement partenaire refusé",
        ("entries_to_export", demo.DUPONT["name"]): "écritures à exporter",
        ("entries_to_export", name(4)): "2 écritures à exporter",
        ("entries_to_export", name(5)): "1 écriture à exporter",
        ("entries_to_export", name(17)): "1 écriture à exporter",
        ("payment_failed", name(17)): "Paiement en échec",
        # Dupont's failed Libeo payment of the purchases walkthrough (EL-0457).
        ("payment_failed", demo.DUPONT["name"]): "Paiement en échec",
    }
    expired = {key: text for key, text in rows.items() if key[0] == "connection_expired"}
    assert len(expired) == 1
    ((_kind, portfolio), text), = expired.items()
    assert portfolio == "4 entreprises de son portefeuille"
    assert "Connexion ProGBat expirée" in text and "Léa Rousseau" in text
    for key, words in expected.items():
        assert key in rows, (key, sorted(rows))
        assert words in rows[key], (key, rows[key])
    assert len(rows) == len(expected) + 1
    assert "Solde insuffisant sur le compte Libeo." in rows[("payment_failed", name(17))]
    # The navigation's badge counts them all.
    assert re.search(r'data-testid="attention-badge">(\d+)<', html).group(1) == str(len(rows))

    # By site: Lyon is Léa's portfolio (her expired connection, two companies to export, the
    # link in error); Grenoble is Hugo's.
    firm = Company.objects.get(siret=demo.DUPONT["siret"]).firm
    lyon, grenoble = (Site.objects.get(firm=firm, name=n) for n in ("Lyon", "Grenoble"))
    by_lyon, _ = board_rows(expert, site=lyon.pk)
    assert sorted(by_lyon) == sorted([
        ("connection_expired", "4 entreprises de son portefeuille"),
        ("entries_to_export", name(4)), ("entries_to_export", name(5)),
        ("progbat_link_error", name(6))])
    hugo = FirmMembership.objects.get(user__email=demo.HUGO)
    assert hugo.site == grenoble and hugo.role == "collaborateur"
    by_hugo, _ = board_rows(expert, collaborateur=hugo.user_id)
    assert by_hugo == board_rows(expert, site=grenoble.pk)[0]
    assert {company for _kind, company in by_hugo} == {name(14), name(15), name(16), name(17)}
    assert "Hugo Bernard" in by_hugo[("progbat_link_pending", name(14))]  # who activated it

    # Léa sees her own connection as hers.
    mine, _ = board_rows(logged_in(demo.LEA), collaborateur=User.objects.get(email=demo.LEA).pk)
    assert "Vous" in mine[("connection_expired", "4 entreprises de son portefeuille")]

    # Seeding again adds nothing.
    call_command("seed_demo", stdout=StringIO())
    assert board_rows(expert)[0] == rows
