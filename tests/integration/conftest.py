"""Live partner sandboxes for integration tests: real processes, real HTTP, no mocks."""

from urllib.parse import urlsplit

import pytest

from devtools.procs import start_sandbox
from firms.models import PartnerConvention
from tests.sandboxes import SANDBOX_PASSWORD, progbat_login

CALLBACK = "http://testserver/partners/progbat/oauth/callback/"


@pytest.fixture(scope="session")
def progbat_sandbox(tmp_path_factory):
    with start_sandbox("progbat", env={
        "PROGBAT_SANDBOX_DB": str(tmp_path_factory.mktemp("progbat") / "sandbox.sqlite3"),
        "PROGBAT_SANDBOX_CONTROL": "1",
        "PROGBAT_REDIRECT_URIS": CALLBACK,
        "PROGBAT_WEBHOOK_URL": "http://127.0.0.1:9/unused/",
    }) as sandbox:
        yield sandbox


@pytest.fixture
def progbat(progbat_sandbox, settings):
    """The sandbox, reset to its seed, and MEG pointed at it."""
    progbat_sandbox.control("reset")
    settings.PROGBAT_BASE_URL = progbat_sandbox.url
    settings.PROGBAT_REDIRECT_URI = CALLBACK
    yield progbat_sandbox
    progbat_sandbox.control("faults", {"api": None})


@pytest.fixture
def prescripteur(firm):
    return PartnerConvention.objects.create(firm=firm, partner="progbat", kind="prescripteur",
                                            signed_at="2026-01-05", trial_plan="start_plus")


@pytest.fixture
def distributeur(firm):
    return PartnerConvention.objects.create(firm=firm, partner="progbat", kind="distributeur",
                                            signed_at="2026-01-05")


def connect_progbat(client, *, username="cabinet-demo", password=SANDBOX_PASSWORD):
    """Click "Connexion", log in at ProGBat, come back to MEG; return MEG's last response."""
    response = client.post("/partners/progbat/oauth/connect/")
    assert response.status_code == 302, response
    back = urlsplit(progbat_login(response["Location"], username=username, password=password))
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture(scope="session")
def libeo_sandbox(tmp_path_factory):
    with start_sandbox("libeo", env={
        "LIBEO_SANDBOX_DB": str(tmp_path_factory.mktemp("libeo") / "sandbox.sqlite3"),
        "LIBEO_SANDBOX_CONTROL": "1",
    }) as sandbox:
        yield sandbox


@pytest.fixture
def libeo(libeo_sandbox, settings):
    """The Libeo sandbox, reset to its seed, and MEG pointed at it (short timeouts)."""
    libeo_sandbox.control("reset")
    settings.LIBEO_BASE_URL = libeo_sandbox.url
    settings.LIBEO_TIMEOUT_SECONDS = 3
    yield libeo_sandbox
    libeo_sandbox.control("faults", {"rate": 0})
