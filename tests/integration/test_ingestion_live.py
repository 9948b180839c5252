"""ProGBat → MEG ingestion and the outbox on the production shape, with real parts only.

MEG runs as gunicorn and one Celery worker (separate processes) on the test database, with a
private Redis as broker and cache; the ProGBat sandbox runs as its own process and delivers
its signed webhooks to gunicorn over HTTP. The tests act as ProGBat users (the sandbox's API and
pages) and as MEG users (MEG's pages), then read MEG's database.

Redis is a private ``redis-server`` on a free port rather than the machine's shared one, so that
stopping it (the outage test) cannot break anybody else's run.
"""

import datetime
import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests
from celery import Celery
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounting.models import ChartAccount, Entry, ExportBatch, InboxEvent
from accounting.services import inbox
from partners.common.models import OutboxMessage, PartnerConnection
from partners.progbat.models import ProgbatLink
from tests import factories
from tests.accounting.conftest import invoice_event
from tests.conftest import client_for
from tests.integration.conftest import CALLBACK, connect_progbat
from tests.integration.workers import (
    Child,
    ProgbatApi,
    RedisServer,
    meg_env,
    sandbox_token,
    start_celery_worker,
    start_gunicorn,
    wait_until,
    webhook_headers,
)
from tests.sandboxes import SANDBOX_PASSWORD, free_port, start_sandbox

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACCOUNT = "acc_demo_dupont"  # seeded in the sandbox: SIREN 900000019, dirigeant "dupont"
SIRET = "90000001900019"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Stack:
    database: str
    logs: Path
    broker: RedisServer
    sandbox: object
    web: Child
    web_url: str
    env: dict
    workers: list = field(default_factory=list)
    started_workers: int = 0

    def start_worker(self):
        self.started_workers += 1
        worker = start_celery_worker(env=self.env,
                                     log_path=self.logs / f"worker-{self.started_workers}.log")
        self.workers.append(worker)
        return worker

    def report(self):
        """What the processes said last: quoted by assertion messages."""
        return "\n".join(child.tail(25) for child in [self.web, *self.workers])

    def post_webhook(self, payload):
        body = json.dumps(payload)
        return requests.post(f"{self.web_url}/partners/progbat/webhooks/", data=body.encode(),
                             headers=webhook_headers(body), timeout=30)


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    """Redis, the ProGBat sandbox and gunicorn, for the module; workers are per test."""
    logs = tmp_path_factory.mktemp("ingestion-live")
    database = connection.settings_dict["NAME"]  # the test database, once created
    with ExitStack() as cleanup:
        broker = RedisServer(logs)
        broker.start()
        cleanup.callback(lambda: broker.running and broker.stop())
        web_port = free_port()
        web_url = f"http://127.0.0.1:{web_port}"
        sandbox = start_sandbox("progbat", env={
            "PROGBAT_SANDBOX_DB": str(logs / "progbat.sqlite3"),
            "PROGBAT_SANDBOX_CONTROL": "1",
            "PROGBAT_REDIRECT_URIS": CALLBACK,
            "PROGBAT_WEBHOOK_URL": f"{web_url}/partners/progbat/webhooks/",
            "PROGBAT_WEBHOOK_BACKOFF_SECONDS": "1",
        })
        cleanup.callback(sandbox.stop)
        env = meg_env(database=database, broker=broker, progbat_url=sandbox.url,
                      media_root=logs / "media")
        web, _url = start_gunicorn(port=web_port, env=env, log_path=logs / "gunicorn.log")
        cleanup.callback(web.stop)
        yield Stack(database=database, logs=logs, broker=broker, sandbox=sandbox, web=web,
                    web_url=web_url, env=env)


@pytest.fixture
def live(stack, transactional_db):
    """The stack, with an empty broker and the sandbox back to its seed; the test's workers are
    stopped before the database is flushed."""
    if not stack.broker.running:
        stack.broker.start()
    stack.broker.client().flushall()
    stack.sandbox.control("reset")
    yield stack
    for worker in stack.workers:
        worker.stop()
    stack.workers.clear()
    if not stack.broker.running:
        stack.broker.start()


@pytest.fixture
def dupont(live, firm, accountant):
    """MEG's "Dupont Bâtiment", actively linked to the sandbox's ``acc_demo_dupont``."""
    company = factories.CompanyFactory(firm=firm, name="Dupont Bâtiment", siret=SIRET)
    factories.CompanyAccountantFactory(company=company, user=accountant)
    now = timezone.now()
    ProgbatLink.objects.create(firm=firm, company=company, status=ProgbatLink.Status.ACTIVE,
                               activated_at=now, activated_by=accountant, consented_at=now,
                               progbat_account_id=ACCOUNT,
                               linked_at=now - datetime.timedelta(minutes=1), plan="premium",
                               licence_status="licensed")
    return company


@pytest.fixture
def api(live):
    """The sandbox's API, with a token obtained through its OAuth flow (login cabinet-demo)."""
    return ProgbatApi(live.sandbox.url, sandbox_token(live.sandbox.url, redirect_uri=CALLBACK))


def today():
    return timezone.localdate()


def entries_of(company):
    return list(Entry.objects.filter(company=company).prefetch_related("lines")
                .order_by("date", "piece_ref", "id"))


def deliveries(sandbox, **match):
    return [d for d in sandbox.state()["deliveries"]
            if all(d[key] == value for key, value in match.items())]


def assert_journalised_once(company, invoice_ids):
    """Each invoice has exactly one balanced draft entry (numbered only when final)."""
    entries = entries_of(company)
    assert Counter(e.source_ref for e in entries) == dict.fromkeys(invoice_ids, 1)
    assert {e.number for e in entries} == {None}
    for entry in entries:
        lines = list(entry.lines.all())
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines) > 0
    events = InboxEvent.objects.filter(company=company)
    assert Counter(events.values_list("status", flat=True)) == {"processed": len(invoice_ids)}
    assert not events.filter(entry__isnull=True).exists()
    return entries


def test_invoices_validated_in_progbat_are_journalised_by_a_real_worker(live, dupont, api):
    worker = live.start_worker()
    invoices = [api.validated_invoice(ACCOUNT, number=f"FAC{n:03d}", date=today())
                for n in range(1, 21)]

    wait_until(lambda: Entry.objects.filter(company=dupont).count() >= 20, timeout=60,
               message=lambda: f"entries: {Entry.objects.filter(company=dupont).count()}\n"
                               f"{live.report()}")
    sent = wait_until(
        lambda: (lambda found: len(found) == 20 and found)(
            deliveries(live.sandbox, type="invoice.validated", status="delivered")),
        timeout=30, message=lambda: live.sandbox.state()["deliveries"])
    assert {d["last_status"] for d in sent} == {202}

    entries = assert_journalised_once(dupont, [invoice["id"] for invoice in invoices])
    assert [e.piece_ref for e in entries] == [f"FAC{n:03d}" for n in range(1, 21)]
    assert entries[0].lines.get(position=1).debit == 120  # 100 HT + 20 % VAT, on 411
    # The work was done by the worker process, from messages it took from Redis.
    assert re.search(r"Task accounting\.tasks\.inbox_process\[[-\w]+\] succeeded",
                     worker.log()), worker.tail()


@contextmanager
def chart_account_held(database, company, number="411000"):
    """Another transaction is adding one of the company's chart accounts (as a concurrent
    batch of another worker would): a worker journalising now claims its events, then waits
    inside its transaction, on that account's unique key, until this one ends. That is the
    "middle of a batch" the test kills."""
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=database) as holder:
        holder.execute(f"INSERT INTO {ChartAccount._meta.db_table} (firm_id, company_id, "
                       "number, label) VALUES (%s, %s, %s, 'Clients')",
                       (company.firm_id, company.pk, number))
        try:
            yield holder
        finally:
            holder.rollback()


def waiting_for(probe, holder):
    """Backends blocked by ``holder``'s locks."""
    return probe.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY("
                         "pg_blocking_pids(pid))", (holder.info.backend_pid,)).fetchone()[0]


def claimable(probe):
    """Inbox events not locked by any open transaction (autocommit: the probe keeps none)."""
    return probe.execute(
        f"SELECT count(*) FROM (SELECT id FROM {InboxEvent._meta.db_table} "
        "WHERE status = 'received' FOR UPDATE SKIP LOCKED) AS free").fetchone()[0]


def test_worker_killed_mid_batch_journalises_every_invoice_exactly_once(live, dupont):
    """Why exactly once holds after a SIGKILL in the middle of a batch:

    - the task is ``acks_late``: its message is acknowledged only after the task returns, so
      a killed worker leaves it in Redis's ``unacked`` set; a consumer puts it back in the
      queue once the visibility timeout (``CELERY_VISIBILITY_TIMEOUT``) has passed, which
      kombu checks when a worker starts and then every ~100 s
      (``CELERY_TASK_REJECT_ON_WORKER_LOST`` does the same for a dying prefork child);
    - the batch is one database transaction (claim, chart accounts, entries, statuses): the
      dead worker's connection aborts it, so nothing of it remains (drafts carry no number:
      definitive numbers are given at export, so no gap can come from here);
    - events are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``: no two workers journalise
      the same event, and an invoice has one entry (unique journal + source_ref) anyway;
    - whatever no message covers any more is re-queued by the periodic sweeper.
    """
    total = 300
    validated_at = timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payloads = [invoice_event(dupont, invoice_id=f"inv_kill_{n:03d}", number=f"K{n:03d}",
                              account_id=ACCOUNT, validated_at=validated_at,
                              date=today().isoformat())
                for n in range(1, total + 1)]
    ids = [p["data"]["invoice"]["id"] for p in payloads]
    broker = live.broker.client()

    # 300 signed webhooks while no worker runs: stored in the inbox; the burst queues one
    # journalising task (the wake-up gate, accounting.services.inbox), not one per webhook.
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(live.post_webhook, payloads))
    assert Counter(a.status_code for a in answers) == {202: total}, answers[0].text
    assert InboxEvent.objects.filter(company=dupont, status="received").count() == total
    time.sleep(0.5)  # the gunicorn workers' wake-up threads ask the gate after the answers
    queued = broker.llen("celery")
    assert 1 <= queued <= 1 + (time.monotonic() - started) // inbox.WAKE_SECONDS

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=live.database,
                         autocommit=True) as probe:
        with chart_account_held(live.database, dupont) as holder:
            worker = live.start_worker()
            wait_until(lambda: waiting_for(probe, holder), timeout=30,
                       message=lambda: f"the worker never reached the chart of accounts\n"
                                       f"{live.report()}")
            # The worker is inside its batch: it has claimed every event and waits.
            assert claimable(probe) == 0
            killed_task = re.search(r"inbox_process\[([-\w]+)\] received", worker.log())[1]
            worker.kill()
            killed_at = time.monotonic()
            assert not worker.alive()
            assert Entry.objects.filter(company=dupont).count() == 0
            # The killed task's message is kept, unacknowledged, for redelivery.
            assert (broker.hlen("unacked"), broker.llen("celery")) == (1, queued - 1)
        # The holder is gone; the dead worker's backend then finds its client gone and rolls
        # the batch back, which frees the events.
        wait_until(lambda: claimable(probe) == total, timeout=30,
                   message="the killed batch still holds the inbox events")
    assert InboxEvent.objects.filter(company=dupont, status="received").count() == total

    # Restart once the visibility timeout (5 s here) has passed: Redis hands the killed
    # message back to the new worker, which also drains the queued ones.
    time.sleep(max(0.0, 6 - (time.monotonic() - killed_at)))
    restarted = live.start_worker()
    wait_until(lambda: Entry.objects.filter(company=dupont).count() >= total, timeout=60,
               message=lambda: f"entries: {Entry.objects.filter(company=dupont).count()}\n"
                               f"{live.report()}")
    wait_until(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0,
               timeout=30, message=lambda: f"queue {broker.llen('celery')}, unacked "
                                           f"{broker.hlen('unacked')}\n{live.report()}")

    # The very message of the killed task was handed back and run to completion this time.
    assert re.search(rf"inbox_process\[{killed_task}\] succeeded", restarted.log()), \
        restarted.tail()
    assert_journalised_once(dupont, ids)
    # The killed attempt left no trace on the events either (its transaction never committed).
    assert set(InboxEvent.objects.filter(company=dupont).values_list("attempts", flat=True)) \
        == {1}


def send_task_like_beat(broker, name):
    """What Celery beat does on schedule: publish the task by name to the broker."""
    app = Celery("beat-probe", broker=broker.url(0), set_as_current=False)
    try:
        app.send_task(name)
    finally:
        app.close()


def test_webhooks_received_while_redis_is_down_are_journalised_once_it_is_back(
        live, dupont, api):
    worker = live.start_worker()
    first = api.validated_invoice(ACCOUNT, number="R000", date=today())
    wait_until(lambda: Entry.objects.filter(company=dupont).count() == 1, timeout=30,
               message=live.report)
    web_offset, worker_offset = len(live.web.log()), len(worker.log())

    live.broker.stop()
    invoices = [api.validated_invoice(ACCOUNT, number=f"R{n:03d}", date=today())
                for n in range(1, 6)]
    # ProGBat delivers them; MEG stores each in its inbox and answers 202 although it cannot
    # queue the journalising task (that failure is logged, not raised).
    outage_ids = {i["id"] for i in invoices}
    sent = wait_until(
        lambda: (lambda found: len(found) == 5 and found)(
            [d for d in deliveries(live.sandbox, status="delivered")
             if d["invoice_id"] in outage_ids]),
        timeout=60, message=lambda: f"{live.sandbox.state()['deliveries']}\n{live.report()}")
    assert [(d["last_status"], d["attempts"]) for d in sent] == [(202, 1)] * 5
    live.web.wait_log("inbox_process not queued", after=web_offset, timeout=5)
    waiting = InboxEvent.objects.filter(company=dupont, status="received")
    assert set(waiting.values_list("source_ref", flat=True)) == outage_ids
    assert live.web.alive() and worker.alive()

    live.broker.start()
    # The worker reconnects by itself, but the tasks were never queued: nothing happens...
    worker.wait_log(r"Connected to redis://", after=worker_offset, timeout=60)
    time.sleep(1)
    assert waiting.count() == 5 and Entry.objects.filter(company=dupont).count() == 1
    # ...until the sweeper, which beat sends every 30 s, queues the events left waiting for
    # more than 10 s.
    assert django_settings.CELERY_BEAT_SCHEDULE["inbox-sweep"]["task"] == \
        "accounting.tasks.inbox_sweep"
    newest = max(waiting.values_list("received_at", flat=True))
    time.sleep(max(0.0, 10.5 - (timezone.now() - newest).total_seconds()))
    send_task_like_beat(live.broker, "accounting.tasks.inbox_sweep")
    wait_until(lambda: Entry.objects.filter(company=dupont).count() >= 6, timeout=60,
               message=lambda: f"entries: {Entry.objects.filter(company=dupont).count()}\n"
                               f"{live.report()}")
    time.sleep(1)  # a second journalising of anything would show now
    assert_journalised_once(dupont, [first["id"], *(i["id"] for i in invoices)])
    assert worker.alive()


def meg_session(live, user):
    """A requests session logged into the live MEG as ``user`` (a session made in the test DB)."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session


def progbat_page_session(sandbox_url, username):
    """A ProGBat user logged into the sandbox's pages."""
    session = requests.Session()
    page = session.get(f"{sandbox_url}/login", timeout=30)
    answer = session.post(f"{sandbox_url}/login", data={
        "username": username, "password": SANDBOX_PASSWORD,
        "csrfmiddlewaretoken": CSRF.search(page.text).group(1)},
        headers={"Referer": page.url}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:500]
    return session


def edit_in_progbat_pages(session, sandbox_url, invoice, *, amount):
    url = f"{sandbox_url}/accounts/{invoice['account_id']}/invoices/{invoice['id']}/edit/"
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    return session.post(url, data={
        "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
        "invoice-number": invoice["number"], "invoice-date": invoice["date"],
        "invoice-customer_name": invoice["customer"]["name"],
        "invoice-customer_account": invoice["customer"]["account"],
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000", "lines-0-label": "Travaux",
        "lines-0-amount_excl_tax": amount, "lines-0-vat_rate": "20.00"},
        headers={"Referer": url}, allow_redirects=False, timeout=30)


def test_export_locks_the_invoices_at_progbat_through_the_outbox(live, dupont, accountant, api,
                                                                 settings):
    # The accountant connects MEG to ProGBat (real OAuth against the sandbox): the worker
    # will lock the invoices with this connection.
    settings.PROGBAT_BASE_URL = live.sandbox.url
    settings.PROGBAT_REDIRECT_URI = CALLBACK
    connect_progbat(client_for(accountant))
    assert PartnerConnection.objects.get(user=accountant).status == "connected"
    live.start_worker()
    invoices = [api.validated_invoice(ACCOUNT, number=f"EXP{n}", date=today())
                for n in (1, 2)]
    wait_until(lambda: Entry.objects.filter(company=dupont).count() == 2, timeout=30,
               message=live.report)

    # ProGBat's API is down when the accountant exports: the locks wait in the outbox.
    live.sandbox.control("faults", {"api": "500"})
    web = meg_session(live, accountant)
    space = f"{live.web_url}/entreprise/{dupont.pk}/export-ecritures/"
    page = web.get(space, timeout=30)
    assert page.status_code == 200, page.text[:500]
    year = today().year
    answer = web.post(space, data={
        "csrfmiddlewaretoken": CSRF.search(page.text).group(1), "format": "fec",
        "journals": "VT", "date_from": f"{year}-01-01", "date_to": f"{year}-12-31"},
        headers={"Referer": space}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:2000]
    batch_id = int(parse_qs(urlsplit(answer.headers["Location"]).query)["export"][0])
    wait_until(lambda: ExportBatch.objects.get(pk=batch_id).status == "done", timeout=30,
               message=live.report)
    locks = OutboxMessage.objects.filter(company=dupont, action="progbat.lock_invoice")
    wait_until(lambda: locks.count() == 2 and not locks.exclude(status="retrying").exists(),
               timeout=30, message=lambda: f"{list(locks.values())}\n{live.report()}")
    assert all("indisponible" in m.last_error for m in locks)

    # Meanwhile the ProGBat user edits FAC EXP1 in ProGBat's pages: no lock there yet, so
    # ProGBat accepts and sends invoice.updated; MEG refuses it (409), its entry is exported.
    progbat_user = progbat_page_session(live.sandbox.url, "dupont")
    edited = edit_in_progbat_pages(progbat_user, live.sandbox.url, invoices[0], amount="150.00")
    assert edited.status_code == 302, edited.text[:500]
    refused = wait_until(
        lambda: deliveries(live.sandbox, type="invoice.updated", status="rejected"),
        timeout=30, message=lambda: live.sandbox.state()["deliveries"])
    assert [(d["invoice_id"], d["version"], d["last_status"]) for d in refused] == [
        (invoices[0]["id"], 2, 409)]
    assert InboxEvent.objects.get(source_ref=invoices[0]["id"], source_version=2
                                  ).status == "rejected"

    # ProGBat is back: the outbox's retry (backoff) delivers the locks.
    live.sandbox.control("faults", {"api": None})
    wait_until(lambda: not locks.exclude(status="sent").exists(), timeout=60,
               message=lambda: f"{list(locks.values())}\n{live.report()}")
    for invoice in invoices:
        at_progbat = api.call("GET", f"/invoices/{invoice['id']}").json()
        assert (at_progbat["locked"], at_progbat["export_id"]) == (True, str(batch_id))

    # From now on ProGBat refuses any edit of the exported invoices.
    patch = api.call("PATCH", f"/invoices/{invoices[1]['id']}", json={"number": "EXP2-bis"})
    assert patch.status_code == 409 and patch.json()["error"] == "invoice_locked", patch.text
    edited = edit_in_progbat_pages(progbat_user, live.sandbox.url, invoices[0], amount="175.00")
    assert edited.status_code == 409
    assert len(deliveries(live.sandbox, type="invoice.updated")) == 1
    # MEG's journal kept the exported version.
    entry = Entry.objects.get(company=dupont, source_ref=invoices[0]["id"])
    assert (entry.state, entry.source_version) == ("exported", 1)
    assert entry.lines.get(position=1).debit == 120
    assert locks.count() == 2
