"""``pay``: 1,000 « Payer » actions with the Libeo sandbox failing 20 % of its API calls.

DESIGN §10: every invoice paid exactly once.

Real parts only: MEG's ``invoice_pay`` (the service behind the « Payer » button) in this
process, publishing the outbox task to Redis as MEG's web process does; one Celery worker
(prefork) delivering the outbox (``partners.common.tasks.outbox_deliver``: the invoice's PUT,
then the payment's POST with its idempotency key), with MEG's own retries and exponential
backoff (5 s, 10 s, 20 s, …); the Libeo sandbox as its own process (``python -m
sandboxes.libeo``) failing 20 % of its ``/api/v1`` calls, half ``500`` (nothing done) and half
``500_after`` (the work is done, then the answer is lost: the payment is made but MEG is told
it failed, and must not pay again when it retries).

The ``timeout`` kinds are not used: each would hold a worker for ``LIBEO_TIMEOUT_SECONDS``
(10 s) — 20 % of ~2,300 calls would add more than an hour of waiting to a solo worker.

Phases: (1) the 1,000 « Payer » with the worker stopped (the tasks wait in Redis); (2) the
worker is started and timed until every outbox message is settled (sent or failed). Then the
sandbox's own record is read back: payments per invoice must be exactly 1 for every invoice.
"""

import datetime
import shlex
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from benchmarks import format_table, percentile
from devtools import procs

INVOICES = 1_000
QUICK_INVOICES = 100
FAULT_PLAN = {"rate": 0.2, "kinds": ["500", "500_after"], "seed": 2026, "except_me": True}
BROKER_URL = "redis://127.0.0.1:6379/13"
CELERY_ARGS = ("worker --pool prefork --concurrency 2 -Q celery --loglevel INFO "
               "--without-mingle --without-gossip -n bench-pay@%h")
IBAN = "FR7630006000011234567890189"
PROGRESS_SECONDS = 10.0
# The sandbox stores amounts in SQLite, whose CHECK "incl = excl + VAT" compares binary floats:
# it refuses (HTTP 500, every time) about a quarter of ordinary cent amounts, e.g. 101.01 +
# 20.20 = 121.21. Amounts here are whole euros, exact in binary, so that the only failures
# are the injected ones.
SANDBOX_AMOUNTS = "whole euros"
TIMEOUT_SECONDS = 900.0


# --------------------------------------------------------------------------------------------
# Processes


def start_sandbox(logs):
    """The Libeo sandbox process, with its ``/_sandbox/`` controls."""
    return procs.start_sandbox("libeo", env={
        "LIBEO_SANDBOX_DB": str(logs / "libeo-sandbox.sqlite3"), "LIBEO_SANDBOX_CONTROL": "1"},
        log_path=logs / "libeo.log")


def start_worker(logs, sandbox):
    env = procs.child_env(CELERY_BROKER_URL=BROKER_URL, LIBEO_BASE_URL=sandbox.url,
                          DJANGO_DEBUG="0", DATABASE_CONN_MAX_AGE="60", LOG_LEVEL="INFO",
                          REDIS_URL=None)
    return procs.start_celery_worker(shlex.split(CELERY_ARGS), env=env,
                                     log_path=logs / f"celery-{time.time_ns()}.log")


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


def pay_all(invoices, dirigeant):
    """« Payer » on each invoice: ``invoice_pay`` commits the payment and its outbox message,
    then publishes the delivery task to Redis."""
    from django_scopes import scopes_disabled

    from purchases.services import invoice_pay

    started = time.perf_counter()
    with scopes_disabled(), PublishToRedis():
        for invoice in invoices:
            invoice_pay(invoice=invoice, actor=dirigeant)
    return time.perf_counter() - started


def unsettled(company):
    from django_scopes import scopes_disabled

    from partners.common.models import OutboxMessage

    with scopes_disabled():
        return OutboxMessage.objects.filter(
            company=company, status__in=[OutboxMessage.Status.PENDING,
                                         OutboxMessage.Status.RETRYING]).count()


def wait_settled(company, *, since, total):
    last_print = time.perf_counter()
    while True:
        left = unsettled(company)
        now = time.perf_counter()
        if left == 0:
            return now
        if now - since > TIMEOUT_SECONDS:
            raise RuntimeError(f"{left} outbox messages still unsettled after "
                               f"{TIMEOUT_SECONDS:.0f} s")
        if now - last_print >= PROGRESS_SECONDS:
            print(f"  … {total - left:,}/{total:,} settled ({now - since:.0f} s)", flush=True)
            last_print = now
        time.sleep(0.2)


def outcome(company, invoices, sandbox_state):
    from django_scopes import scopes_disabled

    from partners.common.models import OutboxMessage
    from purchases.models import Payment

    with scopes_disabled():
        payments = list(Payment.objects.filter(company=company)
                        .values("invoice_id", "status", "provider_payment_id"))
        messages = list(OutboxMessage.objects.filter(company=company, action="libeo.pay")
                        .values("status", "attempts", "sent_at"))
    by_invoice = sandbox_state["payments_by_invoice"]
    counts = [by_invoice.get(f"meg-{invoice.pk}", 0) for invoice in invoices]
    sandbox_ids = {str(p["id"]): p["invoice_external_id"] for p in sandbox_state["payments"]}
    mismatched = sum(1 for p in payments
                     if sandbox_ids.get(p["provider_payment_id"]) != f"meg-{p['invoice_id']}")
    meg_per_invoice = Counter(p["invoice_id"] for p in payments)
    puts = {i["external_id"]: i["versions"] for i in sandbox_state["invoices"]}
    return {
        "at_sandbox": counts,
        "sandbox_total": sum(by_invoice.values()),
        "meg_statuses": Counter(p["status"] for p in payments),
        "meg_payments_per_invoice": (min(meg_per_invoice.values(), default=0),
                                     max(meg_per_invoice.values(), default=0)),
        "outbox_statuses": Counter(m["status"] for m in messages),
        "attempts": Counter(m["attempts"] for m in messages),
        "retries": sum(m["attempts"] for m in messages) - len(messages),
        "sent_at": sorted(m["sent_at"].timestamp() for m in messages if m["sent_at"]),
        "mismatched": mismatched,
        "puts": sum(puts.get(f"meg-{invoice.pk}", 0) for invoice in invoices),
        "faults": sandbox_state["faults"]["injected"],
    }


def yes_no(met):
    return "yes" if met else "NO"


def counter_text(counter):
    return ", ".join(f"{key} {value:,}" for key, value in sorted(counter.items())) or "—"


def run(*, quick=False, verbose=False):
    count = QUICK_INVOICES if quick else INVOICES
    print(f"\n== pay — {count:,} « Payer » actions, Libeo sandbox failing "
          f"{FAULT_PLAN['rate']:.0%} of API calls ({' + '.join(FAULT_PLAN['kinds'])}, "
          f"seed {FAULT_PLAN['seed']})")
    print(f"invoice_pay in the bench process (tasks published to {BROKER_URL}, flushed); "
          f"delivery by celery -A meg {CELERY_ARGS}, MEG's own retries and backoff; "
          f"the Libeo sandbox is one process (threaded dev server, SQLite)")
    logs = Path(tempfile.mkdtemp(prefix="meg-bench-pay-"))
    sandbox = worker = None
    try:
        started = time.perf_counter()
        sandbox = start_sandbox(logs)
        company, dirigeant, invoices = build(sandbox, count)
        redis_client().flushdb()
        print(f"data built in {time.perf_counter() - started:.1f} s (sandbox started, 1 "
              f"company with Achats and a Partnerships Libeo key, {count:,} invoices)")
        sandbox.control("faults", FAULT_PLAN)

        print(f"phase 1/2: {count:,} « Payer », worker stopped …", flush=True)
        pay_seconds = pay_all(invoices, dirigeant)
        queued = redis_client().llen("celery")

        print(f"phase 2/2: delivery — starting the Celery worker on {queued:,} queued tasks …",
              flush=True)
        worker = start_worker(logs, sandbox)
        ready_wall = time.time() - (time.perf_counter() - worker.ready_at)
        settled_at = wait_settled(company, since=worker.ready_at, total=count)
        deliver_seconds = settled_at - worker.ready_at
        time.sleep(1.0)  # a second payment of anything would show at the sandbox now
        worker.stop()
        worker = None
        state = sandbox.state()
    finally:
        if worker is not None:
            worker.stop()
        if sandbox is not None:
            sandbox.stop()
        redis_client().flushdb()
        if verbose:
            print(f"(process logs kept in {logs})")

    result = outcome(company, invoices, state)
    low, high = min(result["at_sandbox"]), max(result["at_sandbox"])
    settled = result["meg_statuses"].get("scheduled", 0) + result["meg_statuses"].get("paid", 0)
    settle = [at - ready_wall for at in result["sent_at"]]
    injected = sum(result["faults"].values())
    once = (low == high == 1 and result["sandbox_total"] == count and settled == count
            and result["meg_payments_per_invoice"] == (1, 1) and result["mismatched"] == 0)
    print()
    print(format_table(
        ["pay", "measured"],
        [
            ["« Payer » actions (invoice_pay, tasks queued)",
             f"{count:,} in {pay_seconds:.1f} s = {count / pay_seconds:,.0f}/s"],
            ["delivery (worker ready → all settled)",
             f"{deliver_seconds:.1f} s = {count / deliver_seconds:,.1f} payments/s"],
            ["settled after (p50 / p90 / p99 / max, s)", " / ".join(
                f"{percentile(settle, q):.1f}" for q in (0.5, 0.9, 0.99, 1.0))],
            ["faults injected by the sandbox", counter_text(result["faults"])],
            ["retries (outbox attempts beyond the first)", f"{result['retries']:,}"
             + (" = faults injected" if result["retries"] == injected else
                f" ≠ {injected:,} faults injected")],
            ["outbox messages by attempts", counter_text(result["attempts"])],
            ["outbox statuses", counter_text(result["outbox_statuses"])],
            ["MEG payment statuses", counter_text(result["meg_statuses"])],
            ["MEG payments per invoice (min/max)",
             "{}/{}".format(*result["meg_payments_per_invoice"])],
            ["payments at the sandbox per invoice (min/max)", f"{low}/{high}"],
            ["payments at the sandbox (total)", f"{result['sandbox_total']:,}"],
            ["MEG's provider id ≠ the sandbox's payment", f"{result['mismatched']:,}"],
            ["invoice PUTs recorded by the sandbox", f"{result['puts']:,}"],
        ]))
    print()
    print(format_table(
        ["target (DESIGN §10)", "measured", "met"],
        [["every invoice paid exactly once",
          f"{count:,} invoices: sandbox {low}/{high} per invoice, MEG {settled:,} settled",
          yes_no(once)]]))
    print("the tail is MEG's backoff between retries of one message (5, 10, 20, 40, 80 s…), "
          "not work: an invoice whose calls fail 5 times in a row settles after 155 s")
    print(f"every invoice paid exactly once: {'yes' if once else 'no'}")
    if count != INVOICES:
        print(f"workload: {count:,} invoices (--quick; DESIGN §10 asks for {INVOICES:,})")
