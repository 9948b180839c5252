"""``ingest``: signed ProGBat invoice webhooks over loopback into real gunicorn + Celery.

DESIGN §10: 20,000 signed invoice webhooks over loopback from 16 concurrent senders, gunicorn +
1 Celery worker, PostgreSQL + Redis — acceptance rate ≥ 50 % of a floor endpoint on the same
server (signature check + 202 only); p99 acceptance < 50 ms; draining an inbox of 20,000 events
into the journal ≥ 1,000 invoices/s; 0 lost, 0 duplicated.

Phases, each against real processes started here (and always stopped, in ``finally``):

1. floor — ``benchmarks.floor_wsgi`` (signature check + 202, no Django, no database) served by
   gunicorn with MEG's worker settings; N webhooks from 16 senders.
2. acceptance — ``meg.wsgi`` on the same gunicorn settings, Celery worker stopped: N webhooks
   for company A are verified, validated, stored in the inbox and their task queued in Redis.
3. drain — one Celery worker (prefork, concurrency 1) is started on that backlog; timed from
   its "ready" line until the last of company A's inbox rows is journalised.
4. end to end — worker running while N webhooks for company B are sent: time until all of them
   are journalised.

After 3 and 4 the journal is checked against what was sent: one entry per invoice (0 lost,
0 duplicated), every entry a draft without a number yet (DESIGN §7.1: the definitive number
comes at export or closing), 3 balanced lines per entry. The senders are threads
in this process speaking HTTP/1.1 with keep-alive over raw sockets (pre-built, pre-signed
requests), so that the client costs as little CPU as possible on this shared machine.
"""

import datetime
import itertools
import json
import os
import resource
import shlex
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from benchmarks import BROKER_URL, cpu, format_table, percentile, profile
from devtools import procs

WEBHOOKS = 20_000
QUICK_WEBHOOKS = 2_000
# Phase 4 (end to end, not a target of DESIGN §10) runs at ~100 webhooks/s: 20,000 would take
# more than 3 minutes of the 10 that `make bench` may last. BENCH_INGEST_E2E=20000 for all.
E2E_WEBHOOKS = 5_000
SENDERS = 16
WARMUP = 400
PATH = "/partners/progbat/webhooks/"
# 2 cores shared by gunicorn, PostgreSQL, Redis, the senders and (phase 4) the worker: two
# processes (one per core, the GIL allows no more per process) of 4 threads each, so that a
# thread waiting on PostgreSQL does not leave its core idle. Override: BENCH_GUNICORN_ARGS.
# --worker-connections 8: each process takes at most 8 of the 16 keep-alive connections; without
# it, the first process to wake often takes 13–16 of them and the other idles (measured).
GUNICORN_ARGS = "--workers 2 --threads 4 --worker-connections 8 --keep-alive 5 --backlog 2048"
CELERY_ARGS = ("worker --concurrency 1 --pool prefork -Q celery --loglevel INFO "
               "--without-mingle --without-gossip -n bench-ingest@%h")
FLOOR_RATIO_TARGET = 0.50
P99_TARGET_MS = 50.0
DRAIN_TARGET = 1_000.0
PROGRESS_SECONDS = 10.0
TIMEOUT_SECONDS = 600.0
CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------
# Data


@dataclass
class Tenant:
    key: str
    company: object
    account_id: str


def build():
    """One firm, its admin, three companies with an active ProGBat link each: W (warm-up),
    A (acceptance, then drain) and B (end to end)."""
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from benchmarks.dashboard import luhn_complete, siret_for
    from companies.models import Company
    from firms.models import Firm, FirmMembership
    from partners.progbat.models import ProgbatLink
    from users.models import User

    linked_at = timezone.now() - datetime.timedelta(days=2)
    tenants = {}
    with scopes_disabled(), transaction.atomic():
        firm = Firm.objects.create(name="Cabinet Bench Ingest",
                                   siren=luhn_complete(f"{96_000_000:08d}"))
        admin = User.objects.create(email="admin@ingest.bench.meg.test", first_name="Admin",
                                    last_name="Ingest")
        FirmMembership.objects.create(firm=firm, user=admin, role=FirmMembership.Role.ADMIN)
        for index, key in enumerate("WAB"):
            company = Company.objects.create(
                firm=firm, name=f"Entreprise ingest {key}", siret=siret_for(6, index),
                state=Company.State.ACTIVATED, activated_at=linked_at, city="Lyon",
                postal_code="69001")
            account_id = f"acc_bench_{key.lower()}"
            ProgbatLink.objects.create(
                firm=firm, company=company, status=ProgbatLink.Status.ACTIVE,
                activated_at=linked_at, activated_by=admin, consented_at=linked_at,
                progbat_account_id=account_id, linked_at=linked_at, plan="premium",
                licence_status=ProgbatLink.LicenceStatus.LICENSED)
            tenants[key] = Tenant(key=key, company=company, account_id=account_id)
    return tenants


def invoice_body(tenant, index, *, validated_at, day):
    """The guide's invoice event (see tests/accounting/conftest.py), one per ``index``."""
    ht = Decimal(100 + index % 900) + Decimal(index % 100) / 100
    tva = (ht * Decimal("0.20")).quantize(CENT)
    number = f"F{tenant.key}{index:06d}"
    customer = index % 500
    return json.dumps({"type": "invoice.validated", "data": {
        "account_id": tenant.account_id, "siren": tenant.company.siret[:9],
        "invoice": {"id": invoice_id(tenant, index), "number": number, "version": 1,
                    "validated_at": validated_at, "date": day,
                    "customer": {"name": f"CLIENT {customer}", "account": f"C{customer:04d}"},
                    "entry": {"label": f"{number} CLIENT {customer}", "lines": [
                        {"account": "411000", "aux_account": f"C{customer:04d}",
                         "aux_label": f"CLIENT {customer}", "debit": f"{ht + tva}",
                         "credit": "0.00"},
                        {"account": "706000", "account_label": "Prestations de services",
                         "debit": "0.00", "credit": f"{ht}"},
                        {"account": "445710", "debit": "0.00", "credit": f"{tva}"}]}}}},
        separators=(",", ":"))


def invoice_id(tenant, index):
    return f"inv_{tenant.key}_{index:06d}"


def signed_requests(tenant, count, port, *, run):
    """``count`` complete HTTP requests (headers + body), each with its own webhook-id, signed
    now with MEG's PROGBAT_WEBHOOK_SECRET."""
    from django.conf import settings
    from django.utils import timezone
    from standardwebhooks.webhooks import Webhook

    signer = Webhook(settings.PROGBAT_WEBHOOK_SECRET)
    now = datetime.datetime.now(datetime.UTC)
    # Signed 4 minutes ahead: within the receiver's ±5-minute tolerance from now until 9
    # minutes from now, so that a slow phase on a busy machine does not turn into 401s.
    signed_at = now + datetime.timedelta(minutes=4)
    stamp = str(int(signed_at.timestamp()))
    validated_at = (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    day = timezone.localdate().isoformat()
    requests = []
    for index in range(count):
        body = invoice_body(tenant, index, validated_at=validated_at, day=day)
        msg_id = f"msg_{run}_{tenant.key}_{index:06d}_{uuid.uuid4().hex[:12]}"
        signature = signer.sign(msg_id, signed_at, body)
        requests.append((f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         f"webhook-id: {msg_id}\r\nwebhook-timestamp: {stamp}\r\n"
                         f"webhook-signature: {signature}\r\n\r\n{body}").encode())
    return requests


# --------------------------------------------------------------------------------------------
# Senders


class Connection:
    """A minimal HTTP/1.1 keep-alive client: sends pre-built requests, reads status + body."""

    def __init__(self, port):
        self.port, self.sock, self.buffer = port, None, b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buffer += chunk

    def send(self, request):
        """Returns (HTTP status, reused connection?)."""
        reused = self.sock is not None
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        for line in header_lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        while len(self.buffer) < length:
            self._recv()
        self.buffer = self.buffer[length:]
        if close:
            self.close()
        return status, reused


@dataclass
class Sending:
    label: str
    count: int
    seconds: float = 0.0
    statuses: list = field(default_factory=list)
    latencies_ms: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    retries: int = 0
    client_cpu: float = 0.0  # seconds of CPU used by this process (the senders) meanwhile
    machine_busy: float = 0.0  # share of both cores busy meanwhile (all processes)
    role_cpu: dict = field(default_factory=dict)  # role → CPU seconds meanwhile (see role_cpu)
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def answers(self):
        return Counter(self.statuses)

    @property
    def accepted(self):
        return self.answers.get(202, 0)

    @property
    def rate(self):
        return self.accepted / self.seconds if self.seconds else 0.0

    def latency(self, fraction):
        return percentile(self.latencies_ms, fraction)


def cpu_times():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def send_all(label, port, requests, *, senders=SENDERS, quiet=False, groups=None):
    """Send every request once from ``senders`` threads (each its own keep-alive connection,
    taking the next request from a shared counter). A request whose reused connection turns
    out closed by the server is sent again once on a new connection (as a webhook sender does;
    the receiver deduplicates by webhook-id)."""
    result = Sending(label=label, count=len(requests))
    statuses = [0] * len(requests)
    latencies = [0.0] * len(requests)
    errors = [Counter() for _ in range(senders)]
    retries = [0] * senders
    done = [0] * senders
    counter = itertools.count()
    start = threading.Barrier(senders + 1)

    def sender(slot):
        connection = Connection(port)
        start.wait()
        for index in counter:
            if index >= len(requests):
                break
            began = time.perf_counter()
            for attempt in (1, 2):
                try:
                    statuses[index], _reused = connection.send(requests[index])
                    break
                except (OSError, ValueError, IndexError) as error:
                    reused = connection.sock is not None
                    connection.close()
                    if attempt == 1 and reused and isinstance(error, ConnectionError):
                        retries[slot] += 1
                        continue
                    errors[slot][type(error).__name__] += 1
                    break
            latencies[index] = (time.perf_counter() - began) * 1000
            done[slot] += 1
        connection.close()

    threads = [threading.Thread(target=sender, args=(slot,), daemon=True)
               for slot in range(senders)]
    for thread in threads:
        thread.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    busy_before, total_before = cpu_times()
    roles_before = cpu.role_cpu(groups or {})
    start.wait()
    result.started_at = time.perf_counter()
    next_progress = result.started_at + PROGRESS_SECONDS
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
            if not quiet and time.perf_counter() >= next_progress:
                next_progress += PROGRESS_SECONDS
                print(f"  … {label}: {sum(done):,}/{len(requests):,} sent "
                      f"({time.perf_counter() - result.started_at:.0f} s)", flush=True)
            if time.perf_counter() - result.started_at > TIMEOUT_SECONDS:
                raise RuntimeError(f"{label}: not finished after {TIMEOUT_SECONDS:.0f} s")
    result.ended_at = time.perf_counter()
    result.seconds = result.ended_at - result.started_at
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    busy_after, total_after = cpu_times()
    result.role_cpu = cpu.cpu_delta(roles_before, cpu.role_cpu(groups or {}), groups or {})
    result.client_cpu = ((cpu_after.ru_utime + cpu_after.ru_stime)
                         - (cpu_before.ru_utime + cpu_before.ru_stime))
    result.machine_busy = (busy_after - busy_before) / max(total_after - total_before, 1)
    result.statuses, result.latencies_ms = statuses, latencies
    for counts in errors:
        result.errors.update(counts)
    result.retries = sum(retries)
    return result


# --------------------------------------------------------------------------------------------
# Processes


def gunicorn_args():
    return shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", GUNICORN_ARGS))


def server_env():
    from django.conf import settings

    return procs.child_env(
        DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="127.0.0.1", CELERY_BROKER_URL=BROKER_URL,
        DATABASE_CONN_MAX_AGE="60", PROGBAT_WEBHOOK_SECRET=settings.PROGBAT_WEBHOOK_SECRET,
        # Redis is the broker and the cache, as in production (docker-compose.yml): the
        # journalising task's wake-up gate lives in the cache (accounting.services.inbox).
        LOG_LEVEL="WARNING", REDIS_URL=BROKER_URL)


def start_gunicorn(app, port, logs, **env):
    return procs.start_gunicorn(app, port=port, env={**server_env(), **env},
                                log_path=logs / f"gunicorn-{port}.log",
                                args=[*gunicorn_args(), "--log-level", "warning"])


def start_worker(logs):
    env = server_env()
    env["LOG_LEVEL"] = "INFO"
    return procs.start_celery_worker(shlex.split(CELERY_ARGS), env=env,
                                     log_path=logs / f"celery-{time.time_ns()}.log")


def redis_client():
    import redis

    return redis.Redis.from_url(BROKER_URL)


def purge_queue():
    """Drop queued and unacknowledged tasks, keep kombu's bindings (a publisher that already
    declared the queue would otherwise fail to route its next message)."""
    client = redis_client()
    keys = [key for key in client.keys("*") if not key.startswith(b"_kombu.binding.")]
    if keys:
        client.delete(*keys)


def queued_tasks():
    return redis_client().llen("celery")


# --------------------------------------------------------------------------------------------
# Checks


def inbox_counts(company):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM accounting_inboxevent WHERE company_id = %s "
                       "GROUP BY status", [company.pk])
        return dict(cursor.fetchall())


def wait_journalised(company, expected, *, since, label):
    """Poll until ``expected`` inbox rows of ``company`` are settled; returns the time then."""
    next_progress = time.perf_counter() + PROGRESS_SECONDS
    while True:
        counts = inbox_counts(company)
        settled = sum(n for status, n in counts.items() if status != "received")
        now = time.perf_counter()
        if settled >= expected and not counts.get("received"):
            return now
        if now >= next_progress:
            next_progress += PROGRESS_SECONDS
            print(f"  … {label}: {settled:,}/{expected:,} journalised "
                  f"({now - since:.0f} s)", flush=True)
        if now - since > TIMEOUT_SECONDS:
            raise RuntimeError(f"{label}: {settled:,}/{expected:,} journalised after "
                               f"{TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.05)


@dataclass
class Check:
    inbox: dict
    entries: int
    distinct_refs: int
    lost: int
    unexpected: int
    duplicated: int
    numbered: int  # entries with a number: none expected (drafts are numbered at export)
    drafts: int
    lines: int
    unbalanced: int

    @property
    def drafts_unnumbered(self):
        return self.numbered == 0 and self.drafts == self.entries


def check_journal(tenant, sent):
    """Compare the journal of ``tenant`` with the invoice ids sent (``sent``: how many)."""
    from django.db import connection

    expected = {invoice_id(tenant, index) for index in range(sent)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT e.source_ref, e.number, e.state FROM accounting_entry e "
                       "JOIN accounting_journal j ON j.id = e.journal_id "
                       "WHERE j.company_id = %s AND j.source = 'progbat'", [tenant.company.pk])
        rows = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM accounting_entryline l "
                       "JOIN accounting_entry e ON e.id = l.entry_id "
                       "WHERE e.company_id = %s", [tenant.company.pk])
        lines = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM (SELECT l.entry_id FROM accounting_entryline l "
                       "JOIN accounting_entry e ON e.id = l.entry_id WHERE e.company_id = %s "
                       "GROUP BY l.entry_id HAVING sum(l.debit) <> sum(l.credit) "
                       "OR sum(l.debit) <= 0) AS unbalanced", [tenant.company.pk])
        unbalanced = cursor.fetchone()[0]
    refs = [ref for ref, _number, _state in rows]
    found = set(refs)
    return Check(inbox=inbox_counts(tenant.company), entries=len(rows),
                 distinct_refs=len(found), lost=len(expected - found),
                 unexpected=len(found - expected), duplicated=len(refs) - len(found),
                 numbered=sum(number is not None for _ref, number, _state in rows),
                 drafts=sum(state == "draft" for _ref, _number, state in rows),
                 lines=lines, unbalanced=unbalanced)


# --------------------------------------------------------------------------------------------
# Run


def warm_up(port, tenant, *, meg):
    """Untimed requests so that every gunicorn worker has imported everything and opened its
    connections; MEG's warm-up rows and tasks are deleted afterwards."""
    requests = signed_requests(tenant, WARMUP, port, run="warm")
    send_all("warm-up", port, requests, quiet=True)
    if meg:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounting_inboxevent WHERE company_id = %s",
                           [tenant.company.pk])
        purge_queue()


def yes_no(met):
    return "yes" if met else "NO"


def fmt_answers(sending):
    other = {status: n for status, n in sorted(sending.answers.items()) if status != 202}
    text = ", ".join(f"{n:,}×{status or 'no answer'}" for status, n in other.items())
    if sending.errors:
        text += (", " if text else "") + ", ".join(f"{n}×{name}"
                                                   for name, n in sending.errors.items())
    return text or "0"


def measure_floor(app, tenants, count, logs, *, label, **env):
    port = procs.free_port()
    server = start_gunicorn(app, port, logs, **env)
    try:
        warm_up(port, tenants["W"], meg=False)
        return send_all(label, port, signed_requests(tenants["A"], count, port, run=label),
                        groups={"gunicorn": server.pid})
    finally:
        server.stop()


def run(*, quick=False, verbose=False):
    count = QUICK_WEBHOOKS if quick else WEBHOOKS
    e2e_count = min(count, int(os.environ.get("BENCH_INGEST_E2E", E2E_WEBHOOKS)))
    print(f"\n== ingest — {count:,} signed invoice webhooks over loopback, {SENDERS} concurrent "
          f"senders, gunicorn + 1 Celery worker, PostgreSQL + Redis")
    print(f"gunicorn {' '.join(gunicorn_args())} (gthread; DEBUG off, CONN_MAX_AGE 60), the same "
          f"for the floors and MEG")
    print(f"celery -A meg {CELERY_ARGS}; broker {BROKER_URL} (flushed)")
    print(f"senders: {SENDERS} threads in the bench process, raw HTTP/1.1 keep-alive sockets, "
          f"requests pre-built and pre-signed before timing; {WARMUP} untimed warm-up "
          f"requests per server")
    print("load average before: {:.2f} {:.2f} {:.2f} (the figures below are only as good as "
          "the machine is quiet: see 'other processes')".format(*os.getloadavg()))
    started = time.perf_counter()
    tenants = build()
    redis_client().flushdb()
    print(f"data built in {time.perf_counter() - started:.1f} s (1 firm, 3 companies with an "
          f"active ProGBat link: warm-up, A, B)")

    logs = Path(tempfile.mkdtemp(prefix="meg-bench-ingest-"))
    meg = worker = None
    profiles = []
    try:
        # 1. floors: bare WSGI, then Django (MEG's settings and middleware)
        print(f"phase 1/4: floor endpoints (signature + 202), {count:,} webhooks each …",
              flush=True)
        floor = measure_floor("benchmarks.floor_wsgi:application", tenants, count, logs,
                              label="floor")
        django_floor = measure_floor("meg.wsgi:application", tenants, count, logs,
                                     label="Django floor",
                                     DJANGO_SETTINGS_MODULE="benchmarks.floor_django")

        # 2. acceptance, worker stopped
        port = procs.free_port()
        meg = start_gunicorn("meg.wsgi:application", port, logs)
        warm_up(port, tenants["W"], meg=True)
        print(f"phase 2/4: MEG webhook endpoint, Celery worker stopped, {count:,} webhooks …",
              flush=True)
        requests_a = signed_requests(tenants["A"], count, port, run="accept")
        recording = profile.start("gunicorn-acceptance", meg.pid)
        accept = send_all("MEG", port, requests_a,
                          groups={"gunicorn": meg.pid, "Celery worker": None})
        profiles.append(recording.stop() if recording else "")
        backlog_rows = inbox_counts(tenants["A"].company).get("received", 0)
        backlog_tasks = queued_tasks()

        # 3. drain
        print(f"phase 3/4: drain — starting the Celery worker on {backlog_rows:,} waiting "
              f"events ({backlog_tasks:,} queued tasks) …", flush=True)
        worker = start_worker(logs)
        recording = profile.start("worker-drain", worker.pid)
        drain_before = cpu.role_cpu({"Celery worker": worker.pid})
        drained_at = wait_journalised(tenants["A"].company, accept.accepted,
                                      since=worker.ready_at, label="drain")
        profiles.append(recording.stop() if recording else "")
        drain_cpu = cpu.cpu_delta(drain_before, cpu.role_cpu({"Celery worker": worker.pid}),
                                  {"Celery worker": worker.pid})
        drain_seconds = drained_at - worker.ready_at
        startup_seconds = worker.ready_at - worker.spawned_at
        worker.stop()
        worker = None
        purge_queue()
        check_a = check_journal(tenants["A"], count)

        # 4. end to end
        worker = start_worker(logs)
        print(f"phase 4/4: end to end — worker running, {e2e_count:,} webhooks …", flush=True)
        groups = {"gunicorn": meg.pid, "Celery worker": worker.pid}
        e2e_before = cpu.role_cpu(groups)
        e2e = send_all("MEG + worker", port, signed_requests(tenants["B"], e2e_count, port,
                                                             run="e2e"), groups=groups)
        e2e_done_at = wait_journalised(tenants["B"].company, e2e.accepted,
                                       since=e2e.started_at, label="end to end")
        e2e_cpu = cpu.cpu_delta(e2e_before, cpu.role_cpu(groups), groups)
        worker.stop()
        worker = None
        purge_queue()
        check_b = check_journal(tenants["B"], e2e_count)
    finally:
        for process in (worker, meg):
            if process is not None:
                process.stop()
        if verbose:
            print(f"(process logs kept in {logs})")
        else:
            shutil.rmtree(logs, ignore_errors=True)

    e2e_seconds = e2e_done_at - e2e.started_at
    tail_seconds = e2e_done_at - e2e.ended_at
    sendings = (floor, django_floor, accept, e2e)
    print()
    print(format_table(
        ["acceptance", "floor: WSGI", "floor: Django", "MEG, worker stopped",
         "MEG, worker running"],
        [
            ["webhooks sent", *(f"{s.count:,}" for s in sendings)],
            ["202 answers", *(f"{s.accepted:,}" for s in sendings)],
            ["other answers / errors", *(fmt_answers(s) for s in sendings)],
            ["resent on a closed keep-alive", *(f"{s.retries:,}" for s in sendings)],
            ["wall time (s)", *(f"{s.seconds:.1f}" for s in sendings)],
            ["accepted / s", *(f"{s.rate:,.0f}" for s in sendings)],
            ["latency p50 (ms)", *(f"{s.latency(0.50):.1f}" for s in sendings)],
            ["latency p95 (ms)", *(f"{s.latency(0.95):.1f}" for s in sendings)],
            ["latency p99 (ms)", *(f"{s.latency(0.99):.1f}" for s in sendings)],
            ["latency max (ms)", *(f"{max(s.latencies_ms):.1f}" for s in sendings)],
            ["senders' CPU (% of 1 core)",
             *(f"{100 * s.client_cpu / s.seconds:.0f}" for s in sendings)],
            [f"machine busy (% of {cpu.CORES} cores)",
             *(f"{100 * s.machine_busy:.0f}" for s in sendings)],
            *([f"{role} CPU (ms / webhook)",
               *(f"{1000 * s.role_cpu[role] / s.count:.2f}" if s.role_cpu.get(role) is not None
                 else "–" for s in sendings)]
              for role in ("gunicorn", "Celery worker", "PostgreSQL")),
            [f"other processes (% of {cpu.CORES} cores)",
             *(f"{100 * s.role_cpu.get('other', 0.0) / (cpu.CORES * s.seconds):.0f}"
               for s in sendings)],
        ]))
    drain_rate = accept.accepted / drain_seconds
    print(f"\ndrain: Celery worker (prefork, concurrency 1) started on {backlog_rows:,} waiting "
          f"inbox rows and {backlog_tasks:,} queued tasks (one per webhook); ready "
          f"{startup_seconds:.1f} s after spawn; all journalised {drain_seconds:.2f} s after "
          f"ready = {drain_rate:,.0f} invoices/s; CPU per invoice: worker "
          f"{1000 * drain_cpu['Celery worker'] / accept.accepted:.2f} ms, PostgreSQL "
          f"{1000 * drain_cpu['PostgreSQL'] / accept.accepted:.2f} ms; other processes "
          f"{100 * drain_cpu['other'] / (cpu.CORES * drain_seconds):.0f} % of "
          f"{cpu.CORES} cores")
    print(f"end to end (worker running while sending): all {e2e.accepted:,} journalised "
          f"{e2e_seconds:.1f} s after the first send = {e2e.accepted / e2e_seconds:,.0f} "
          f"invoices/s; the last one {tail_seconds:.1f} s after the last acceptance; CPU per "
          f"webhook from first send to last journalised: gunicorn "
          f"{1000 * e2e_cpu['gunicorn'] / e2e.count:.2f} ms, worker "
          f"{1000 * e2e_cpu['Celery worker'] / e2e.count:.2f} ms, PostgreSQL "
          f"{1000 * e2e_cpu['PostgreSQL'] / e2e.count:.2f} ms"
          + (f" ({e2e.count:,} webhooks; BENCH_INGEST_E2E={count} for all)"
             if e2e.count < count else ""))
    print()
    checks = (check_a, check_b)
    print(format_table(
        ["journal check", "A (accepted, then drained)", "B (end to end)"],
        [
            ["inbox rows by status", *(", ".join(f"{status} {n:,}" for status, n in
                                                 sorted(c.inbox.items())) for c in checks)],
            ["entries", *(f"{c.entries:,}" for c in checks)],
            ["lost (sent, not journalised)", *(f"{c.lost:,}" for c in checks)],
            ["duplicated (same invoice twice)", *(f"{c.duplicated:,}" for c in checks)],
            ["unexpected invoice ids", *(f"{c.unexpected:,}" for c in checks)],
            ["drafts, no number yet (given at export)",
             *(f"{c.drafts:,} ({c.numbered:,} numbered)" for c in checks)],
            ["lines (3 per entry)", *(f"{c.lines:,}" for c in checks)],
            ["unbalanced entries", *(f"{c.unbalanced:,}" for c in checks)],
        ]))

    ratio = accept.rate / floor.rate if floor.rate else 0.0
    django_ratio = accept.rate / django_floor.rate if django_floor.rate else 0.0
    p99 = accept.latency(0.99)
    intact = all(c.lost == 0 and c.duplicated == 0 and c.unexpected == 0 and c.drafts_unnumbered
                 and c.unbalanced == 0 and c.lines == 3 * c.entries for c in checks)
    print()
    print(format_table(
        ["target (DESIGN §10)", "measured", "met"],
        [
            [f"acceptance ≥ {FLOOR_RATIO_TARGET:.0%} of the floor (WSGI)",
             f"{accept.rate:,.0f}/s vs {floor.rate:,.0f}/s = {ratio:.0%}",
             yes_no(ratio >= FLOOR_RATIO_TARGET)],
            ["  (informative: vs the Django floor)",
             f"{accept.rate:,.0f}/s vs {django_floor.rate:,.0f}/s = {django_ratio:.0%}",
             yes_no(django_ratio >= FLOOR_RATIO_TARGET)],
            [f"p99 acceptance < {P99_TARGET_MS:.0f} ms",
             f"{p99:.1f} ms (worker stopped); {e2e.latency(0.99):.1f} ms (worker running)",
             yes_no(p99 < P99_TARGET_MS)],
            [f"drain ≥ {DRAIN_TARGET:,.0f} invoices/s", f"{drain_rate:,.0f} invoices/s",
             yes_no(drain_rate >= DRAIN_TARGET)],
            ["0 lost, 0 duplicated (drafts, balanced)",
             f"lost {sum(c.lost for c in checks)}, duplicated "
             f"{sum(c.duplicated for c in checks)}", yes_no(intact)],
        ]))
    if count != WEBHOOKS:
        print(f"workload: {count:,} webhooks (--quick; DESIGN §10 asks for {WEBHOOKS:,})")
    for text in profiles:
        if text:
            print(f"\n{text}")
