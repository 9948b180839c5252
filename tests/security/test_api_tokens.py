"""Finding 8: REST API tokens were stored in clear (``authtoken_token.key``) and shown in full.

Tokens are now django-rest-knox tokens in ``users.ApiToken``: a SHA-512 digest and the first
characters only, shown once at creation, with an optional expiry, revocable one by one.
``Authorization: Token <token>`` works as before (DESIGN §11).
"""

import datetime
import hashlib
import importlib
from html import unescape
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from tests.conftest import client_for
from users.models import ApiToken


def api(token):
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def new_token(email, *args):
    out = StringIO()
    call_command("create_api_token", email, *args, stdout=out)
    return out.getvalue().strip()


def test_only_a_digest_is_stored(accountant, company):
    token = new_token(accountant.email)
    assert token.startswith("meg_") and len(token) == 4 + 64
    row = ApiToken.objects.get(user=accountant)
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()
    assert token not in {row.digest, row.token_key} and token.startswith(row.token_key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM users_apitoken")
        assert token not in repr(cursor.fetchall())
    assert api(token).get("/api/v1/companies/").json()["count"] == 1
    assert api(token + "0").get("/api/v1/companies/").status_code == 401


def test_the_command_sets_an_expiry_and_revokes_the_previous_token(accountant, company):
    first = new_token(accountant.email)
    second = new_token(accountant.email, "--expires-in-days", "7")
    assert api(first).get("/api/v1/companies/").status_code == 401
    row = ApiToken.objects.get(user=accountant)
    assert row.expiry.date() == (timezone.now() + datetime.timedelta(days=7)).date()
    assert api(second).get("/api/v1/companies/").status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - datetime.timedelta(1))
    assert api(second).get("/api/v1/companies/").status_code == 401
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("id")) == [
        "api_token.created", "api_token.revoked", "api_token.created"]


def test_last_use_is_recorded(accountant, company):
    token = new_token(accountant.email)
    assert ApiToken.objects.get(user=accountant).last_used_at is None
    api(token).get("/api/v1/companies/")
    assert ApiToken.objects.get(user=accountant).last_used_at is not None


class TestSettingsPage:
    url = "/cabinet/parametres/jetons-api/"

    def test_a_new_token_is_shown_once(self, accountant, company):
        client = client_for(accountant)
        response = client.post(self.url, {"name": "Logiciel comptable",
                                          "expires_in_days": "30"})
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        row = ApiToken.objects.get(user=accountant)
        html = response.content.decode()
        token = html.split('data-testid="new-token"')[1].split("<code>")[1].split("</code>")[0]
        assert api(token).get("/api/v1/companies/").status_code == 200
        listing = unescape(client.get(self.url).content.decode())
        assert token not in listing
        assert f"{row.token_key}…" in listing and "Logiciel comptable" in listing
        assert row.expiry.date() == (timezone.now() + datetime.timedelta(days=30)).date()
        assert AuditEvent.objects.get(action="api_token.created").actor == accountant

    def test_each_token_is_revoked_on_its_own(self, accountant, company):
        _first, kept = ApiToken.objects.create(user=accountant)
        revoked_row, revoked = ApiToken.objects.create(user=accountant)
        response = client_for(accountant).post(self.url, {"revoke": "1",
                                                          "token_id": revoked_row.pk})
        assert response.status_code == 302
        assert api(revoked).get("/api/v1/companies/").status_code == 401
        assert api(kept).get("/api/v1/companies/").status_code == 200
        assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1

    def test_the_page_lists_and_revokes_only_ones_own_tokens(self, accountant, collaborateur):
        other_row, other = ApiToken.objects.create(user=collaborateur, name="À Collab")
        client = client_for(accountant)
        assert "À Collab" not in unescape(client.get(self.url).content.decode())
        response = client.post(self.url, {"revoke": "1", "token_id": other_row.pk})
        assert response.status_code == 404
        assert api(other).get("/api/v1/companies/").status_code == 200

    def test_company_users_have_no_token_page(self, dirigeant):
        assert client_for(dirigeant).get(self.url).status_code == 403


def test_old_drf_tokens_keep_working_once_hashed_and_their_table_is_dropped(accountant,
                                                                            company):
    """The migration hashes the keys of ``rest_framework.authtoken`` and drops its table."""
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
                       "created timestamptz NOT NULL, user_id bigint NOT NULL)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, accountant.pk])
    migration = importlib.import_module("users.migrations.0002_api_token")
    with connection.schema_editor() as editor:
        migration.hash_old_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert api(key).get("/api/v1/companies/").status_code == 200
    assert key not in repr(list(ApiToken.objects.values()))


@pytest.mark.parametrize("header", ["Bearer {}", "Token", "Token a b", "{}"])
def test_other_schemes_and_malformed_headers_are_refused(accountant, header):
    token = new_token(accountant.email)
    client = Client(HTTP_AUTHORIZATION=header.format(token))
    assert client.get("/api/v1/companies/").status_code == 401
