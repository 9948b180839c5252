"""``ingest``: signed ProGBat invoice webhooks over loopback into real gunicorn + Celery.

DESIGN §10: 20,000 signed invoice webhooks over loopback from 16 concurrent senders, gunicorn +
1 Celery worker, PostgreSQL + Redis. Targets (raised 2026-11-30), each printed with its measure
and the floors of the same run: gunicorn CPU per accepted webhook ≤ 2 × the Django floor's;
acceptance rate ≥ 50 % of the Django floor's; p99 ≤ 2 × the Django floor's p99 (worker stopped),
≤ 3 × (worker running); drain ≥ 1,000 invoices/s with one worker, ≥ 1.7 × that with two workers
on two companies; 0 lost, 0 duplicated.

Phases, each against real processes started here (and always stopped, in ``finally``):

1. floor — ``benchmarks.floor_wsgi`` (signature check + 202, no Django, no database) served by
   gunicorn with MEG's worker settings; N webhooks from 16 senders.
2. acceptance — ``meg.wsgi`` on the same gunicorn settings, Celery worker stopped: N webhooks
   for company A are verified, validated, stored in the inbox and their task queued in Redis.
3. drain — one Celery worker (prefork, concurrency 1) is started on that backlog; timed from
   its "ready" line until the last of company A's inbox rows is journalised.
4. end to end — worker running while N webhooks for company B are sent: time until all of them
   are journalised.
5. drain, two workers — company A's N events, copied as waiting events of companies C and D
   (half each), drained by two Celery workers (two processes, both ready) from one task
   queued then (as the wake-up gate leaves it: the first worker asks the second for help).

After 3, 4 and 5 the journal is checked against what was sent: one entry per invoice (0 lost,
0 duplicated), every entry a draft without a number yet (DESIGN §7.1: the definitive number
comes at export or closing), 3 balanced lines per entry. The senders are threads
in this process speaking HTTP/1.1 with keep-alive over raw sockets (pre-built, pre-signed
requests), so that the client costs as little CPU as possible on this shared machine.
"""

import datetime
import itertools
import json
import os
import re
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

from benchmarks import BROKER_URL, cpu, format_table, percentile, profile, yes_no
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
FLOOR_RATIO_TARGET = 0.50  # acceptance rate vs the Django floor's
CPU_RATIO_TARGET = 2.0  # gunicorn CPU per webhook vs the Django floor's
P99_RATIO_TARGET = 2.0  # worker stopped; with the worker running: P99_RUNNING_RATIO_TARGET
P99_RUNNING_RATIO_TARGET = 3.0
DRAIN_TARGET = 1_000.0
TWO_WORKERS_TARGET = 1.7
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
    """One firm, its admin, five companies with an active ProGBat link each: W (warm-up),
    A (acceptance, then drain), B (end to end), C and D (drain with two workers)."""
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
        for index, key in enumerate("WABCD"):
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


def machine_busy(before):
    """Share of the machine's cores busy since ``before`` (a ``cpu_times()``)."""
    busy_before, total_before = before
    busy, total = cpu_times()
    return (busy - busy_before) / max(total - total_before, 1)


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


def start_worker(logs, name="bench-ingest"):
    env = server_env()
    env["LOG_LEVEL"] = "INFO"
    args = shlex.split(CELERY_ARGS.replace("bench-ingest@", f"{name}@"))
    return procs.start_celery_worker(args, env=env,
                                     log_path=logs / f"celery-{time.time_ns()}.log")


def start_workers(logs, count):
    """``count`` Celery workers (each its own process), spawned together; returned once all
    are ready, so that a task queued then finds every one of them idle."""
    env = server_env()
    env["LOG_LEVEL"] = "INFO"
    workers = []
    try:
        for number in range(1, count + 1):
            args = shlex.split(CELERY_ARGS.replace("bench-ingest@", f"bench-ingest-{number}@"))
            workers.append(procs.Child("celery-worker", [str(procs.BIN / "celery"), "-A", "meg",
                                                         *args], env=env,
                                       log_path=logs / f"celery-{number}-{time.time_ns()}.log"))
        for worker in workers:
            worker.wait_log(r" ready\.", interval=0.02)
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers


def publish_inbox_task():
    """Queue one journalising task, as the wake-up gate (or the sweeper) does."""
    from celery import Celery

    app = Celery("bench-ingest", broker=BROKER_URL, set_as_current=False)
    try:
        app.send_task("accounting.tasks.inbox_process")
    finally:
        app.close()


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


def wait_journalised(companies, expected, *, since, label):
    """Poll until ``expected`` inbox rows of ``companies`` (one or a list) are settled; returns
    the time then."""
    companies = companies if isinstance(companies, list) else [companies]
    next_progress = time.perf_counter() + PROGRESS_SECONDS
    while True:
        counts = Counter()
        for company in companies:
            counts.update(inbox_counts(company))
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


def check_journal(tenants, sent, source=None):
    """Compare the journal of ``tenants`` (one or a list) with the invoice ids sent (``sent``:
    how many, numbered from 0, under the tenant ``source`` or each tenant's own). Several
    tenants share the invoices: each invoice must be in exactly one of their journals."""
    from django.db import connection

    tenants = tenants if isinstance(tenants, list) else [tenants]
    ids = [tenant.company.pk for tenant in tenants]
    expected = {invoice_id(source or tenants[0], index) for index in range(sent)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT e.source_ref, e.number, e.state FROM accounting_entry e "
                       "JOIN accounting_journal j ON j.id = e.journal_id "
                       "WHERE j.company_id = ANY(%s) AND j.source = 'progbat'", [ids])
        rows = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM accounting_entryline l "
                       "JOIN accounting_entry e ON e.id = l.entry_id "
                       "WHERE e.company_id = ANY(%s)", [ids])
        lines = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM (SELECT l.entry_id FROM accounting_entryline l "
                       "JOIN accounting_entry e ON e.id = l.entry_id "
                       "WHERE e.company_id = ANY(%s) GROUP BY l.entry_id "
                       "HAVING sum(l.debit) <> sum(l.credit) OR sum(l.debit) <= 0) AS unbalanced",
                       [ids])
        unbalanced = cursor.fetchone()[0]
    refs = [ref for ref, _number, _state in rows]
    found = set(refs)
    inbox = Counter()
    for tenant in tenants:
        inbox.update(inbox_counts(tenant.company))
    return Check(inbox=dict(inbox), entries=len(rows),
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


def backlog_copy(source, targets):
    """``source``'s inbox events, waiting again as events of ``targets`` (alternately): the
    same drafts, new webhook-ids; their journals are empty, so each becomes an entry."""
    from django.db import connection

    columns = ("firm_id, partner, event_type, source_ref, source_version, payload, draft, "
               "reason, attempts")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO accounting_inboxevent (company_id, webhook_id, status, received_at, "
            f"{columns}) SELECT (%s::bigint[])[1 + (row_number() OVER (ORDER BY id)) %% %s], "
            f"'copy_' || webhook_id, 'received', now(), firm_id, partner, event_type, "
            f"source_ref, source_version, payload, draft, '', 0 "
            f"FROM accounting_inboxevent WHERE company_id = %s",
            [[t.company.pk for t in targets], len(targets), source.company.pk])
        copied = cursor.rowcount
        cursor.execute("ANALYZE accounting_inboxevent")
    return copied



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
          f"senders, gunicorn + Celery workers, PostgreSQL + Redis")
    print(f"gunicorn {' '.join(gunicorn_args())} (gthread; DEBUG off, CONN_MAX_AGE 60), the same "
          f"for the floors and MEG")
    print(f"celery -A meg {CELERY_ARGS}; broker and cache {BROKER_URL} (flushed)")
    print(f"senders: {SENDERS} threads in the bench process, raw HTTP/1.1 keep-alive sockets, "
          f"requests pre-built and pre-signed before timing; {WARMUP} untimed warm-up "
          f"requests per server")
    load_before = os.getloadavg()
    print("load average before: {:.2f} {:.2f} {:.2f} (the figures below are only as good as "
          "the machine is quiet: see 'other processes')".format(*load_before))
    started = time.perf_counter()
    tenants = build()
    redis_client().flushdb()
    print(f"data built in {time.perf_counter() - started:.1f} s (1 firm, 5 companies with an "
          f"active ProGBat link: warm-up, A, B, C, D)")

    logs = Path(tempfile.mkdtemp(prefix="meg-bench-ingest-"))
    meg = worker = None
    workers = []
    profiles = []
    try:
        # 1. floors: bare WSGI, then Django (MEG's settings and middleware)
        print(f"phase 1/5: floor endpoints (signature + 202), {count:,} webhooks each …",
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
        print(f"phase 2/5: MEG webhook endpoint, Celery worker stopped, {count:,} webhooks …",
              flush=True)
        requests_a = signed_requests(tenants["A"], count, port, run="accept")
        recording = profile.start("gunicorn-acceptance", meg.pid)
        accept = send_all("MEG", port, requests_a,
                          groups={"gunicorn": meg.pid, "Celery worker": None})
        profiles.append(recording.stop() if recording else "")
        time.sleep(0.5)  # the wake-up threads ask the gate after the last answers
        backlog_rows = inbox_counts(tenants["A"].company).get("received", 0)
        backlog_tasks = queued_tasks()

        # 3. drain
        print(f"phase 3/5: drain — starting the Celery worker on {backlog_rows:,} waiting "
              f"events ({backlog_tasks:,} queued tasks) …", flush=True)
        worker = start_worker(logs)
        recording = profile.start("worker-drain", worker.pid)
        drain_busy = cpu_times()
        drain_before = cpu.role_cpu({"Celery worker": worker.pid})
        drained_at = wait_journalised(tenants["A"].company, accept.accepted,
                                      since=worker.ready_at, label="drain")
        profiles.append(recording.stop() if recording else "")
        drain_cpu = cpu.cpu_delta(drain_before, cpu.role_cpu({"Celery worker": worker.pid}),
                                  {"Celery worker": worker.pid})
        drain_busy = machine_busy(drain_busy)
        drain_seconds = drained_at - worker.ready_at
        startup_seconds = worker.ready_at - worker.spawned_at
        worker.stop()
        worker = None
        purge_queue()
        check_a = check_journal(tenants["A"], count)

        # 4. end to end
        worker = start_worker(logs)
        print(f"phase 4/5: end to end — worker running, {e2e_count:,} webhooks …", flush=True)
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
        meg.stop()
        meg = None

        # 5. drain, two workers on two companies
        pair = [tenants["C"], tenants["D"]]
        copied = backlog_copy(tenants["A"], pair)
        print(f"phase 5/5: drain with two workers — {copied:,} waiting events of companies C "
              f"and D (company A's, copied), one queued task …", flush=True)
        workers = start_workers(logs, 2)
        two_groups = {f"Celery worker {n}": w.pid for n, w in enumerate(workers, start=1)}
        two_before = cpu.role_cpu(two_groups)
        two_busy = cpu_times()
        two_started = time.perf_counter()
        publish_inbox_task()
        two_done_at = wait_journalised([t.company for t in pair], copied, since=two_started,
                                       label="drain, two workers")
        two_cpu = cpu.cpu_delta(two_before, cpu.role_cpu(two_groups), two_groups)
        two_busy = machine_busy(two_busy)
        two_tasks = [len(re.findall(r"inbox_process\[[-\w]+\] received", w.log()))
                     for w in workers]
        for process in workers:
            process.stop()
        workers = []
        purge_queue()
        check_cd = check_journal(pair, count, source=tenants["A"])
    finally:
        for process in (*workers, worker, meg):
            if process is not None:
                process.stop()
        if verbose:
            print(f"(process logs kept in {logs})")
        else:
            shutil.rmtree(logs, ignore_errors=True)
    load_after = os.getloadavg()

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
          f"inbox rows and {backlog_tasks:,} queued task(s); ready "
          f"{startup_seconds:.1f} s after spawn; all journalised {drain_seconds:.2f} s after "
          f"ready = {drain_rate:,.0f} invoices/s; CPU per invoice: worker "
          f"{1000 * drain_cpu['Celery worker'] / accept.accepted:.2f} ms, PostgreSQL "
          f"{1000 * drain_cpu['PostgreSQL'] / accept.accepted:.2f} ms; other processes "
          f"{100 * drain_cpu['other'] / (cpu.CORES * drain_seconds):.0f} % of "
          f"{cpu.CORES} cores; machine busy {100 * drain_busy:.0f} %")
    two_seconds = two_done_at - two_started
    two_rate = copied / two_seconds
    print(f"drain, two workers: {copied:,} events of companies C and D journalised "
          f"{two_seconds:.2f} s after one task was queued = {two_rate:,.0f} invoices/s "
          f"({two_rate / drain_rate:.2f} × one worker); tasks run: "
          f"{' + '.join(map(str, two_tasks))}; CPU per invoice: workers "
          f"{1000 * sum(two_cpu[r] for r in two_groups) / copied:.2f} ms, PostgreSQL "
          f"{1000 * two_cpu['PostgreSQL'] / copied:.2f} ms; other processes "
          f"{100 * two_cpu['other'] / (cpu.CORES * two_seconds):.0f} % of {cpu.CORES} cores; "
          f"machine busy {100 * two_busy:.0f} %")
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
    checks = (check_a, check_b, check_cd)
    print(format_table(
        ["journal check", "A (accepted, then drained)", "B (end to end)",
         "C + D (two workers)"],
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

    def cpu_per_webhook(sending):
        return 1000 * sending.role_cpu["gunicorn"] / sending.count

    meg_cpu, floor_cpu = cpu_per_webhook(accept), cpu_per_webhook(django_floor)
    rate_ratio = accept.rate / django_floor.rate if django_floor.rate else 0.0
    wsgi_ratio = accept.rate / floor.rate if floor.rate else 0.0
    floor_p99 = django_floor.latency(0.99)
    p99, e2e_p99 = accept.latency(0.99), e2e.latency(0.99)
    intact = all(c.lost == 0 and c.duplicated == 0 and c.unexpected == 0 and c.drafts_unnumbered
                 and c.unbalanced == 0 and c.lines == 3 * c.entries for c in checks)
    print()
    print(format_table(
        ["target (DESIGN §10, raised)", "measured", "target", "met"],
        [
            ["gunicorn CPU per accepted webhook",
             f"{meg_cpu:.2f} ms = {meg_cpu / floor_cpu:.1f} × the Django floor's "
             f"({floor_cpu:.2f} ms)",
             f"≤ {CPU_RATIO_TARGET:.0f} × = {CPU_RATIO_TARGET * floor_cpu:.2f} ms",
             yes_no(meg_cpu <= CPU_RATIO_TARGET * floor_cpu)],
            ["acceptance rate",
             f"{accept.rate:,.0f}/s = {rate_ratio:.0%} of the Django floor's "
             f"({django_floor.rate:,.0f}/s)",
             f"≥ {FLOOR_RATIO_TARGET:.0%} = {FLOOR_RATIO_TARGET * django_floor.rate:,.0f}/s",
             yes_no(rate_ratio >= FLOOR_RATIO_TARGET)],
            ["p99, worker stopped",
             f"{p99:.1f} ms = {p99 / floor_p99:.1f} × the Django floor's ({floor_p99:.1f} ms)",
             f"≤ {P99_RATIO_TARGET:.0f} × = {P99_RATIO_TARGET * floor_p99:.1f} ms",
             yes_no(p99 <= P99_RATIO_TARGET * floor_p99)],
            ["p99, worker running",
             f"{e2e_p99:.1f} ms = {e2e_p99 / floor_p99:.1f} × the Django floor's",
             f"≤ {P99_RUNNING_RATIO_TARGET:.0f} × = "
             f"{P99_RUNNING_RATIO_TARGET * floor_p99:.1f} ms",
             yes_no(e2e_p99 <= P99_RUNNING_RATIO_TARGET * floor_p99)],
            ["drain, one worker", f"{drain_rate:,.0f} invoices/s",
             f"≥ {DRAIN_TARGET:,.0f}/s", yes_no(drain_rate >= DRAIN_TARGET)],
            ["drain, two workers on two companies",
             f"{two_rate:,.0f} invoices/s = {two_rate / drain_rate:.2f} × one worker",
             f"≥ {TWO_WORKERS_TARGET} × = {TWO_WORKERS_TARGET * drain_rate:,.0f}/s",
             yes_no(two_rate >= TWO_WORKERS_TARGET * drain_rate)],
            ["0 lost, 0 duplicated (drafts, balanced)",
             f"lost {sum(c.lost for c in checks)}, duplicated "
             f"{sum(c.duplicated for c in checks)}", "0, 0", yes_no(intact)],
            ["  (informative: vs the bare WSGI floor)",
             f"{accept.rate:,.0f}/s = {wsgi_ratio:.0%} of {floor.rate:,.0f}/s; gunicorn CPU "
             f"{meg_cpu / cpu_per_webhook(floor):.1f} ×", "", ""],
        ]))
    print("load average before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f} "
          "(other processes' share per phase above)".format(*load_before, *load_after))
    if count != WEBHOOKS:
        print(f"workload: {count:,} webhooks (--quick; DESIGN §10 asks for {WEBHOOKS:,})")
    for text in profiles:
        if text:
            print(f"\n{text}")
