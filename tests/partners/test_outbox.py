"""The outbox relay: leases instead of row locks, every attempt kept, bugs and vanished objects
settled instead of waiting for ever."""

import datetime
import threading
import time
import uuid

import pytest
import requests
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from companies.models import Company
from partners.common import http, outbox
from partners.common.exceptions import PartnerRejected, PartnerUnavailable
from partners.common.http import json_call
from partners.common.models import OutboxAttempt, OutboxMessage
from partners.common.outbox import (
    GIVE_UP_HANDLERS,
    HANDLERS,
    backoff,
    backoff_base,
    outbox_deliver_one,
    outbox_due_ids,
    register_handler,
)
from partners.common.tasks import outbox_deliver
from tests import factories


@pytest.fixture
def handlers():
    """Register test handlers with ``register_handler``; the real ones are put back after."""
    saved = dict(HANDLERS), dict(GIVE_UP_HANDLERS)
    yield register_handler
    HANDLERS.clear()
    HANDLERS.update(saved[0])
    GIVE_UP_HANDLERS.clear()
    GIVE_UP_HANDLERS.update(saved[1])


def make_message(company, action):
    return OutboxMessage.objects.create(
        firm=company.firm, company=company, partner="libeo", action=action,
        payload={"n": 1}, idempotency_key=f"test:{uuid.uuid4().hex}")


def reloaded(message):
    return OutboxMessage.objects.get(pk=message.pk)


def attempts_of(message):
    return list(OutboxAttempt.objects.filter(message=message).order_by("number"))


class InThread(threading.Thread):
    """A worker with its own database connection; its result or exception is kept."""

    def __init__(self, function, *args):
        super().__init__(daemon=True)
        self.function, self.args = function, args
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.function(*self.args)
        except BaseException as error:  # re-raised in the test's thread
            self.error = error
        finally:
            connection.close()

    def outcome(self, timeout=10):
        self.join(timeout)
        assert not self.is_alive(), "the worker thread is stuck"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.mark.parametrize("bug", ["key_error", "integrity_error"])
def test_a_handler_bug_fails_the_message_with_its_reason_and_gives_up(company, handlers, bug):
    given_up = []

    def handler(message):
        if bug == "key_error":
            return message.payload["missing"]
        # A write that breaks the handler's own transaction: it is rolled back, the outcome
        # is still recorded.
        OutboxMessage.objects.create(firm=message.firm, partner="libeo", action="x",
                                     idempotency_key=message.idempotency_key)

    handlers("test.buggy", handler, on_give_up=lambda m: given_up.append(m.last_error))
    message = make_message(company, "test.buggy")
    assert outbox_deliver_one(message.pk) is None

    message = reloaded(message)
    expected = "KeyError" if bug == "key_error" else "IntegrityError"
    assert message.status == "failed" and message.last_error.startswith(f"{expected}: ")
    assert (message.lease_token, message.leased_until) == ("", None)
    (attempt,) = attempts_of(message)
    assert (attempt.number, attempt.outcome) == (1, "failed")
    assert attempt.error.startswith(f"{expected}: ") and attempt.duration_ms is not None
    assert given_up == [message.last_error]
    # Settled: another delivery of the same task does nothing.
    assert outbox_deliver_one(message.pk) is None
    assert len(attempts_of(message)) == 1


def test_a_handler_whose_object_is_gone_settles_quietly(company, handlers, caplog):
    calls, given_up = [], []

    def handler(message):
        calls.append(message.pk)
        return {"name": Company.objects.get(pk=0).name}

    handlers("test.gone", handler, on_give_up=given_up.append)
    message = make_message(company, "test.gone")
    caplog.set_level("INFO")
    assert outbox_deliver_one(message.pk) is None
    assert outbox_deliver_one(message.pk) is None  # no retry

    message = reloaded(message)
    assert message.status == "skipped" and message.get_status_display() == "Sans objet (supprimé)"
    assert message.next_attempt_at is None and "DoesNotExist" in message.last_error
    (attempt,) = attempts_of(message)
    assert attempt.outcome == "skipped" and "DoesNotExist" in attempt.error
    assert calls == [message.pk] and given_up == []
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert message.pk not in outbox_due_ids()


def within_backoff(delay, attempts):
    """A retry delay is the schedule's ±20 % (jittered, so never compared exactly)."""
    base = backoff_base(attempts)
    return base * 0.8 <= delay <= base * 1.2


class FakePartner:
    """Stands in for ``requests.request``: answers the given ``(status, body[, headers])``
    in turn."""

    def __init__(self, *answers, delay=0.0):
        self.answers, self.delay = list(answers), delay

    def __call__(self, method, url, **kwargs):
        time.sleep(self.delay)
        status, body, *headers = self.answers.pop(0)
        response = requests.Response()
        response.status_code, response._content = status, body
        response.headers.update(headers[0] if headers else {})
        return response


def test_each_attempt_is_recorded_with_its_outcome_duration_and_status_code(
        company, handlers, monkeypatch):
    monkeypatch.setattr(http.requests, "request", FakePartner(
        (503, b"<html>down</html>"), (201, b'{"id": 7}'), delay=0.02))
    handlers("test.pay", lambda message: json_call(
        "Test", "POST", "https://partner.invalid/pay", timeout=1)[1])
    message = make_message(company, "test.pay")

    assert within_backoff(outbox_deliver_one(message.pk), 1)
    message = reloaded(message)
    assert (message.status, message.attempts) == ("retrying", 1)
    assert message.last_error == "Partenaire indisponible (HTTP 503)"
    assert message.next_attempt_at > timezone.now()

    assert outbox_deliver_one(message.pk) is None
    message = reloaded(message)
    assert (message.status, message.attempts, message.result) == ("sent", 2, {"id": 7})
    assert message.last_error == ""

    first, second = attempts_of(message)
    assert (first.number, first.outcome, first.status_code) == (1, "retry", 503)
    assert first.error == "Partenaire indisponible (HTTP 503)"
    assert (second.number, second.outcome, second.status_code, second.error) == (
        2, "sent", 201, "")
    for attempt in (first, second):
        assert attempt.duration_ms >= 20 and attempt.finished_at >= attempt.started_at


def test_a_partner_out_of_reach_is_retried_by_the_task_without_status_code(
        company, handlers, monkeypatch):
    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(http.requests, "request", unreachable)
    handlers("test.pay", lambda message: json_call(
        "Test", "POST", "https://partner.invalid/pay", timeout=1)[1])
    message = make_message(company, "test.pay")
    outbox_deliver.delay(message.pk)  # eager in tests: the retry is left to the sweeper

    message = reloaded(message)
    assert message.status == "retrying"
    (attempt,) = attempts_of(message)
    assert (attempt.outcome, attempt.status_code) == ("retry", None)
    assert attempt.error == "Partenaire indisponible (ConnectionError)"


def test_a_partner_exception_carries_the_status_code(monkeypatch):
    monkeypatch.setattr(http.requests, "request", FakePartner(
        (503, b""), (422, b'{"error": "bad_iban", "detail": "IBAN invalide"}')))
    with pytest.raises(PartnerUnavailable) as unavailable:
        json_call("Test", "GET", "https://partner.invalid/", timeout=1)
    assert unavailable.value.status_code == 503
    with pytest.raises(PartnerRejected) as rejected:
        json_call("Test", "GET", "https://partner.invalid/", timeout=1)
    assert (rejected.value.code, rejected.value.status_code) == ("bad_iban", 422)


@pytest.mark.django_db(transaction=True)
def test_no_lock_on_the_message_is_held_during_the_partner_call(company, handlers):
    calling, release = threading.Event(), threading.Event()
    calls = []

    def slow(message):
        calls.append(message.pk)
        calling.set()
        assert release.wait(10)
        return {"slow": True}

    handlers("test.slow", slow)
    handlers("test.fast", lambda message: {"fast": True})
    slow_message = make_message(company, "test.slow")
    fast_message = make_message(company, "test.fast")

    worker = InThread(outbox_deliver_one, slow_message.pk)
    worker.start()
    try:
        assert calling.wait(10), "the slow handler never ran"
        # Meanwhile, on another connection: the other message is claimed and delivered...
        assert outbox_deliver_one(fast_message.pk) is None
        assert reloaded(fast_message).status == "sent"
        # ...the message being sent can be locked without waiting (no lock held on it)...
        with transaction.atomic():
            row = OutboxMessage.objects.select_for_update(nowait=True).get(pk=slow_message.pk)
            assert row.status == "sending" and row.leased_until > timezone.now()
        # ...and it is leased: a second delivery comes back later instead of calling again.
        assert outbox_deliver_one(slow_message.pk) > 0
        assert slow_message.pk not in outbox_due_ids()
    finally:
        release.set()
    assert worker.outcome() is None
    assert calls == [slow_message.pk]
    assert reloaded(slow_message).status == "sent"
    assert [a.outcome for a in attempts_of(slow_message)] == ["sent"]


@pytest.mark.django_db(transaction=True)
def test_an_expired_lease_is_claimed_again_and_the_late_result_is_ignored(
        company, handlers, settings):
    settings.OUTBOX_LEASE_SECONDS = 2
    calling, release = threading.Event(), threading.Event()
    calls = []

    def handler(message):
        calls.append(message.attempts)
        if len(calls) == 1:  # the worker that will overrun its lease
            calling.set()
            assert release.wait(10)
            return {"by": "stale"}
        return {"by": "fresh"}

    handlers("test.lease", handler)
    message = make_message(company, "test.lease")
    stale = InThread(outbox_deliver_one, message.pk)
    stale.start()
    try:
        assert calling.wait(10), "the first handler never ran"
        deadline = time.monotonic() + 10
        while message.pk not in outbox_due_ids():  # the sweeper sees the expired lease
            assert time.monotonic() < deadline, "the lease never expired"
            time.sleep(0.2)
        assert outbox_deliver_one(message.pk) is None
        fresh = reloaded(message)
        assert (fresh.status, fresh.result, fresh.attempts) == ("sent", {"by": "fresh"}, 2)
    finally:
        release.set()
    assert stale.outcome() is None

    # The stale worker's result did not overwrite the newer outcome.
    after = reloaded(message)
    assert (after.status, after.result, after.sent_at) == ("sent", {"by": "fresh"},
                                                           fresh.sent_at)
    assert calls == [1, 2]
    first, second = attempts_of(message)
    assert (first.number, first.outcome) == (1, "expired")
    assert "ignoré" in first.error and first.finished_at is not None
    assert (second.number, second.outcome) == (2, "sent")


def test_the_admin_shows_the_attempts_and_sends_again(company, handlers,
                                                     django_capture_on_commit_callbacks):
    handlers("test.buggy", lambda message: message.payload["missing"])
    message = make_message(company, "test.buggy")
    outbox_deliver_one(message.pk)
    staff = Client()
    staff.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    page = staff.get(f"/admin/partners_common/outboxmessage/{message.pk}/change/")
    assert page.status_code == 200
    assert "KeyError: &#x27;missing&#x27;" in page.content.decode()
    listing = staff.get("/admin/partners_common/outboxattempt/")
    assert listing.status_code == 200 and "KeyError" in listing.content.decode()

    # « Renvoyer maintenant » (the bug is fixed meanwhile): a second attempt, on record.
    handlers("test.buggy", lambda message: {"fixed": True})
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post("/admin/partners_common/outboxmessage/", {
            "action": "deliver_now", "_selected_action": [message.pk]})
    assert answer.status_code == 302
    assert reloaded(message).status == "sent"
    assert [a.outcome for a in attempts_of(message)] == ["failed", "sent"]


def test_retry_now_requeues_a_failed_message_but_not_one_being_sent(
        company, handlers, django_capture_on_commit_callbacks):
    from partners.common.outbox import outbox_retry_now

    sent_calls = []
    handlers("test.ok", lambda message: sent_calls.append(message.pk) or {"ok": True})
    failed = make_message(company, "test.ok")
    OutboxMessage.objects.filter(pk=failed.pk).update(status="failed", attempts=3)
    busy = make_message(company, "test.ok")
    OutboxMessage.objects.filter(pk=busy.pk).update(
        status="sending", lease_token="x" * 32,
        leased_until=timezone.now() + datetime.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        retried = outbox_retry_now(OutboxMessage.objects.filter(pk__in=[failed.pk, busy.pk]))
    assert retried == 1
    assert sent_calls == [failed.pk]
    assert reloaded(failed).status == "sent" and reloaded(busy).status == "sending"



def test_a_task_time_limit_in_the_call_is_retried(company, handlers):
    from celery.exceptions import SoftTimeLimitExceeded

    def hanging(message):
        raise SoftTimeLimitExceeded()

    handlers("test.hanging", hanging)
    message = make_message(company, "test.hanging")
    assert within_backoff(outbox_deliver_one(message.pk), 1)
    assert reloaded(message).status == "retrying"
    assert [a.outcome for a in attempts_of(message)] == ["retry"]


# ---- retry policy: capped, jittered, Retry-After honoured ---------------------------------

def test_retries_are_fast_then_slower_capped_and_end_within_about_an_hour():
    schedule = [backoff_base(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    # A passing fault is retried within seconds (capped at 8 s)...
    assert schedule[:6] == [1, 2, 4, 8, 8, 8]
    # ...an outage less and less often, never more than 10 minutes apart...
    assert schedule[6:9] == [30, 60, 120] and max(schedule) == 600
    assert schedule == sorted(schedule)
    # ...and the message gives up about an hour after its first try, not after minutes or days.
    assert 30 * 60 <= sum(schedule) <= 2 * 3600


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 5, 6, 7, 12, 15])
def test_each_delay_is_jittered_within_20_percent(attempts):
    delays = [backoff(attempts) for _ in range(500)]
    base = backoff_base(attempts)
    assert all(base * 0.8 <= delay <= base * 1.2 for delay in delays)
    # Spread over the band, so that a burst of failures does not come back in lockstep.
    assert min(delays) < base * 0.9 and max(delays) > base * 1.1
    assert len(set(delays)) > 100


def test_retry_after_is_a_floor_and_is_capped():
    assert backoff(1, retry_after=30) == 30
    assert within_backoff(backoff(4, retry_after=0.5), 4)  # shorter than ours: ours
    assert backoff(1, retry_after=7 * 24 * 3600) == outbox.MAX_RETRY_AFTER_SECONDS


@pytest.mark.parametrize(("status", "header", "expected"), [
    (429, {"Retry-After": "120"}, 120),
    (503, {"Retry-After": "45"}, 45),
    (503, {}, None),
    (500, {"Retry-After": "soon"}, None),
])
def test_429_and_5xx_are_unavailable_with_their_retry_after(monkeypatch, status, header,
                                                             expected):
    monkeypatch.setattr(http.requests, "request", FakePartner((status, b"", header)))
    with pytest.raises(PartnerUnavailable) as unavailable:
        json_call("Test", "POST", "https://partner.invalid/", timeout=1)
    assert (unavailable.value.status_code, unavailable.value.retry_after) == (status, expected)


def test_retry_after_as_an_http_date():
    now = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    assert http.retry_after_seconds("Tue, 01 Dec 2026 09:01:30 GMT", now=now) == 90
    assert http.retry_after_seconds("Tue, 01 Dec 2026 08:00:00 GMT", now=now) == 0
    assert http.retry_after_seconds("", now=now) is None


def test_the_relay_waits_for_the_partners_retry_after(company, handlers, monkeypatch):
    monkeypatch.setattr(http.requests, "request", FakePartner(
        (429, b'{"error": "rate_limited"}', {"Retry-After": "90"}), (201, b'{"id": 8}')))
    handlers("test.pay", lambda message: json_call(
        "Test", "POST", "https://partner.invalid/pay", timeout=1)[1])
    message = make_message(company, "test.pay")
    before = timezone.now()

    assert outbox_deliver_one(message.pk) == 90
    message = reloaded(message)
    assert message.status == "retrying"  # a 429 is retried, never a final refusal
    waited = (message.next_attempt_at - before).total_seconds()
    assert 89 <= waited <= 92
    assert message.last_error == "Partenaire indisponible (HTTP 429, Retry-After 90 s)"
    (attempt,) = attempts_of(message)
    assert (attempt.outcome, attempt.status_code) == ("retry", 429)
    # The sweeper does not bring it back early either (however old the message).
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=before - datetime.timedelta(hours=1))
    assert message.pk not in outbox_due_ids()

    assert outbox_deliver_one(message.pk) is None
    assert reloaded(message).status == "sent"


def test_a_message_failing_every_time_gives_up_after_max_attempts(company, handlers):
    given_up = []

    def down(message):
        raise PartnerUnavailable("HTTP 503", status_code=503)

    handlers("test.down", down, on_give_up=lambda m: given_up.append(m.pk))
    message = make_message(company, "test.down")
    delays = [outbox_deliver_one(message.pk) for _ in range(outbox.MAX_ATTEMPTS)]
    assert all(within_backoff(d, n) for n, d in enumerate(delays[:-1], start=1))
    assert delays[-1] is None
    message = reloaded(message)
    assert (message.status, message.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert given_up == [message.pk]
