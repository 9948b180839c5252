"""The journalising task is queued once per burst of webhooks, never zero times for an event
stored after the task started (the gate: accounting.services.inbox.WAKE_KEY in Redis)."""

import time

import pytest
from django.conf import settings

from accounting import tasks
from accounting.services import inbox

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the gate lives in Redis")


@pytest.fixture
def queued(monkeypatch):
    """The gate in use (as with a broker), the enqueues recorded instead of sent."""
    calls = []
    monkeypatch.setattr(inbox, "_wake_gate_shared", lambda: True)
    monkeypatch.setattr(inbox, "enqueue", lambda task, *args: calls.append(task.name))
    redis = inbox._wake_redis()
    redis.delete(inbox.WAKE_KEY)
    yield calls
    redis.delete(inbox.WAKE_KEY)


def test_a_burst_queues_one_task_and_a_started_task_reopens_the_gate(queued):
    for _ in range(50):
        inbox._wake_now()
    assert queued == ["accounting.tasks.inbox_process"]
    inbox.inbox_wake_reset()  # what the task does before reading the inbox
    inbox._wake_now()
    inbox._wake_now()
    assert len(queued) == 2
    assert 0 < inbox._wake_redis().ttl(inbox.WAKE_KEY) <= inbox.WAKE_SECONDS


def test_the_task_reopens_the_gate_before_it_reads_the_inbox(queued, monkeypatch):
    order = []
    monkeypatch.setattr(inbox, "inbox_wake_reset", lambda: order.append("reset"))
    monkeypatch.setattr(tasks.ingestion, "inbox_process",
                        lambda limit: order.append("read") or 0)
    tasks.inbox_process.run()
    assert order == ["reset", "read"]


def test_requests_of_concurrent_webhooks_are_asked_by_the_process_thread(queued):
    for _ in range(20):
        inbox.inbox_wake()
    deadline = time.monotonic() + 5
    while not queued and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert queued == ["accounting.tasks.inbox_process"]


def test_without_redis_the_sweeper_queues_the_task(queued, monkeypatch, caplog):
    """Redis down (and with it, in production, the broker): no publish that would hang; the
    events are stored, and the periodic sweeper queues them once Redis is back."""

    class Down:
        def set(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(inbox, "_wake_redis", lambda: Down())
    inbox._wake_now()
    assert queued == []
    assert "inbox_process not queued" in caplog.text


def test_a_task_with_a_backlog_asks_one_more_worker_to_help(queued, monkeypatch):
    batches = iter([tasks.ingestion.BATCH_SIZE, tasks.ingestion.BATCH_SIZE])
    monkeypatch.setattr(tasks.ingestion, "inbox_process", lambda limit: next(batches, 3))
    tasks.inbox_process.run()
    assert queued == ["accounting.tasks.inbox_process"]  # one helper, however long the backlog
    tasks.inbox_process.run()  # …which finds no full batch: it asks nobody
    assert len(queued) == 1
