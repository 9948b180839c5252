"""Concurrent webhooks share one INSERT and one commit (accounting.services.inbox.GroupCommit),
and each still gets its own answer of DESIGN §5.3, only after the commit that makes it true.

The requests run as gunicorn's threads run them: each thread its own database connection, in
autocommit. To hold a statement back until every other request is waiting behind it, a second
connection locks the inbox table against inserts; the database drops a statement's connection
with ``pg_terminate_backend``.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from accounting.models import InboxEvent
from accounting.services import inbox
from tests.accounting.conftest import invoice_event, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/partners/progbat/webhooks/"
INSERT = 'INSERT INTO "accounting_inboxevent"%'


def _connect():
    params = connection.get_connection_params()
    return psycopg.connect(**{key: value for key, value in params.items()
                              if key in {"dbname", "user", "password", "host", "port"}},
                           autocommit=True)


def _post(body, headers):
    try:
        return Client().post(URL, data=body, content_type="application/json", **headers)
    finally:
        connections.close_all()  # this thread's connection


def _send(requests, pool):
    return [pool.submit(_post, body, headers) for body, headers in requests]


def _signed(company, invoice_id, *, msg_id=None, **fields):
    body = json.dumps(invoice_event(company, invoice_id=invoice_id, **fields))
    return body, signed_headers(body, msg_id=msg_id)


def _wait_for(predicate, message, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.01)


def _blocked_inserts(probe):
    return probe.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE %s", [INSERT]).fetchall()


@pytest.fixture
def lock():
    """A connection holding the inbox table locked against inserts until ``release``."""
    holder, probe = _connect(), _connect()
    state = {"held": True}
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE accounting_inboxevent IN SHARE ROW EXCLUSIVE MODE")

    def release():
        if state["held"]:
            holder.execute("COMMIT")
            state["held"] = False

    yield probe, release
    release()
    holder.close()
    probe.close()


def test_concurrent_webhooks_share_a_commit_and_each_gets_its_own_answer(linked_company, lock):
    probe, release = lock
    first = _signed(linked_company, "inv_first")
    others = [_signed(linked_company, f"inv_{n}") for n in range(10)]
    twice = _signed(linked_company, "inv_twice")
    others += [
        twice,
        (twice[0], twice[1]),  # the same delivery again, while the first one waits
        _signed(linked_company, "inv_old", validated_at="2026-05-01T09:00:00Z"),  # before link
        _signed(linked_company, "inv_nolink", account_id="acc_unknown"),
    ]
    with ThreadPoolExecutor(max_workers=len(others) + 1) as pool:
        leader = _send([first], pool)
        _wait_for(lambda: _blocked_inserts(probe), "the first INSERT never waited on the lock")
        followers = _send(others, pool)
        _wait_for(lambda: len(inbox._GROUP.waiting) == len(others),
                  "the other requests never waited behind the first statement")
        assert not any(future.done() for future in leader + followers)  # no answer before
        release()
        answers = [future.result(timeout=30) for future in leader + followers]

    statuses = [answer.status_code for answer in answers]
    assert statuses[:11] == [202] * 11
    assert sorted(statuses[11:13]) == [200, 202]  # one of the two deliveries counts
    duplicate = next(a for a in answers[11:13] if a.status_code == 200).json()
    assert duplicate["status"] == "duplicate"
    assert answers[13].status_code == 200
    assert answers[13].json()["reason"] == "validated_before_link"
    assert answers[14].status_code == 404
    assert answers[14].json()["error"] == "no_active_link"

    stored = InboxEvent.objects.filter(company=linked_company)
    ids = [headers["HTTP_WEBHOOK_ID"] for _body, headers in [first, *others[:11], others[12]]]
    assert sorted(stored.values_list("webhook_id", flat=True)) == sorted(ids)  # once each
    assert sorted(stored.values_list("source_ref", flat=True)) == sorted(
        ["inv_first", *(f"inv_{n}" for n in range(10)), "inv_twice", "inv_old"])
    assert stored.get(source_ref="inv_old").status == InboxEvent.Status.IGNORED


def test_a_statement_that_fails_answers_none_of_its_webhooks_202(linked_company, lock):
    """The database drops the connection under a statement of many events: every request of
    it answers 503 (the sender delivers again), nothing is stored, and the next deliveries are
    stored once each."""
    probe, release = lock
    first = _signed(linked_company, "inv_first")
    others = [_signed(linked_company, f"inv_{n}") for n in range(6)]
    with ThreadPoolExecutor(max_workers=len(others) + 1) as pool:
        leader = _send([first], pool)
        _wait_for(lambda: _blocked_inserts(probe), "the first INSERT never waited on the lock")
        followers = _send(others, pool)
        _wait_for(lambda: len(inbox._GROUP.waiting) == len(others),
                  "the other requests never waited behind the first statement")
        # The first statement's connection goes: its request fails alone…
        [(pid,)] = _blocked_inserts(probe)
        probe.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert leader[0].result(timeout=30).status_code == 503
        # …and the statement of the six others, blocked in turn, loses its connection too.
        _wait_for(lambda: [row[0] for row in _blocked_inserts(probe)] not in ([], [pid]),
                  "the six never reached the database")
        [(pid,)] = _blocked_inserts(probe)
        probe.execute("SELECT pg_terminate_backend(%s)", [pid])
        answers = [future.result(timeout=30) for future in followers]
        release()

    assert [answer.status_code for answer in answers] == [503] * 6
    assert {answer.json()["error"] for answer in answers} == {"unavailable"}
    assert not InboxEvent.objects.filter(company=linked_company).exists()

    # ProGBat delivers again: each stored once, answered 202.
    with ThreadPoolExecutor(max_workers=8) as pool:
        again = [future.result(timeout=30) for future in _send([first, *others], pool)]
    assert [answer.status_code for answer in again] == [202] * 7
    assert InboxEvent.objects.filter(company=linked_company).count() == 7


def test_many_concurrent_webhooks_are_each_stored_once(linked_company):
    """Without any lock: 60 deliveries of 40 events from 12 threads, some delivered twice at
    the same time; every answer is 202 or "duplicate", every event stored exactly once."""
    events = [_signed(linked_company, f"inv_{n}") for n in range(40)]
    deliveries = events + events[:20]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = [future.result(timeout=60) for future in _send(deliveries, pool)]
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(202) == 40
    assert statuses.count(200) == 20
    assert all(answer.json()["status"] == "duplicate"
               for answer in answers if answer.status_code == 200)
    stored = InboxEvent.objects.filter(company=linked_company)
    assert stored.count() == 40
    assert sorted(stored.values_list("webhook_id", flat=True)) == sorted(
        headers["HTTP_WEBHOOK_ID"] for _body, headers in events)


def test_inside_a_transaction_the_event_is_part_of_it(linked_company):
    """A caller's transaction (a test's, a management command's) keeps its own connection:
    the event is stored in it, and gone if it rolls back."""
    from django.db import transaction

    from partners.progbat import webhooks

    body, headers = _signed(linked_company, "inv_tx")
    wsgi_headers = {"webhook-id": headers["HTTP_WEBHOOK_ID"],
                    "webhook-timestamp": headers["HTTP_WEBHOOK_TIMESTAMP"],
                    "webhook-signature": headers["HTTP_WEBHOOK_SIGNATURE"]}

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        answer = webhooks.receive(body.encode(), wsgi_headers)
        assert answer.status == 202
        assert InboxEvent.objects.filter(source_ref="inv_tx").exists()
        assert not inbox._GROUP.waiting and not inbox._GROUP.leading
        raise Rollback
    assert not InboxEvent.objects.filter(source_ref="inv_tx").exists()
