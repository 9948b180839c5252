"""ProGBat end to end against the live sandbox: connection, activation, the guide's three
cases, consent, credentials, SSO, and what happens when ProGBat fails."""

import datetime
import threading
from html import unescape

import pytest
import requests
from django.db import connection as db_connection
from django.utils import timezone

from companies import services as company_services
from companies.models import CompanyMembership, ModuleActivation
from meg.tenancy import user_scope
from partners.common.models import Consent, PartnerConnection
from partners.progbat.models import ProgbatLink, ProgbatUserAccess
from partners.progbat.services import fresh_access_token
from tests import factories
from tests.conftest import client_for
from tests.integration.conftest import connect_progbat

pytestmark = pytest.mark.integration

LEFEVRE_SIRET = "90000006800016"  # SIREN 900000068 exists in the sandbox: acc_demo_lefevre


def page(response):
    return unescape(response.content.decode())


def activate(client, company):
    return client.post(f"/entreprise/{company.pk}/parametres/modules/",
                       {"modules": ["progbat"]}, follow=True)


def accounts_for(sandbox, siren):
    return [a for a in sandbox.state()["accounts"] if a["siren"] == siren]


@pytest.fixture
def accountant_connected(progbat, accountant, prescripteur):
    client = client_for(accountant)
    response = connect_progbat(client)
    assert "Votre compte MEG est connecté à votre compte ProGBat." in page(
        client.get(response["Location"]))
    return client


def test_connection_shows_connecte_and_keeps_tokens_encrypted(accountant_connected,
                                                              accountant):
    html = page(accountant_connected.get("/cabinet/parametres/connexions-partenaires/"))
    assert "Connecté" in html and "Déconnexion" in html
    connection = PartnerConnection.objects.get(user=accountant)
    assert connection.status == "connected" and connection.access_token
    assert connection.access_token not in html


def test_activation_is_explained_when_conditions_are_not_met(progbat, accountant, company):
    client = client_for(accountant)
    html = page(activate(client, company))
    assert "Connectez d'abord votre compte ProGBat" in html
    assert "Votre cabinet n'a pas de convention ProGBat" in html
    assert not ModuleActivation.objects.filter(company=company, module__code="progbat").exists()


def test_prescripteur_case_creates_the_account_with_a_one_month_trial(
        accountant_connected, progbat, company, dirigeant):
    html = page(activate(accountant_connected, company))
    assert "Modules enregistrés : ProGBat." in html
    assert ProgbatLink.objects.get(company=company).status == "pending_consent"

    boss = client_for(dirigeant)
    assert "ProGBat" in page(boss.get(f"/entreprise/{company.pk}/"))
    consent_page = page(boss.get(f"/entreprise/{company.pk}/progbat/"))
    assert "Autoriser le partage des données" in consent_page
    assert accounts_for(progbat, company.siren) == []  # nothing left MEG before consent

    html = page(boss.post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"},
                          follow=True))
    link = ProgbatLink.objects.get(company=company)
    assert link.status == "active" and link.licence_status == "trial"
    assert link.plan == "start_plus"
    assert abs((link.trial_ends_at - timezone.now()) - datetime.timedelta(days=30)) < \
        datetime.timedelta(minutes=5)
    assert f"jusqu'au {timezone.localtime(link.trial_ends_at):%d/%m/%Y}" in html
    [account] = accounts_for(progbat, company.siren)
    assert account["id"] == link.progbat_account_id
    consent = Consent.objects.get(company=company)
    assert (consent.user, consent.text_version) == (dirigeant, "2026-11-01")


def test_distributeur_case_creates_an_account_without_licence(
        progbat, accountant, distributeur, company, dirigeant):
    client = client_for(accountant)
    connect_progbat(client)
    activate(client, company)
    client.post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    link = ProgbatLink.objects.get(company=company)
    assert (link.status, link.licence_status) == ("active", "free")
    assert "Licence à attribuer" in page(client.get("/cabinet/"))

    # The firm assigns a licence in the ProGBat back-office; MEG sees it at the next opening.
    token = PartnerConnection.objects.get(user=accountant).access_token
    requests.post(f"{progbat.url}/api/v1/accounts/{link.progbat_account_id}/licence",
                  json={"plan": "premium"}, headers={"Authorization": f"Bearer {token}"},
                  timeout=10).raise_for_status()
    client.post(f"/entreprise/{company.pk}/progbat/ouvrir/")
    link.refresh_from_db()
    assert (link.licence_status, link.plan) == ("licensed", "premium")


def test_existing_account_asks_for_credentials_once_and_refuses_wrong_ones(
        accountant_connected, progbat, firm, accountant):
    company = factories.CompanyFactory(firm=firm, siret=LEFEVRE_SIRET, name="Lefèvre")
    factories.CompanyAccountantFactory(company=company, user=accountant)
    boss = factories.CompanyMembershipFactory(company=company).user
    activate(accountant_connected, company)
    client = client_for(boss)
    html = page(client.post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"},
                            follow=True))
    assert "Un compte ProGBat existe déjà pour cette entreprise" in html
    assert ProgbatLink.objects.get(company=company).status == "pending_credentials"

    wrong = client.post(f"/entreprise/{company.pk}/progbat/",
                        {"action": "credentials", "username": "lefevre", "password": "nope"})
    assert wrong.status_code == 400
    assert "Identifiants ProGBat incorrects" in page(wrong)
    assert ProgbatLink.objects.get(company=company).status == "pending_credentials"

    client.post(f"/entreprise/{company.pk}/progbat/", {
        "action": "credentials", "username": "lefevre", "password": "progbat-demo-2026"})
    link = ProgbatLink.objects.get(company=company)
    assert (link.status, link.progbat_account_id) == ("active", "acc_demo_lefevre")
    # The next user, the accountant, goes straight to "Ouvrir ProGBat".
    html = page(accountant_connected.get(f"/entreprise/{company.pk}/progbat/"))
    assert "Ouvrir ProGBat" in html and "identifiants ProGBat" not in html
    assert len(accounts_for(progbat, "900000068")) == 1


def test_consent_is_required_before_opening(accountant_connected, progbat, company,
                                            dirigeant):
    activate(accountant_connected, company)
    response = client_for(dirigeant).post(f"/entreprise/{company.pk}/progbat/ouvrir/",
                                          follow=True)
    assert "n'est pas active" in page(response)
    assert accounts_for(progbat, company.siren) == []


def test_sso_opens_progbat_and_creates_the_expert_comptable_access_once(
        accountant_connected, progbat, company, dirigeant, accountant):
    activate(accountant_connected, company)
    client_for(dirigeant).post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    for _ in range(2):
        response = accountant_connected.post(f"/entreprise/{company.pk}/progbat/ouvrir/")
        assert response.status_code == 302 and response["Location"].startswith(progbat.url)
    landing = requests.get(response["Location"], timeout=10)
    assert "Dupont" not in landing.text and company.name in landing.text
    assert accountant.email in landing.text
    assert requests.get(response["Location"], timeout=10).status_code == 410  # one time only
    link = ProgbatLink.objects.get(company=company)
    grants = progbat.state()["access_grants"][link.progbat_account_id]
    assert [g["role"] for g in grants if g["email"] == accountant.email] == ["expert_comptable"]
    assert ProgbatUserAccess.objects.filter(link=link, user=accountant).count() == 1


def test_multi_company_dirigeant_is_refused_with_an_explanation(
        accountant_connected, progbat, firm, company, dirigeant, accountant):
    activate(accountant_connected, company)
    client_for(dirigeant).post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    second = factories.CompanyFactory(firm=firm, name="Alpha Peinture")
    factories.CompanyAccountantFactory(company=second, user=accountant)
    CompanyMembership.objects.create(firm=firm, company=second, user=dirigeant,
                                     role="dirigeant")
    activate(accountant_connected, second)
    html = page(client_for(dirigeant).post(f"/entreprise/{second.pk}/progbat/",
                                           {"action": "consent"}, follow=True))
    assert "ProGBat n'accepte qu'une seule entreprise par dirigeant" in html
    assert "« Alpha Maçonnerie »" in html and "Définir comme dirigeant" in html
    link = ProgbatLink.objects.get(company=second)
    assert (link.status, link.error_code) == ("error", "dirigeant_multi")
    assert accounts_for(progbat, second.siren) == []

    # Following the advice: another person becomes dirigeant, and the retry links.
    other = company_services.company_user_add(company=second, actor=accountant,
                                              email="fille@alpha.test", role="salarie").user
    company_services.company_dirigeant_change(company=second, actor=accountant, user=other)
    client_for(accountant).post(f"/entreprise/{second.pk}/progbat/", {"action": "retry"})
    assert ProgbatLink.objects.get(company=second).status == "active"


def test_expired_access_token_is_refreshed(accountant_connected, progbat, company, dirigeant,
                                           accountant):
    activate(accountant_connected, company)
    client_for(dirigeant).post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    before = PartnerConnection.objects.get(user=accountant)
    progbat.control("tokens/expire")
    response = accountant_connected.post(f"/entreprise/{company.pk}/progbat/ouvrir/")
    assert response["Location"].startswith(progbat.url)
    after = PartnerConnection.objects.get(user=accountant)
    assert after.status == "connected" and after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # rotated


def test_failed_refresh_is_shown_as_reconnecter(accountant_connected, progbat, company,
                                                dirigeant, accountant):
    activate(accountant_connected, company)
    client_for(dirigeant).post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    progbat.control("tokens/revoke")
    html = page(accountant_connected.post(f"/entreprise/{company.pk}/progbat/ouvrir/",
                                          follow=True))
    assert "Reconnecter" in html
    assert PartnerConnection.objects.get(user=accountant).status == "expired"
    assert "Reconnecter" in page(
        accountant_connected.get("/cabinet/parametres/connexions-partenaires/"))
    # Reconnecting brings it back.
    connect_progbat(accountant_connected)
    assert PartnerConnection.objects.get(user=accountant).status == "connected"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_do_not_burn_the_rotating_token(accountant_connected,
                                                                 progbat, accountant):
    connection = PartnerConnection.objects.get(user=accountant)
    PartnerConnection.objects.filter(pk=connection.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1))
    results, errors = [], []
    barrier = threading.Barrier(2)

    def refresh():
        try:
            barrier.wait()
            with user_scope(accountant):  # as two requests of the same user would be
                results.append(fresh_access_token(connection.pk))
        except Exception as error:
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1  # the second request found the token the first one got
    connection.refresh_from_db()
    assert connection.status == "connected"
    assert progbat.state()["refresh_token_uses"] == 1


@pytest.mark.parametrize("fault", ["500", "down"])
def test_progbat_failing_leaves_nothing_half_created_and_can_be_retried(
        accountant_connected, progbat, company, dirigeant, settings, fault):
    activate(accountant_connected, company)
    if fault == "500":
        progbat.control("faults", {"api": "500"})
    else:
        settings.PROGBAT_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    boss = client_for(dirigeant)
    html = page(boss.post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"},
                          follow=True))
    assert "ProGBat ne répond pas pour le moment" in html and "réessayez" in html
    link = ProgbatLink.objects.get(company=company)
    assert (link.status, link.progbat_account_id) == ("error", "")
    assert accounts_for(progbat, company.siren) == []
    assert "ProGBat ne répond pas" in page(accountant_connected.get("/cabinet/"))

    progbat.control("faults", {"api": None})
    settings.PROGBAT_BASE_URL = progbat.url
    boss.post(f"/entreprise/{company.pk}/progbat/", {"action": "retry"})
    assert ProgbatLink.objects.get(company=company).status == "active"
    assert len(accounts_for(progbat, company.siren)) == 1


def test_withdrawn_consent_pauses_the_link(accountant_connected, progbat, company, dirigeant):
    activate(accountant_connected, company)
    boss = client_for(dirigeant)
    boss.post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    boss.post(f"/entreprise/{company.pk}/progbat/", {"action": "withdraw"})
    assert ProgbatLink.objects.get(company=company).status == "paused"
    assert Consent.objects.get(company=company).withdrawn_at is not None
    assert "n'est pas active" in page(boss.post(f"/entreprise/{company.pk}/progbat/ouvrir/",
                                                follow=True))
    boss.post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    assert ProgbatLink.objects.get(company=company).status == "active"
    assert len(accounts_for(progbat, company.siren)) == 1
