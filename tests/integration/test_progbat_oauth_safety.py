"""The OAuth client's safety: state checked, PKCE S256 used, tokens never in logs, URLs or
pages."""

import logging
from urllib.parse import urlsplit

import pytest
import requests

from partners.common.models import PartnerConnection
from tests.conftest import client_for
from tests.integration.conftest import CALLBACK
from tests.sandboxes import SANDBOX_PASSWORD, progbat_login, query_of

pytestmark = pytest.mark.integration


def test_authorization_request_uses_state_and_pkce_s256(progbat, accountant, prescripteur):
    response = client_for(accountant).post("/partners/progbat/oauth/connect/")
    location = response["Location"]
    assert location.startswith(f"{progbat.url}/oauth/authorize?")
    query = query_of(location)
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert len(query["state"]) >= 20
    assert query["redirect_uri"] == CALLBACK
    assert "code_verifier" not in location


def test_callback_with_a_forged_state_is_refused(progbat, accountant, prescripteur):
    client = client_for(accountant)
    response = client.post("/partners/progbat/oauth/connect/")
    back = urlsplit(progbat_login(response["Location"], username="cabinet-demo",
                                  password=SANDBOX_PASSWORD))
    code = query_of(back.geturl())["code"]
    forged = client.get("/partners/progbat/oauth/callback/", {"code": code, "state": "forged"})
    assert forged.status_code == 400
    assert not PartnerConnection.objects.filter(user=accountant).exists()
    # The real state was consumed by the refused attempt: replaying it fails too.
    replay = client.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400
    assert not PartnerConnection.objects.filter(user=accountant).exists()


def test_callback_without_a_pending_request_is_refused(progbat, accountant):
    response = client_for(accountant).get("/partners/progbat/oauth/callback/",
                                          {"code": "x", "state": "y"})
    assert response.status_code == 400
    assert not PartnerConnection.objects.exists()


def test_the_code_is_useless_without_the_pkce_verifier(progbat, accountant, prescripteur):
    response = client_for(accountant).post("/partners/progbat/oauth/connect/")
    code = query_of(progbat_login(response["Location"], username="cabinet-demo",
                                  password=SANDBOX_PASSWORD))["code"]
    stolen = requests.post(f"{progbat.url}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "client_id": "meg-dev", "client_secret": "meg-dev-secret"}, timeout=10)
    assert stolen.status_code == 400
    assert "access_token" not in stolen.text


def test_tokens_never_appear_in_logs_urls_or_pages(progbat, accountant, prescripteur,
                                                   company, dirigeant, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(accountant)
    seen = []
    response = client.post("/partners/progbat/oauth/connect/")
    seen.append(response["Location"])
    back = progbat_login(response["Location"], username="cabinet-demo",
                         password=SANDBOX_PASSWORD)
    seen.append(back)
    parts = urlsplit(back)
    response = client.get(f"{parts.path}?{parts.query}", follow=True)
    seen.append(response.content.decode())
    client.post(f"/entreprise/{company.pk}/parametres/modules/", {"modules": ["progbat"]})
    client_for(dirigeant).post(f"/entreprise/{company.pk}/progbat/", {"action": "consent"})
    progbat.control("tokens/expire")  # force a refresh too
    opened = client.post(f"/entreprise/{company.pk}/progbat/ouvrir/")
    seen.append(opened["Location"])
    for url in ["/cabinet/", "/cabinet/parametres/connexions-partenaires/",
                f"/entreprise/{company.pk}/progbat/", "/cabinet/journal-activite/"]:
        seen.append(client.get(url).content.decode())

    connection = PartnerConnection.objects.get(user=accountant)
    secrets = [connection.access_token, connection.refresh_token]
    assert all(secrets)
    for text in [*seen, caplog.text]:
        for secret in secrets:
            assert secret not in text
