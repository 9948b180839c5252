"""``pay``: 1,000 « Payer » actions with the Libeo sandbox failing 20 % of its API calls.

DESIGN §10 (raised 2026-11-30): every invoice paid exactly once; p99 from the click to
« programmé » ≤ 30 s with 20 % faults (backoff capped and jittered, ``Retry-After`` honoured);
every payment's later status (``paid``) reaches MEG.

Real parts only: MEG's ``invoice_pay`` (the service behind the « Payer » button) in this
process, publishing the outbox task to Redis as MEG's web process does; one Celery worker
(prefork, 2 processes) delivering the outbox (``partners.common.tasks.outbox_deliver``: the
invoice's PUT, then the payment's POST with its idempotency key) with MEG's own retries (1, 2,
4, 8 s ±20 %…), and running the polling of scheduled payments that Celery beat (its own
process, MEG's schedule) sends every 5 s; the Libeo sandbox as its own process (``python -m
sandboxes.libeo``) failing 20 % of its ``/api/v1`` calls — the status checks too — half ``500``
(nothing done) and half ``500_after`` (the work is done, then the answer is lost: the payment
is made but MEG is told it failed, and must not pay again when it retries), and paying each
scheduled payment ``PAY_AFTER_SECONDS`` after it was made (its fast mode).

The ``timeout`` kinds are not used: each would hold a worker for ``LIBEO_TIMEOUT_SECONDS``
(10 s) — 20 % of ~2,300 calls would add more than an hour of waiting to a solo worker (the
integration tests cover a timed-out payment call).

The worker and beat run from the start; the 1,000 « Payer » come at a steady
``CLICKS_PER_SECOND`` (5/s: 1,000 payments in 3 min 20 s, far above any firm's real rate, and
below what one worker on a shared 2-core machine delivers with 20 % faults, ~7/s measured).
The latency from a click to « programmé » is then what the retry policy makes it, not the depth
of a queue. ``MEG_BENCH_PAY_CLICKS_PER_SECOND=0`` clicks as fast as ``invoice_pay`` goes (a
burst: 1,000 people at once); the latency then measures the machine's delivery capacity
(≈ 1,600 deliveries of two partner calls each, the sandbox on the same two cores).

Measured: from each click (the payment's creation) to « programmé » (its audit row), and from
the moment Libeo paid each payment (its ``executed_at``) to MEG knowing it (its
``purchase.paid`` audit row). Then the sandbox's own record is read back: payments per invoice
must be exactly 1 for every invoice.
"""

import datetime
import os
import shlex
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from benchmarks import format_table, percentile, yes_no
from devtools import procs

INVOICES = 1_000
QUICK_INVOICES = 100
FAULT_PLAN = {"rate": 0.2, "kinds": ["500", "500_after"], "seed": 2026, "except_me": True}
BROKER_URL = os.environ.get("MEG_BENCH_PAY_BROKER_URL") or "redis://127.0.0.1:6379/13"
CELERY_ARGS = ("worker --pool prefork --concurrency 2 -Q celery --loglevel INFO "
               "--without-mingle --without-gossip -n bench-pay@%h")
IBAN = "FR7630006000011234567890189"
PROGRESS_SECONDS = 10.0
# The sandbox's fast mode: a scheduled payment is paid this long after it was made.
PAY_AFTER_SECONDS = 10
TARGET_P99_SECONDS = 30.0
CLICKS_PER_SECOND = float(os.environ.get("MEG_BENCH_PAY_CLICKS_PER_SECOND") or 5)
# The sandbox stores amounts in SQLite, whose CHECK "incl = excl + VAT" compares binary floats:
# it refuses (HTTP 500, every time) about a quarter of ordinary cent amounts, e.g. 101.01 +
# 20.20 = 121.21. Amounts here are whole euros, exact in binary, so that the only failures
# are the injected ones.
SANDBOX_AMOUNTS = "whole euros"
TIMEOUT_SECONDS = 900.0


# --------------------------------------------------------------------------------------------
# Processes


def start_sandbox(logs):
    """The Libeo sandbox process, with its ``/_sandbox/`` controls, in fast mode."""
    return procs.start_sandbox("libeo", env={
        "LIBEO_SANDBOX_DB": str(logs / "libeo-sandbox.sqlite3"), "LIBEO_SANDBOX_CONTROL": "1",
        "LIBEO_SANDBOX_PAY_AFTER_SECONDS": str(PAY_AFTER_SECONDS)},
        log_path=logs / "libeo.log")


def meg_env(sandbox):
    return procs.child_env(CELERY_BROKER_URL=BROKER_URL, LIBEO_BASE_URL=sandbox.url,
                           DJANGO_DEBUG="0", DATABASE_CONN_MAX_AGE="60", LOG_LEVEL="INFO",
                           REDIS_URL=None)


def start_worker(logs, sandbox):
    return procs.start_celery_worker(shlex.split(CELERY_ARGS), env=meg_env(sandbox),
                                     log_path=logs / f"celery-{time.time_ns()}.log")


def start_beat(logs, sandbox):
    """Celery beat with MEG's schedule (the outbox sweeper, the Libeo status polling…)."""
    beat = procs.Child("celery-beat", [str(procs.BIN / "celery"), "-A", "meg", "beat",
                                       "--loglevel", "INFO",
                                       "--schedule", str(logs / "beat-schedule")],
                       env=meg_env(sandbox), log_path=logs / "celery-beat.log")
    beat.wait_log(r"beat: Starting", interval=0.05)
    return beat


def redis_client():
    import redis

    return redis.Redis.from_url(BROKER_URL)


class PublishToRedis:
    """This process runs Celery eagerly (no CELERY_BROKER_URL): while this is in effect,
    ``outbox_deliver`` is published by name to the bench's Redis instead, as MEG's web process
    would. Whatever queues it (MEG's enqueue helper, ``delay``) goes through the task's
    ``apply_async``, which this shadows on the task object."""

    task_name = "partners.common.tasks.outbox_deliver"

    def __enter__(self):
        from celery import Celery

        from meg.celery import app
        from partners.common import tasks  # noqa: F401  (registers outbox_deliver)

        self.publisher = Celery("bench-pay-web", broker=BROKER_URL, set_as_current=False)
        self.task = app.tasks[self.task_name]

        def publish(args=None, kwargs=None, **options):
            return self.publisher.send_task(self.task_name, args=args, kwargs=kwargs,
                                            countdown=options.get("countdown"))

        vars(self.task)["apply_async"] = publish
        return self

    def __exit__(self, *exc):
        vars(self.task).pop("apply_async", None)
        self.publisher.close()


# --------------------------------------------------------------------------------------------
# Data


def build(sandbox, count):
    """A firm, a company with Achats whose dirigeant administers it, its Libeo account on the
    Partnerships plan (unlimited payments) with the key saved through MEG's service (checked
    with ``/me``), and ``count`` supplier invoices to pay by « Virement par Libeo »."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from benchmarks.dashboard import luhn_complete, siret_for
    from companies.models import Company, CompanyMembership, Module
    from companies.services import modules_save, user_module_access_set
    from firms.models import Firm, FirmMembership
    from partners.libeo.services import libeo_key_set
    from purchases.models import SupplierInvoice
    from users.models import User

    today = timezone.localdate()
    with scopes_disabled():
        with transaction.atomic():
            firm = Firm.objects.create(name="Cabinet Bench Pay",
                                       siren=luhn_complete(f"{97_000_000:08d}"))
            admin = User.objects.create(email="admin@pay.bench.meg.test", first_name="Admin",
                                        last_name="Pay")
            FirmMembership.objects.create(firm=firm, user=admin, role=FirmMembership.Role.ADMIN)
            company = Company.objects.create(
                firm=firm, name="Entreprise Bench Paiements", siret=siret_for(7, 0),
                state=Company.State.ACTIVATED, activated_at=timezone.now(), city="Lyon",
                postal_code="69001")
            dirigeant = User.objects.create(email="dirigeant@pay.bench.meg.test",
                                            first_name="Dirigeant", last_name="Pay")
            CompanyMembership.objects.create(firm=firm, company=company, user=dirigeant,
                                             role=CompanyMembership.Role.DIRIGEANT)
            modules_save(company=company, actor=admin, enabled_codes=["achats"])
            user_module_access_set(company=company, actor=admin, user=dirigeant,
                                   module=Module.objects.get(code="achats"), enabled=True,
                                   is_admin=True)
        api_key = sandbox.control("companies", {
            "siren": company.siren, "name": company.name, "plan": "partnerships",
            "users": [{"email": dirigeant.email, "role": "owner"}]})["api_key"]
        settings.LIBEO_BASE_URL = sandbox.url
        libeo_key_set(company=company, actor=dirigeant, api_key=api_key)
        invoices = []
        for index in range(count):
            # Whole euros (see SANDBOX_AMOUNTS): 100 € to 2,095 € HT, VAT 20 %.
            excl = Decimal(100 + 5 * (index % 400))
            vat = excl * Decimal("0.20")
            invoices.append(SupplierInvoice(
                firm=firm, company=company, supplier_name=f"Fournisseur {index % 50:02d}",
                supplier_iban=IBAN, number=f"PAY-{index:05d}",
                issue_date=today - datetime.timedelta(days=10),
                due_date=today + datetime.timedelta(days=30 + index % 30),
                amount_excl_tax=excl, vat_amount=vat, amount_incl_tax=excl + vat,
                payment_method=SupplierInvoice.PaymentMethod.LIBEO, created_by=dirigeant))
        invoices = SupplierInvoice.objects.bulk_create(invoices, batch_size=1_000)
    return company, dirigeant, invoices


# --------------------------------------------------------------------------------------------
# Phases


def pay_all(invoices, dirigeant, *, per_second):
    """« Payer » on each invoice, ``per_second`` of them each second (0: as fast as it goes):
    ``invoice_pay`` commits the payment and its outbox message, then publishes the delivery
    task to Redis."""
    from django_scopes import scopes_disabled

    from purchases.services import invoice_pay

    started = time.perf_counter()
    with scopes_disabled(), PublishToRedis():
        for index, invoice in enumerate(invoices):
            if per_second:
                time.sleep(max(0.0, started + index / per_second - time.perf_counter()))
            invoice_pay(invoice=invoice, actor=dirigeant)
    return time.perf_counter() - started


def counts(company):
    """``(outbox messages not settled, payments paid in MEG)``."""
    from django_scopes import scopes_disabled

    from partners.common.models import OutboxMessage
    from purchases.models import Payment

    with scopes_disabled():
        # A leased message (being sent) is not settled either.
        unsettled = OutboxMessage.objects.filter(
            company=company, status__in=[OutboxMessage.Status.PENDING,
                                         OutboxMessage.Status.SENDING,
                                         OutboxMessage.Status.RETRYING]).count()
        paid = Payment.objects.filter(company=company, status=Payment.Status.PAID).count()
    return unsettled, paid


def wait_until_done(company, *, since, total):
    """Wait until every outbox message is settled (« programmé », or failed) and every
    payment is paid in MEG; returns the ``perf_counter`` of each moment."""
    settled_at = last_print = None
    last_print = time.perf_counter()
    while True:
        unsettled, paid = counts(company)
        now = time.perf_counter()
        if unsettled == 0 and settled_at is None:
            settled_at = now
        if settled_at is not None and paid >= total:
            return settled_at, now
        if now - since > TIMEOUT_SECONDS:
            print(f"  gave up waiting after {TIMEOUT_SECONDS:.0f} s: {unsettled:,} outbox "
                  f"messages unsettled, {paid:,}/{total:,} paid in MEG", flush=True)
            return settled_at, None
        if now - last_print >= PROGRESS_SECONDS:
            print(f"  … {total - unsettled:,}/{total:,} sent, {paid:,}/{total:,} paid in MEG "
                  f"({now - since:.0f} s)", flush=True)
            last_print = now
        time.sleep(0.2)


def outcome(company, invoices, sandbox_state):
    from django_scopes import scopes_disabled

    from audit.models import AuditEvent
    from partners.common.models import OutboxAttempt, OutboxMessage
    from purchases.models import Payment

    with scopes_disabled():
        payments = list(Payment.objects.filter(company=company).values(
            "pk", "invoice_id", "status", "provider_payment_id", "created_at", "executed_at"))
        messages = list(OutboxMessage.objects.filter(company=company, action="libeo.pay")
                        .values("status", "attempts"))
        durations = [ms / 1000 for ms in OutboxAttempt.objects.filter(
            company=company, duration_ms__isnull=False).values_list("duration_ms", flat=True)]
        audits = AuditEvent.objects.filter(company=company, action__in=[
            "purchase.payment_scheduled", "purchase.paid"]).values_list(
            "action", "data__payment_id", "created_at")
        scheduled_at, paid_at = {}, {}
        for action, payment_id, created_at in audits:
            (scheduled_at if action == "purchase.payment_scheduled" else paid_at)[
                payment_id] = created_at
    by_invoice = sandbox_state["payments_by_invoice"]
    at_sandbox = [by_invoice.get(f"meg-{invoice.pk}", 0) for invoice in invoices]
    sandbox_payments = {str(p["id"]): p for p in sandbox_state["payments"]}
    mismatched = sum(
        1 for p in payments
        if sandbox_payments.get(p["provider_payment_id"], {}).get("invoice_external_id")
        != f"meg-{p['invoice_id']}")
    meg_per_invoice = Counter(p["invoice_id"] for p in payments)
    puts = {i["external_id"]: i["versions"] for i in sandbox_state["invoices"]}
    to_scheduled = [(scheduled_at[p["pk"]] - p["created_at"]).total_seconds()
                    for p in payments if p["pk"] in scheduled_at]
    # From the moment Libeo paid it to the moment MEG knew.
    paid_lag = [(paid_at[p["pk"]] - p["executed_at"]).total_seconds()
                for p in payments if p["pk"] in paid_at and p["executed_at"]]
    executed_match = sum(
        1 for p in payments
        if p["executed_at"] and sandbox_payments.get(p["provider_payment_id"], {}).get(
            "executed_at") == p["executed_at"].astimezone(datetime.UTC).isoformat(
            timespec="seconds").replace("+00:00", "Z"))
    return {
        "at_sandbox": at_sandbox,
        "sandbox_total": sum(by_invoice.values()),
        "sandbox_statuses": Counter(p["status"] for p in sandbox_state["payments"]),
        "meg_statuses": Counter(p["status"] for p in payments),
        "meg_payments_per_invoice": (min(meg_per_invoice.values(), default=0),
                                     max(meg_per_invoice.values(), default=0)),
        "outbox_statuses": Counter(m["status"] for m in messages),
        "attempts": Counter(m["attempts"] for m in messages),
        "retries": sum(m["attempts"] for m in messages) - len(messages),
        "durations": durations,
        "to_scheduled": to_scheduled,
        "paid_lag": paid_lag,
        "executed_match": executed_match,
        "first_click": min((p["created_at"] for p in payments), default=None),
        "last_paid": max(paid_at.values(), default=None),
        "mismatched": mismatched,
        "puts": sum(puts.get(f"meg-{invoice.pk}", 0) for invoice in invoices),
        "faults": sandbox_state["faults"]["injected"],
    }



def counter_text(counter):
    return ", ".join(f"{key} {value:,}" for key, value in sorted(counter.items())) or "—"


def spread(values):
    return " / ".join(f"{percentile(values, q):.1f}" for q in (0.5, 0.9, 0.99, 1.0))


def load_text():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run(*, quick=False, verbose=False):
    count = QUICK_INVOICES if quick else INVOICES
    print(f"\n== pay — {count:,} « Payer » actions, Libeo sandbox failing "
          f"{FAULT_PLAN['rate']:.0%} of API calls ({' + '.join(FAULT_PLAN['kinds'])}, "
          f"seed {FAULT_PLAN['seed']}), paying scheduled payments {PAY_AFTER_SECONDS} s after "
          f"they were made")
    pace = (f"{CLICKS_PER_SECOND:g} clicks/s" if CLICKS_PER_SECOND
            else "a burst (as fast as it goes)")
    print(f"invoice_pay in the bench process (tasks published to {BROKER_URL}, flushed), "
          f"{pace}, with the worker running; delivery by celery -A meg {CELERY_ARGS}, MEG's own "
          f"retries and backoff; celery beat (MEG's schedule: status polling every 5 s); the "
          f"Libeo sandbox is one process (threaded dev server, SQLite)")
    print(f"load average before: {load_text()} (2-core machine shared with other work: the "
          f"figures are only as good as the machine is quiet)")
    logs = Path(tempfile.mkdtemp(prefix="meg-bench-pay-"))
    sandbox = worker = beat = None
    try:
        started = time.perf_counter()
        sandbox = start_sandbox(logs)
        company, dirigeant, invoices = build(sandbox, count)
        redis_client().flushdb()
        print(f"data built in {time.perf_counter() - started:.1f} s (sandbox started, 1 "
              f"company with Achats and a Partnerships Libeo key, {count:,} invoices)")
        sandbox.control("faults", FAULT_PLAN)
        worker = start_worker(logs, sandbox)
        beat = start_beat(logs, sandbox)

        print(f"{count:,} « Payer » ({pace}), worker and beat running …", flush=True)
        clicks_started = time.perf_counter()
        pay_seconds = pay_all(invoices, dirigeant, per_second=CLICKS_PER_SECOND)
        settled_at, _ = wait_until_done(company, since=clicks_started, total=count)
        time.sleep(1.0)  # a second payment of anything would show at the sandbox now
        load_after = load_text()
        beat.stop()
        beat = None
        worker.stop()
        worker = None
        state = sandbox.state()
    finally:
        for child in (beat, worker):
            if child is not None:
                child.stop()
        if sandbox is not None:
            sandbox.stop()
        redis_client().flushdb()
        if verbose:
            print(f"(process logs kept in {logs})")

    result = outcome(company, invoices, state)
    low, high = min(result["at_sandbox"]), max(result["at_sandbox"])
    injected = sum(result["faults"].values())
    to_scheduled, paid_lag = result["to_scheduled"], result["paid_lag"]
    paid_meg = result["meg_statuses"].get("paid", 0)
    once = (low == high == 1 and result["sandbox_total"] == count
            and result["meg_payments_per_invoice"] == (1, 1) and result["mismatched"] == 0
            and len(to_scheduled) == count)
    p99 = percentile(to_scheduled, 0.99)
    all_paid = (paid_meg == count and result["sandbox_statuses"].get("paid", 0) == count
                and result["executed_match"] == count)
    all_paid_seconds = ((result["last_paid"] - result["first_click"]).total_seconds()
                        if result["last_paid"] and result["first_click"] else float("nan"))
    print()
    print(format_table(
        ["pay", "measured"],
        [
            ["« Payer » actions (invoice_pay, tasks queued)",
             f"{count:,} in {pay_seconds:.1f} s = {count / pay_seconds:,.0f}/s"],
            ["all « programmé » (first click → last)",
             f"{settled_at - clicks_started:.1f} s" if settled_at else "not reached"],
            ["click → « programmé » (p50 / p90 / p99 / max, s)", spread(to_scheduled)],
            ["all paid in MEG (first click → last known)", f"{all_paid_seconds:.1f} s"],
            ["paid at Libeo → known in MEG (p50 / p90 / p99 / max, s)", spread(paid_lag)],
            ["faults injected by the sandbox", counter_text(result["faults"])
             + f" (= {injected:,})"],
            ["retries (outbox attempts beyond the first)", f"{result['retries']:,}"],
            ["outbox messages by attempts", counter_text(result["attempts"])],
            ["handler time per attempt, partner calls included (p50 / p90 / p99 / max, ms)",
             " / ".join(f"{percentile(result['durations'], q) * 1000:.0f}"
                        for q in (0.5, 0.9, 0.99, 1.0))],
            ["outbox statuses", counter_text(result["outbox_statuses"])],
            ["MEG payment statuses", counter_text(result["meg_statuses"])],
            ["MEG payments per invoice (min/max)",
             "{}/{}".format(*result["meg_payments_per_invoice"])],
            ["payments at the sandbox per invoice (min/max)", f"{low}/{high}"],
            ["payments at the sandbox (total; statuses)",
             f"{result['sandbox_total']:,}; {counter_text(result['sandbox_statuses'])}"],
            ["MEG's provider id ≠ the sandbox's payment", f"{result['mismatched']:,}"],
            ["MEG's executed_at = the sandbox's", f"{result['executed_match']:,}/{count:,}"],
            ["invoice PUTs recorded by the sandbox", f"{result['puts']:,}"],
            ["load average after", load_after],
        ]))
    print()
    print(format_table(
        ["target (DESIGN §10)", "measured", "target", "met"],
        [["every invoice paid exactly once",
          f"sandbox {low}/{high} per invoice, MEG {len(to_scheduled):,} programmé",
          f"{count:,} × 1", yes_no(once)],
         [f"p99 click → « programmé », 20 % faults ({pace})", f"{p99:.1f} s",
          f"≤ {TARGET_P99_SECONDS:.0f} s", yes_no(p99 <= TARGET_P99_SECONDS)],
         ["later status (paid) reaches MEG", f"{paid_meg:,}/{count:,} paid, executed_at "
          f"{result['executed_match']:,}/{count:,}", f"{count:,}", yes_no(all_paid)]]))
    print(f"every invoice paid exactly once: {'yes' if once else 'no'}")
    if count != INVOICES:
        print(f"workload: {count:,} invoices (--quick; DESIGN §10 asks for {INVOICES:,})")
