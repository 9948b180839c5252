"""Fixtures for the end-to-end tests: the demo data, a live server and a headless Chromium.

Run them with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/meg pytest tests/e2e --create-db``.
Set ``MEG_SCREENSHOTS=1`` to also save full-page screenshots into ``/tmp/meg-shots/``.
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, sync_playwright

from devtools.procs import start_sandbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS_DIR = Path("/tmp/meg-shots")
TIMEOUT_MS = 10_000


@pytest.fixture
def demo(transactional_db):
    """The demo surface of ``manage.py seed_demo``, committed so the live server sees it."""
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(scope="module")
def browser() -> Browser:
    """Headless Chromium, for the tests of one module.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
    calls from a thread with a running loop unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set (it is
    safe here: the loop never awaits Django). The variable is set only while the browser lives,
    so it leaks neither into the other tests nor into the subprocesses they start (``manage.py
    check --deploy`` warns about it).
    """
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Page:
    """A fresh browser tab (own cookies) whose relative URLs point at the live server."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves a full-page PNG when ``MEG_SCREENSHOTS`` is set."""

    def take(page: Page, name: str) -> None:
        if os.environ.get("MEG_SCREENSHOTS"):
            SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS_DIR / f"{name}.png", full_page=True)

    return take


@pytest.fixture(scope="module")
def progbat_sandbox(live_server, tmp_path_factory):
    """The ProGBat sandbox, sending its users back to, and its webhooks to, the live MEG."""
    with start_sandbox("progbat", env={
        "PROGBAT_SANDBOX_DB": str(tmp_path_factory.mktemp("progbat-e2e") / "sandbox.sqlite3"),
        "PROGBAT_REDIRECT_URIS": f"{live_server.url}/partners/progbat/oauth/callback/",
        "PROGBAT_WEBHOOK_URL": f"{live_server.url}/partners/progbat/webhooks/",
        "PROGBAT_SANDBOX_CONTROL": "1",
    }) as sandbox:
        yield sandbox


@pytest.fixture
def progbat(progbat_sandbox, live_server, settings):
    progbat_sandbox.control("reset")
    settings.PROGBAT_BASE_URL = progbat_sandbox.url
    settings.PROGBAT_REDIRECT_URI = f"{live_server.url}/partners/progbat/oauth/callback/"
    return progbat_sandbox
