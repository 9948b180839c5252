"""The partner sandboxes in tests: started as real processes on loopback by
``devtools.procs.start_sandbox``, and ProGBat's login page played as its user would."""

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

# Where test modules have always found them (tests/integration, tests/e2e).
from devtools.procs import free_port, start_sandbox  # noqa: F401

SANDBOX_PASSWORD = "progbat-demo-2026"


def _follow(session, response, root):
    """Follow redirects inside the sandbox; stop at a page or at a redirect leaving it."""
    while response.status_code in (301, 302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if not location.startswith(root):
            return response, location
        response = session.get(location, allow_redirects=False, timeout=30)
    return response, None


def _csrf_token(html):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in ProGBat's login form"
    return match.group(1)


def progbat_login(authorize_url, *, username, password, session=None):
    """Play the user at ProGBat's login page; return the redirect back to MEG (with the code)."""
    parts = urlsplit(authorize_url)
    root = f"{parts.scheme}://{parts.netloc}"
    session = session or requests.Session()
    response, location = _follow(
        session, session.get(authorize_url, allow_redirects=False, timeout=30), root)
    if location:
        return location
    response = session.post(response.url, data={
        "username": username, "password": password,
        "csrfmiddlewaretoken": _csrf_token(response.text)},
        headers={"Referer": response.url}, allow_redirects=False, timeout=30)
    response, location = _follow(session, response, root)
    if location:
        return location
    raise AssertionError(f"ProGBat login failed: {response.status_code} {response.text[:300]}")


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
