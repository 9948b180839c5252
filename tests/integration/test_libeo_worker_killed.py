"""« Payer » on the production shape: a Celery worker killed during the call to Libeo.

A real worker process (``celery -A meg worker --pool solo``) on the test database and Redis
delivers the payment to the live Libeo sandbox, made slow (every API call takes 2 s). It is
killed with SIGKILL (its whole process group) while ``POST /api/v1/payments`` is in flight:
Libeo makes the payment, but MEG never hears the answer; the handler's transaction (the
payment's row) is rolled back, and the outbox message stays leased to the dead worker (no row
lock was held: the lease, 8 s here, simply runs out). A new worker gets the very same task again
from Redis (``acks_late``: the killed one never acknowledged it; Redis hands it back once the
visibility timeout, 5 s here, has passed), claims the message once the lease has expired (or
comes back when it does) and delivers it again with the same idempotency key: Libeo answers
with the payment it already made. One payment at Libeo, MEG's payment settled, and both
attempts on record.

The periodic sweeper (``outbox_sweep``) is not the path used here: beat sends the sweep every
60 s, so a message lost with its worker would wait up to a minute after its lease for it.
"""

import os
import re
import time
from urllib.parse import urlsplit

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from meg.celery import app as celery_app
from partners.common import tasks  # noqa: F401  (registers outbox_deliver with the app)
from partners.common.models import OutboxMessage
from partners.libeo.services import libeo_key_set
from purchases.models import Payment
from purchases.services import invoice_pay
from tests.integration.workers import meg_env, start_celery_worker, wait_until
from tests.purchases.conftest import make_invoice

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The database of this run's REDIS_URL when given (parallel runs on one machine each have their
# own: a shared one lets another run's worker take this run's task), else 12.
BROKER_URL = f"redis://127.0.0.1:6379/{urlsplit(os.environ.get('REDIS_URL', '')).path[1:] or 12}"
DELIVER = "partners.common.tasks.outbox_deliver"
VISIBILITY_TIMEOUT = 5
LEASE_SECONDS = 8


class SharedRedis:
    """The machine's Redis (``BROKER_URL``), in the shape ``meg_env`` expects of a broker."""

    def url(self, db):
        return BROKER_URL


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def publisher(broker, monkeypatch):
    """This test process runs Celery eagerly (no CELERY_BROKER_URL): here ``outbox_deliver``
    is published by name to Redis instead, as MEG's web process does on the production shape.
    Whatever queues it (``delay``, ``apply_async``, MEG's enqueue helper) goes through the
    task's ``apply_async``, which this replaces for the test."""
    app = Celery("meg-web-probe", broker=BROKER_URL, set_as_current=False)

    def publish(args=None, kwargs=None, **options):
        return app.send_task(DELIVER, args=args, kwargs=kwargs,
                             countdown=options.get("countdown"))

    monkeypatch.setitem(vars(celery_app.tasks[DELIVER]), "apply_async", publish)
    yield app
    app.close()


@pytest.fixture
def worker_env(libeo, tmp_path):
    env = meg_env(database=connection.settings_dict["NAME"], broker=SharedRedis(),
                  progbat_url=settings.PROGBAT_BASE_URL, media_root=tmp_path / "media")
    env.update({"LIBEO_BASE_URL": libeo.url, "CELERY_VISIBILITY_TIMEOUT":
                str(VISIBILITY_TIMEOUT), "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS)})
    return env


@pytest.fixture
def workers():
    started = []
    yield started
    for worker in started:
        worker.stop()


def test_a_worker_killed_during_the_call_ends_with_exactly_one_payment(
        libeo, achats, dirigeant, broker, publisher, worker_env, workers, tmp_path):
    key = libeo.control("companies", {
        "siren": achats.siren, "name": achats.name, "plan": "partnerships",
        "users": [{"email": dirigeant.email, "role": "owner"}]})["api_key"]
    libeo_key_set(company=achats, actor=dirigeant, api_key=key)
    invoice = make_invoice(achats, dirigeant)
    external_id = f"meg-{invoice.pk}"

    def at_libeo():
        return libeo.state()["payments_by_invoice"].get(external_id, 0)

    def report():
        return "\n".join(w.tail(30) for w in workers)

    workers.append(start_celery_worker(env=worker_env, log_path=tmp_path / "worker-1.log"))
    killed = workers[0]
    # Every Libeo API call now takes 2 s: the invoice's PUT, then the payment's POST.
    libeo.control("faults", {"rate": 1.0, "kinds": ["slow"], "except_me": True})

    # « Payer »: the payment and its outbox message are committed, the task goes to Redis.
    payment = invoice_pay(invoice=invoice, actor=dirigeant)
    message = OutboxMessage.objects.get(action="libeo.pay")
    assert message.payload == {"payment_id": payment.pk}
    task_id = killed.wait_log(rf"Task {re.escape(DELIVER)}\[([-\w]+)\] received",
                              timeout=30)[1]

    # The worker is inside POST /api/v1/payments (the second slow call): SIGKILL its group.
    wait_until(lambda: libeo.state()["faults"]["injected"].get("slow", 0) >= 2, timeout=15,
               message=lambda: f"the payment call never started\n{report()}")
    time.sleep(0.5)
    killed.kill()
    killed_at = time.monotonic()
    assert not killed.alive()
    assert at_libeo() == 0  # the call was in flight: Libeo had not made the payment yet
    assert not re.search(r"succeeded|raised", killed.log()), killed.tail()
    # Its message stays in Redis, unacknowledged, for redelivery.
    assert (broker.hlen("unacked"), broker.llen("celery")) == (1, 0)

    # Libeo finishes the call it received and makes the payment; MEG never heard the answer:
    # the killed worker's handler transaction is rolled back, the payment is still to be
    # delivered, and the message is leased to the dead worker with its attempt in flight.
    wait_until(lambda: at_libeo() == 1, timeout=15,
               message=lambda: f"Libeo did not make the payment: {libeo.state()['payments']}")
    libeo.control("faults", {"rate": 0})
    payment.refresh_from_db()
    message.refresh_from_db()
    assert (payment.status, payment.provider_payment_id) == ("pending", "")
    assert (message.status, message.attempts) == ("sending", 1)
    assert [(a.number, a.outcome) for a in message.delivery_attempts.all()] == [(1, "")]

    # A new worker, once the visibility timeout has passed: Redis hands it the same task.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 1 - (time.monotonic() - killed_at)))
    workers.append(start_celery_worker(env=worker_env, log_path=tmp_path / "worker-2.log"))
    restarted = workers[1]
    restarted.wait_log(rf"Task {re.escape(DELIVER)}\[{re.escape(task_id)}\] succeeded",
                       timeout=30)
    wait_until(lambda: broker.hlen("unacked") == 0 and broker.llen("celery") == 0, timeout=15,
               message=lambda: f"unacked {broker.hlen('unacked')}, queued "
                               f"{broker.llen('celery')}\n{report()}")

    state = libeo.state()
    assert state["payments_by_invoice"] == {external_id: 1}
    (at_sandbox,) = state["payments"]
    assert at_sandbox["idempotency_key"] == payment.idempotency_key
    payment.refresh_from_db()
    message.refresh_from_db()
    assert payment.status in (Payment.Status.SCHEDULED, Payment.Status.PAID)
    assert payment.provider_payment_id == str(at_sandbox["id"])
    assert (message.status, message.attempts) == ("sent", 2)
    assert [(a.number, a.outcome) for a in message.delivery_attempts.all()] == [
        (1, "expired"), (2, "sent")]
    assert Payment.objects.filter(invoice=invoice).count() == 1
