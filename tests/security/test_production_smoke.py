"""MEG booted as in production: ``MEG_ENV=production`` under a real gunicorn, every secret set,
PostgreSQL (the test database), static files collected. The answers carry the security headers,
a strict Content-Security-Policy and secure cookies, and say nothing of the server.
"""

import json
import os
import re
import uuid
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urljoin

import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from standardwebhooks.webhooks import Webhook

from demo import seed as demo_data
from devtools.procs import free_port, start_gunicorn
from tests import factories
from tests.security.production import manage, production_env

pytestmark = pytest.mark.integration

LOGIN = "/accounts/login/"
PASSWORD = demo_data.DEMO_PASSWORD


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """``collectstatic`` as the Dockerfile runs it: production serves the hashed files."""
    root = tmp_path_factory.mktemp("static")
    result = manage("collectstatic", "--noinput", env=production_env(MEG_STATIC_ROOT=str(root)))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


class Meg(NamedTuple):
    url: str
    env: dict


@pytest.fixture
def meg(transactional_db, static_root, tmp_path):
    """The base URL of MEG in production mode, behind a TLS proxy that is not there: requests
    say ``X-Forwarded-Proto: https`` as the proxy would (gunicorn trusts it from loopback)."""
    database = connection.settings_dict
    port = free_port()
    env = production_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1", MEG_STATIC_ROOT=str(static_root),
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                     f"{database['NAME']}",
        REDIS_URL=os.environ.get("REDIS_URL", ""), CELERY_BROKER_URL=None, PYTHONUNBUFFERED="1")
    web = start_gunicorn("meg.wsgi:application", port=port, env=env,
                         log_path=tmp_path / "gunicorn.log", args=["--workers", "1"])
    try:
        yield Meg(f"http://127.0.0.1:{port}", env)
    finally:
        web.stop()


def https():
    """A client behind the missing TLS proxy. Its cookies are sent by hand: they are ``Secure``,
    and requests keeps those for https URLs."""
    session = requests.Session()
    session.headers["X-Forwarded-Proto"] = "https"
    return session


def cookie_value(set_cookie_line):
    return set_cookie_line.split(";", 1)[0].split("=", 1)[1]


def csp_directives(header):
    return {directive.split()[0]: directive.split()[1:]
            for directive in header.split(";") if directive.strip()}


def set_cookies(response):
    """``{name: Set-Cookie line}`` of one response, as the server wrote them."""
    lines = response.raw.headers.getlist("Set-Cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def test_http_is_sent_to_https(meg):
    response = requests.get(f"{meg.url}{LOGIN}", allow_redirects=False, timeout=30)
    assert response.status_code == 301
    assert response.headers["Location"] == meg.url.replace("http:", "https:") + LOGIN
    assert "Server" not in response.headers


def test_login_page_headers_and_csrf_cookie(meg):
    response = https().get(f"{meg.url}{LOGIN}", allow_redirects=False, timeout=30)
    assert response.status_code == 200, response.text[:500]
    headers = response.headers

    assert "Server" not in headers  # gunicorn.conf.py
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"

    policy = csp_directives(headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    # The forms go to MEG, or on to the partners (OAuth): nowhere else.
    assert policy["form-action"] == ["'self'", "https://api.progbat.example",
                                     "https://app.libeo.example"]

    csrf = set_cookies(response)["csrftoken"]
    assert "; Secure" in csrf and "SameSite=Lax" in csrf

    # No inline script in the page; its scripts are the hashed static files, served.
    # No inline code: every <script> has a src, or is a JSON data block (never run).
    assert not re.search(r"<script(?![^>]*\ssrc=)(?![^>]*application/json)", response.text)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", response.text)
    scripts = re.findall(r'<script src="([^"]+)"', response.text)
    assert any(re.search(r"/static/js/meg\.[0-9a-f]{12}\.js$", src) for src in scripts), scripts
    for src in scripts:
        script = https().get(urljoin(meg.url, src), timeout=30)
        assert script.status_code == 200
        assert "Server" not in script.headers


def test_logging_in_sets_a_secure_http_only_session_cookie(meg):
    user = factories.FirmMembershipFactory(user__email="prod@cabinet.test").user
    # The suite hashes with MD5 for speed; production knows only its own hashers.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    browser = https()
    login = browser.get(f"{meg.url}{LOGIN}", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
    csrf_cookie = cookie_value(set_cookies(login)["csrftoken"])
    # Over https, Django checks the Origin of a POST (CSRF) against the host.
    response = browser.post(f"{meg.url}{LOGIN}", allow_redirects=False, timeout=30, data={
        "csrfmiddlewaretoken": token, "login": "prod@cabinet.test", "password": PASSWORD},
        headers={"Origin": f"https://{meg.url.removeprefix('http://')}",
                 "Cookie": f"csrftoken={csrf_cookie}"})
    assert response.status_code == 302, response.text[response.text.find("<main"):][:2000]
    assert "Server" not in response.headers

    session = set_cookies(response)["sessionid"]
    assert "; Secure" in session
    assert "; HttpOnly" in session
    assert "SameSite=Lax" in session

    # The session opens the firm dashboard (requests would drop a hand-set cookie on redirects).
    dashboard = browser.get(f"{meg.url}/cabinet/", allow_redirects=False, timeout=30,
                            headers={"Cookie": f"sessionid={cookie_value(session)}"})
    assert dashboard.status_code == 200
    assert "Tableau de bord" in dashboard.text
    assert csp_directives(dashboard.headers["Content-Security-Policy"])["script-src"] == [
        "'self'"]


def test_a_webhook_signed_with_the_development_secret_is_refused(meg):
    """The finding: production answered 202 to a webhook signed with the README's secret."""
    def post_signed_with(secret):
        body = json.dumps({"type": "invoice.validated", "data": {}})
        msg_id, timestamp = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        return https().post(f"{meg.url}/partners/progbat/webhooks/", data=body.encode(),
                            timeout=30, allow_redirects=False, headers={
                                "Content-Type": "application/json", "webhook-id": msg_id,
                                "webhook-timestamp": str(int(timestamp.timestamp())),
                                "webhook-signature": Webhook(secret).sign(msg_id, timestamp,
                                                                          body)})

    # (this test process runs with the development settings)
    refused = post_signed_with(settings.MEG_DEVELOPMENT_SECRETS["PROGBAT_WEBHOOK_SECRET"])
    assert refused.status_code == 401, refused.text[:500]
    # Signed with production's own secret, the same body passes the signature check.
    assert post_signed_with(meg.env["PROGBAT_WEBHOOK_SECRET"]).status_code != 401
