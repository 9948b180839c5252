"""Month-end at a firm, in a real browser, on the demo data: À traiter, then the batch export.

Léa Rousseau, collaborateur of Cabinet Démo on the Lyon site, opens « À traiter » from the top
navigation and finds her own ProGBat connection expired. Its row takes her to Connexions
partenaires, where she reconnects through the live ProGBat sandbox (OAuth, its login page); back
on the board, the row is gone. She then runs the month-end export of the Lyon site for last
month (*Exports mensuels*): a real Celery worker does it while the page follows its progress
(htmx), and she downloads the ZIP: one file per exported company, and the list of the companies
skipped with the reason. The same journey runs in English after switching the language from the
user menu.

The live server runs in this process; its tasks go through a private Redis to a Celery worker
process on the test database (Celery's eager mode is switched off for the test), which writes
the ZIP into the media folder the live server serves it from.
"""

import csv
import io
import re
import zipfile

import kombu.pools
import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from companies.models import Company
from demo import seed as demo_data
from meg.celery import app as celery_app
from tests.e2e.test_core_journey import log_in
from tests.integration.workers import RedisServer, start_celery_worker
from tests.sandboxes import SANDBOX_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LEA = demo_data.LEA  # lea@demo.meg.test, Léa Rousseau, site Lyon
LYON = demo_data.COLLABORATEURS["Lyon"][3]  # her portfolio: numbered companies 4 to 7
EXPORTED = [4, 5]  # last month's supplier invoices, booked in HA
SKIPPED = [6, 7]  # no journal: nothing to export

LABELS = {
    "fr": {
        "board": "À traiter",
        "expired": "Connexion ProGBat expirée",
        "you": "Vous",
        "status_expired": "Connexion expirée",
        "reconnect": "Reconnecter",
        "status_connected": "Connecté",
        "settings": "Paramètres",
        "batch_exports": "Exports mensuels",
        "site_scope": "Les entreprises d'un site",
        "start": "Lancer l'export",
        "requested": "Export mensuel demandé",
        "download": "Télécharger l'archive ZIP",
        "exported": "Exporté",
        "skipped": "Ignoré",
        "no_journal": "Aucun journal pour cette entreprise.",
        "summary_header": ["SIREN", "Entreprise", "État", "Raison"],
        "summary_state": "Ignorée",
    },
    "en": {
        "board": "To do",
        "expired": "ProGBat connection expired",
        "you": "You",
        "status_expired": "Connection expired",
        "reconnect": "Reconnect",
        "status_connected": "Connected",
        "settings": "Settings",
        "batch_exports": "Month-end exports",
        "site_scope": "The companies of a site",
        "start": "Start the export",
        "requested": "Month-end export requested",
        "download": "Download the ZIP archive",
        "exported": "Exported",
        "skipped": "Ignored",
        "no_journal": "No journal for this company.",
        # The worker writes the archive in the language of the one who asked for it.
        "summary_header": ["SIREN", "Company", "State", "Reason"],
        "summary_state": "Ignored",
    },
}
SWITCH_TO = {"en": "English"}  # the user menu's button, in the language it switches to


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A private Redis: the queue between the live server and the worker."""
    redis = RedisServer(tmp_path_factory.mktemp("month-end-redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def celery_worker(demo, broker, progbat, settings, tmp_path):
    """A Celery worker process on the test database, fed by the live server through the
    broker (eager mode off for this test), sharing its media folder."""
    broker.client().flushall()
    media = tmp_path / "shared-media"
    settings.MEDIA_ROOT = media
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": broker.url(0),
        "MEG_MEDIA_ROOT": str(media),
        "PROGBAT_BASE_URL": progbat.url,
        "DJANGO_SETTINGS_MODULE": "meg.settings",
        "PYTHONUNBUFFERED": "1",
    }
    from devtools.procs import child_env

    worker = start_celery_worker(env=child_env(**env), log_path=tmp_path / "worker.log")
    conf = celery_app.conf
    before = (conf.task_always_eager, conf.broker_url)
    conf.task_always_eager, conf.broker_url = False, broker.url(0)
    _forget_broker_connections()
    yield worker
    conf.task_always_eager, conf.broker_url = before
    _forget_broker_connections()
    worker.stop()


def _forget_broker_connections():
    """The connection and producer pools Celery keeps (kombu's registry of them included) are
    bound to the broker they were made for: closed and forgotten."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def company_of(index):
    with scopes_disabled():
        return Company.objects.get(siret=demo_data.siret_for(index))


def switch_language(page, lang):
    """From the user menu of the top bar, as anyone would."""
    page.locator("header details.dropdown summary", has_text="Léa Rousseau").click()
    page.get_by_test_id("language-switch").get_by_role("button", name=SWITCH_TO[lang]).click()


def open_board(page, words):
    page.get_by_test_id("nav-attention").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["board"])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_month_end_from_the_board_to_the_zip(lang, celery_worker, progbat, page, screenshot):
    words = LABELS[lang]
    log_in(page, LEA)
    expect(page).to_have_url(re.compile(r"/cabinet/$"))
    if lang != "fr":
        switch_language(page, lang)
        expect(page.locator("html")).to_have_attribute("lang", lang)

    # 1. « À traiter » in the top navigation, with the number of rows of the firm's board.
    nav = page.get_by_test_id("nav-attention")
    expect(nav).to_contain_text(words["board"])
    expect(nav.get_by_test_id("attention-badge")).to_have_text(re.compile(r"^\d+$"))
    badge = int(nav.get_by_test_id("attention-badge").inner_text())
    open_board(page, words)
    rows = page.get_by_test_id("attention-row")
    expect(rows).to_have_count(badge)
    expired = page.locator('[data-testid="attention-row"][data-kind="connection_expired"]')
    expect(expired).to_have_count(1)
    expect(expired).to_contain_text(words["expired"])
    expect(expired).to_contain_text(words["you"])
    lyon_to_export = page.locator('[data-testid="attention-row"][data-kind="entries_to_export"]',
                                  has_text=demo_data.extra_company_name(EXPORTED[0]))
    expect(lyon_to_export).to_have_count(1)
    screenshot(page, f"month-end-{lang}-1-board")

    # 2. Its row leads to where it is fixed: Connexions partenaires, her own connection.
    expired.get_by_test_id("attention-fix").click()
    expect(page).to_have_url(re.compile(r"/cabinet/parametres/connexions-partenaires/$"))
    card = page.get_by_test_id("progbat-card")
    expect(card.get_by_test_id("progbat-status")).to_have_text(words["status_expired"])
    card.get_by_role("button", name=words["reconnect"]).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(progbat.url)}/login"))
    page.locator("input[name=username]").fill("cabinet-demo")
    page.locator("input[name=password]").fill(SANDBOX_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cabinet/parametres/connexions-partenaires/$"))
    expect(page.get_by_test_id("progbat-status")).to_have_text(words["status_connected"])
    screenshot(page, f"month-end-{lang}-2-reconnected")

    # 3. Back on the board: the row is gone, the badge one less; the rest is still there.
    open_board(page, words)
    expect(expired).to_have_count(0)
    expect(rows).to_have_count(badge - 1)
    expect(page.get_by_test_id("nav-attention").get_by_test_id("attention-badge")).to_have_text(
        str(badge - 1))

    # 4. Month-end export of the Lyon site, last month (the form's default period).
    page.locator("header details.dropdown summary", has_text=words["settings"]).click()
    page.get_by_role("link", name=words["batch_exports"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["batch_exports"])
    form = page.get_by_test_id("batch-export-form")
    form.get_by_role("radio", name=words["site_scope"], exact=True).check()
    form.locator("select[name=site]").select_option(label="Lyon")
    first, last = demo_data.last_month(timezone.localdate())
    expect(form.locator("input[name=date_from]")).to_have_value(first.isoformat())
    expect(form.locator("input[name=date_to]")).to_have_value(last.isoformat())
    form.get_by_role("button", name=words["start"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["requested"])

    # 5. The worker runs it; htmx follows its progress until the archive is there.
    batch = page.get_by_test_id("batch-export").first
    download_link = batch.get_by_test_id("batch-export-download")
    expect(download_link).to_have_text(words["download"], timeout=90_000)
    screenshot(page, f"month-end-{lang}-3-batch-done")
    # The worker process did it (not this process: eager mode is off).
    celery_worker.wait_log(r"accounting\.tasks\.batch_export_run\[[^\]]+\] succeeded",
                           timeout=10)
    companies = batch.get_by_test_id("batch-export-company")
    expect(companies).to_have_count(len(LYON))
    for index in EXPORTED:
        expect(companies.filter(has_text=demo_data.extra_company_name(index))).to_contain_text(
            words["exported"])
    for index in SKIPPED:
        row = companies.filter(has_text=demo_data.extra_company_name(index))
        expect(row).to_contain_text(words["skipped"])
        expect(row).to_contain_text(words["no_journal"])

    # 6. The ZIP: one file per exported company (under its SIREN), and the skipped ones.
    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    first_day, last_day = f"{first:%Y%m%d}", f"{last:%Y%m%d}"
    assert download.suggested_filename == f"exports_{first_day}-{last_day}.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115
    files = [name for name in archive.namelist() if name != "entreprises_ignorees.csv"]
    assert sorted(name.split("/")[0] for name in files) == sorted(
        company_of(index).siren for index in EXPORTED), archive.namelist()
    for name in files:
        siren = name.split("/")[0]
        assert name == f"{siren}/{siren}_HA_{first_day}-{last_day}.txt", name
        assert archive.read(name).lstrip(b"\xef\xbb\xbf").startswith(b"JournalCode"), name
    summary = list(csv.reader(io.StringIO(
        archive.read("entreprises_ignorees.csv").decode("utf-8-sig")), delimiter=";"))
    assert summary[0] == words["summary_header"]
    assert sorted(summary[1:]) == sorted(
        [company_of(index).siren, demo_data.extra_company_name(index), words["summary_state"],
         words["no_journal"]] for index in SKIPPED)

    # 7. What was exported left the board.
    open_board(page, words)
    expect(lyon_to_export).to_have_count(0)
