"""The door of the books: a partner event is received into the inbox, or refused, here.

Partner packages verify their signatures and translate their payloads into an ``EntryDraft``;
accounting decides what happens to it (DESIGN §5.3). What it accepts, it journalises: the
cleaned draft is stored with the raw payload, and the journalising task only reads the draft.
"""

import functools
import logging
import os
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from meg.queue import enqueue

from ..chart import nearest_pcg_label
from ..drafts import draft_clean, encodable, parse_moment
from ..models import Entry, InboxEvent, Journal

logger = logging.getLogger(__name__)
# One journalising task per burst of webhooks: the first event of a burst sets this Redis key
# (SET NX EX, in the REDIS_URL database) and queues the task; the task deletes it before it
# looks at the inbox, so that an event stored after that queues the next one. The key's life
# only bounds how long a lost task (broker down, worker killed) silences the wake-ups; the
# sweeper catches up anyway.
WAKE_KEY = "meg:accounting:inbox-wake"
WAKE_SECONDS = 10
# A process asks the gate at most this often (its events of the meantime wait that long).
WAKE_COALESCE_SECONDS = 0.05
# A journalising task lets the burst that woke it gather this long before it reads the inbox
# (the gate stays set meanwhile, so nobody queues another task): while webhooks keep coming,
# the worker journalises them by hundreds rather than a few at a time, at a fraction of the
# CPU per invoice, and leaves the cores to the requests partners are waiting on.
GATHER_SECONDS = 0.25


@dataclass(frozen=True)
class Receipt:
    """What the door decided: ``queued``, ``duplicate``, ``ignored`` or ``exported``."""

    outcome: str
    reason: str = ""
    detail: str = ""


DUPLICATE = "duplicate"


def storable(value):
    """The payload as PostgreSQL's JSON can hold it: a NUL character or a lone surrogate
    becomes U+FFFD. (The partner package bounds the nesting depth.)"""
    if isinstance(value, str):
        return encodable(value).replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


# JSON text PostgreSQL's jsonb refuses: a NUL escape, an escaped UTF-16 surrogate (unpaired
# ones are refused; paired ones are rare enough to take the slower path too).
UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def inbox_seen(webhook_id):
    with scopes_disabled():
        return InboxEvent.objects.filter(webhook_id=webhook_id).exists()


def _known_account(number):
    return nearest_pcg_label(number) is not None


@dataclass(frozen=True)
class CompanyLookup:
    """Where an event belongs, as the partner knows it: SQL with ``%s`` parameters selecting
    at most one row of ``company_id, firm_id, not_before`` (documents made final before
    ``not_before`` are kept as ignored, links being not retroactive; NULL for none). The inbox
    runs it inside its INSERT, so that an event costs one round trip to the database."""

    sql: str
    params: tuple = ()


UNKNOWN_COMPANY = "unknown_company"


def company_lookup(company):
    """The company itself, with nothing ignored as made final before a link: for documents
    a user explicitly asked to take in (a confirmed backfill of a period before the link)."""
    return CompanyLookup("SELECT %s AS company_id, %s AS firm_id, "
                         "CAST(NULL AS timestamp with time zone) AS not_before",
                         (company.pk, company.firm_id))


COLUMNS = ("firm_id", "company_id", "partner", "webhook_id", "event_type", "source_ref",
           "source_version", "payload", "draft", "status", "reason", "received_at", "attempts")


@functools.cache
def _insert_sql(lookup_sql):
    """One statement finds the company and stores the event, deciding at once, in the
    database: a webhook-id already there stores nothing (the unique key decides: no row
    comes back), nor does an unknown company; an update of an exported document is kept as
    rejected, a document made final before the link as ignored. (Databases other than
    PostgreSQL; PostgreSQL's is ``_batch_sql``, for one event or many.)"""
    qn = connection.ops.quote_name
    return (
        f"INSERT INTO {qn(InboxEvent._meta.db_table)} ({', '.join(map(qn, COLUMNS))}) "  # noqa: S608
        "SELECT d.firm_id, d.company_id, %s, %s, %s, %s, %s, %s, %s, d.status, "
        "CASE d.status WHEN %s THEN %s WHEN %s THEN %s ELSE '' END, %s, 0 "
        "FROM (SELECT s.company_id, s.firm_id, "
        "CASE WHEN s.not_before > %s THEN %s "
        f"WHEN EXISTS (SELECT 1 FROM {qn(Entry._meta.db_table)} e "
        f"JOIN {qn(Journal._meta.db_table)} j ON j.id = e.journal_id "
        "WHERE j.company_id = s.company_id AND j.source = %s AND e.source_ref = %s "
        "AND e.state = %s) THEN %s ELSE %s END AS status "
        f"FROM ({lookup_sql}) AS s) AS d "
        "WHERE true ON CONFLICT (webhook_id) DO NOTHING RETURNING status")


# A row of ``_batch_sql``'s VALUES: the event's own values, then the lookup's parameters.
ROW_VALUES = ("partner", "webhook_id", "event_type", "source_ref", "source_version::integer",
              "payload::jsonb", "draft::jsonb", "ignored_reason", "rejected_reason",
              "received_at::timestamptz", "validated_at::timestamptz")


def _literal(value):
    """One of our own status codes, written into the SQL (letters and underscores only)."""
    if not re.fullmatch(r"[a-z_]+", value):
        raise ValueError(value)
    return f"'{value}'"


@functools.cache
def _batch_sql(lookup_sql, lookup_params, rows):
    """``_insert_sql`` for ``rows`` events in one statement (PostgreSQL): the events come as
    VALUES, the lookup runs for each of them (LATERAL, its ``%s`` reading the row's own
    parameters), and the inserted rows come back with their webhook-id."""
    qn = connection.ops.quote_name
    status = InboxEvent.Status
    names = [value.split("::")[0] for value in ROW_VALUES]
    keys = [f"k{n}" for n in range(lookup_params)]
    pieces = lookup_sql.split("%s")
    if len(pieces) != lookup_params + 1:
        raise ValueError("a CompanyLookup's SQL takes its parameters as %s, nothing else")
    lateral = "".join(piece + (f"v.{keys[n]}" if n < len(keys) else "")
                      for n, piece in enumerate(pieces))
    row = "(" + ", ".join(["%s" + ("::" + value.split("::")[1] if "::" in value else "")
                           for value in ROW_VALUES] + ["%s"] * lookup_params) + ")"
    return (
        f"INSERT INTO {qn(InboxEvent._meta.db_table)} ({', '.join(map(qn, COLUMNS))}) "  # noqa: S608
        "SELECT s.firm_id, s.company_id, v.partner, v.webhook_id, v.event_type, v.source_ref, "
        "v.source_version, v.payload, v.draft, d.status, "
        f"CASE d.status WHEN {_literal(status.IGNORED)} THEN v.ignored_reason "
        f"WHEN {_literal(status.REJECTED)} THEN v.rejected_reason ELSE '' END, "
        "v.received_at, 0 "
        f"FROM (VALUES {', '.join([row] * rows)}) AS v ({', '.join(names + keys)}) "
        f"CROSS JOIN LATERAL ({lateral}) AS s "
        "CROSS JOIN LATERAL (SELECT CASE WHEN s.not_before > v.validated_at "
        f"THEN {_literal(status.IGNORED)} "
        f"WHEN EXISTS (SELECT 1 FROM {qn(Entry._meta.db_table)} e "
        f"JOIN {qn(Journal._meta.db_table)} j ON j.id = e.journal_id "
        "WHERE j.company_id = s.company_id AND j.source = v.partner "
        f"AND e.source_ref = v.source_ref AND e.state = {_literal(Entry.State.EXPORTED)}) "
        f"THEN {_literal(status.REJECTED)} ELSE {_literal(status.RECEIVED)} END AS status) "
        "AS d ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id, status")


@functools.lru_cache(maxsize=8)
def _reasons(language):
    """(ignored, rejected, duplicate) reasons, translated once per language."""
    return (_("Document validé avant l'activation de la liaison (non rétroactif)."),
            _("Le document est déjà exporté en comptabilité : son écriture ne change plus."),
            _("Événement déjà reçu : sans nouvel effet."))


def _execute_one(db, sql, params):
    """Run one statement through Django's cursor (databases other than PostgreSQL), return
    its row (or None)."""
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# psycopg prepares a statement run this many times by itself; ours say ``prepare=True``.
PREPARE_NEVER_BY_ITSELF = 2**31 - 1


def _execute_all(db, sql, params):
    """PostgreSQL: run one statement that returns rows, return them all. Through a psycopg
    cursor binding its parameters server-side: Django's cursors bind client-side, writing the
    webhooks' JSON documents into the SQL text, which costs PostgreSQL three times more CPU
    to parse than the statement itself (measured: 0.6 vs 0.2 ms per webhook); and prepared
    once per connection, the same few texts running for every webhook. Errors are Django's all
    the same (``wrap_database_errors``)."""
    import psycopg

    db.ensure_connection()
    with db.wrap_database_errors:
        # One cursor per connection (``db`` is the thread's own), made again after a reconnect.
        kept = getattr(db, "_inbox_cursor", None)
        if kept is None or kept.connection is not db.connection or kept.closed:
            if db.connection.prepare_threshold is None:
                # Django turns psycopg's prepared statements off (None), and with them
                # ``prepare=True``. Planning this statement costs PostgreSQL about 2 ms (more
                # than running it for a few events): it is prepared once per connection.
                # Django's own cursors bind client-side and are never prepared anyway.
                db.connection.prepare_threshold = PREPARE_NEVER_BY_ITSELF
            kept = db._inbox_cursor = psycopg.Cursor(db.connection)
        kept.execute(sql, params, prepare=True)
        return kept.fetchall()


def _json_param(db, field_name, value, text=None):
    """A JSON column's parameter: ``text`` as it is when given (on PostgreSQL a typed jsonb
    literal, so that no Python object is dumped again), else ``value`` dumped."""
    field = InboxEvent._meta.get_field(field_name)
    if text is None:
        return field.get_db_prep_save(value, db)
    if db.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb(None, dumps=lambda _value: text)
    return text


def inbox_receive(*, company, webhook_id, event_type, draft, payload,
                  payload_text: str | None = None) -> Receipt:
    """Store a partner's entry draft for journalising, or say why not.

    ``company``: a ``CompanyLookup``. Raises ``DraftRefused`` (nothing stored) when the
    draft cannot become an entry, a ``DatabaseError`` when the database could not store it
    (nothing promised). Receipts: ``queued``, ``duplicate`` (this webhook-id was
    received before), ``unknown_company`` (the lookup found none), ``ignored`` (made final
    before the lookup's ``not_before``), ``exported`` (an update of an exported document,
    kept as rejected). ``payload_text``: the payload's JSON text as received, stored as it is
    when the database can hold it (else ``payload`` is made storable). One round trip to the
    database (the webhook's hot path), shared with the events that other threads of the
    process are storing meanwhile (``GroupCommit``): the receipt comes after the commit.
    """
    draft = draft_clean(draft, known_account=_known_account)
    reasons = _reasons(translation.get_language())
    if payload_text is not None and UNSTORABLE_ESCAPE.search(payload_text):
        payload_text = None
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of ``connection`` looks it up
    ops = db.ops
    payload_param = _json_param(db, "payload",
                                None if payload_text is not None else storable(payload),
                                payload_text)
    draft_param = _json_param(db, "draft", draft.as_json())
    received_at = ops.adapt_datetimefield_value(timezone.now())
    validated_at = ops.adapt_datetimefield_value(parse_moment(draft.validated_at))
    if db.vendor == "postgresql":
        event = Pending(company.sql, webhook_id, reasons, (
            draft.source, webhook_id, event_type, draft.source_ref, draft.source_version,
            payload_param, draft_param, reasons[0], reasons[1], received_at, validated_at,
            *company.params))
        if db.get_autocommit() and not db.in_atomic_block:
            return _GROUP.store(event)
        # Inside a transaction (a test's, a caller's): the event is part of it.
        receipts = _store_events(db, [event])
        if receipts[0].outcome == "queued":
            transaction.on_commit(inbox_wake)
        return receipts[0]
    status = InboxEvent.Status
    params = [
        draft.source, webhook_id, event_type, draft.source_ref, draft.source_version,
        payload_param, draft_param,
        status.IGNORED.value, reasons[0], status.REJECTED.value, reasons[1], received_at,
        validated_at, status.IGNORED.value, draft.source, draft.source_ref,
        Entry.State.EXPORTED.value, status.REJECTED.value, status.RECEIVED.value,
        *company.params]
    row = _execute_one(db, _insert_sql(company.sql), params)
    receipt = _receipt(row[0] if row else None, webhook_id, reasons, seen=None)
    if receipt.outcome == "queued":
        transaction.on_commit(inbox_wake)
    return receipt


def _receipt(stored_status, webhook_id, reasons, *, seen):
    """The receipt of one event from the status it was stored with (None: not stored).
    ``seen``: the webhook-ids of the inbox among those not stored (None: ask)."""
    status = InboxEvent.Status
    if stored_status is None:  # nothing stored: a webhook-id seen before, or no such company
        if webhook_id in seen if seen is not None else inbox_seen(webhook_id):
            return Receipt(DUPLICATE, detail=reasons[2])
        return Receipt(UNKNOWN_COMPANY)
    if stored_status == status.IGNORED:
        return Receipt("ignored", "validated_before_link", reasons[0])
    if stored_status == status.REJECTED:
        return Receipt("exported", "entry_exported", reasons[1])
    return Receipt("queued")


class Pending:
    """An event waiting for its statement: what ``_batch_sql`` needs of it, its receipt to
    come (or the error that prevented it) and the lock its thread waits on (taken from the
    start, released by the leader: cheaper than an ``Event``, one per webhook)."""

    __slots__ = ("error", "lead", "lookup_sql", "params", "ready", "reasons", "receipt",
                 "webhook_id")

    def __init__(self, lookup_sql, webhook_id, reasons, params):
        self.lookup_sql, self.webhook_id, self.reasons = lookup_sql, webhook_id, reasons
        self.params = params
        self.receipt = self.error = None
        self.ready = threading.Lock()
        self.ready.acquire()
        self.lead = False


def _store_events(db, events):
    """Store ``events`` (PostgreSQL; same lookup SQL, distinct webhook-ids) in one statement
    on ``db``; their receipts, in order. Raises the database's error."""
    first = events[0]
    lookup_params = len(first.params) - len(ROW_VALUES)
    sql = _batch_sql(first.lookup_sql, lookup_params, len(events))
    params = [value for event in events for value in event.params]
    stored = dict(_execute_all(db, sql, params))
    missing = [event.webhook_id for event in events if event.webhook_id not in stored]
    seen = set()
    if missing:  # rare: duplicates and unknown companies
        with scopes_disabled():
            seen = set(InboxEvent.objects.using(db.alias).filter(
                webhook_id__in=missing).values_list("webhook_id", flat=True))
    return [_receipt(stored.get(event.webhook_id), event.webhook_id, event.reasons,
                     seen=seen) for event in events]


class GroupCommit:
    """Group commit of the webhooks a process receives at once (PostgreSQL, autocommit).

    Each request thread hands its checked event over and waits; one of them, the leader,
    stores every event waiting then in ONE statement and ONE commit on its own connection,
    then hands each thread its receipt. Each receipt is given after the commit that made it
    true: a partner's 2xx is a promise. Events that arrive while a leader works wait for its
    commit, and the first of them leads the next statement with all of them. Nothing is
    kept in memory past a request's own wait: a thread that answers has its event stored or
    its error (a process that dies mid-statement answers nobody, and commits all or none).

    Two events with the same webhook-id never share a statement (the later one waits for
    the next, and is then told "duplicate" exactly as it would alone). A statement that fails
    is tried again one event at a time, so that an event's own error reaches only its own
    request; a database that is down fails each of them (the webhook answers 503).
    """

    def __init__(self, max_batch=64):
        self.lock = threading.Lock()
        self.waiting = []
        self.leading = False
        self.max_batch = max_batch

    def store(self, event):
        with self.lock:
            if self.leading:
                self.waiting.append(event)
            else:
                self.leading = True
                event.lead = True
        if not event.lead:
            event.ready.acquire()
            if not event.lead:  # stored (or failed) by a leader
                if event.error is not None:
                    raise event.error
                return event.receipt
        self._lead(event)
        if event.error is not None:
            raise event.error
        return event.receipt

    def _take(self, event):
        """The leader's statement: its own event and those waiting (same lookup, distinct
        webhook-ids, at most ``max_batch``); the others stay for the next one."""
        batch, ids, kept = [event], {event.webhook_id}, []
        with self.lock:
            for other in self.waiting:
                if (len(batch) < self.max_batch and other.webhook_id not in ids
                        and other.lookup_sql == event.lookup_sql):
                    batch.append(other)
                    ids.add(other.webhook_id)
                else:
                    kept.append(other)
            self.waiting = kept
        return batch

    def _lead(self, event):
        batch = self._take(event)
        try:
            _store_batch(connections[DEFAULT_DB_ALIAS], batch)
        except BaseException as error:  # never leave a waiting thread behind
            for other in batch:
                if other.receipt is None and other.error is None:
                    other.error = error
            raise
        finally:
            with self.lock:
                if self.waiting:
                    successor = self.waiting.pop(0)
                    successor.lead = True
                else:
                    successor = None
                    self.leading = False
            for other in batch:
                if other is not event:
                    other.ready.release()
            if successor is not None:
                successor.ready.release()


def _store_batch(db, batch):
    """Store ``batch`` on ``db`` and give each event its receipt or its error; wake the
    journalising task once if any was queued."""
    try:
        receipts = _store_events(db, batch)
    except DatabaseError as error:
        if len(batch) == 1:
            batch[0].error = error
            return
        logger.warning("inbox: a statement of %d events failed (%s); storing them one by one",
                       len(batch), error)
        receipts = []
        for event in batch:
            try:
                receipts.append(_store_events(db, [event])[0])
            except DatabaseError as own:
                event.error = own
                receipts.append(None)
    for event, receipt in zip(batch, receipts, strict=True):
        event.receipt = receipt
    if any(receipt is not None and receipt.outcome == "queued" for receipt in receipts):
        inbox_wake()  # autocommit: committed already


_GROUP = GroupCommit()


@functools.cache
def _wake_gate_shared():
    """The gate needs a Redis that every process sees, and tasks that go through a broker
    (not run in-process): both are the process's settings, read once."""
    from ..tasks import inbox_process

    return bool(settings.REDIS_URL) and not inbox_process.app.conf.task_always_eager


@functools.cache
def _wake_redis():
    """A plain Redis client, kept by the process (redis-py reconnects after a fork): Django's
    cache would build a client per call, and this runs for every webhook."""
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1,
                                socket_timeout=1)


def inbox_wake():
    """Queue the journalising task, once per burst (see ``WAKE_KEY``); never raises."""
    if _wake_gate_shared():
        _WAKER.request()
    else:
        _wake_now(gate=False)


def _wake_now(*, gate=True):
    from ..tasks import inbox_process

    if gate:
        try:
            if not _wake_redis().set(WAKE_KEY, 1, nx=True, ex=WAKE_SECONDS):
                return  # a task is queued and has not started yet: it will see the events
        except Exception:
            # Redis is down, and so, most likely, is the broker (one server in production):
            # publishing would only hang on it. The events are stored; the sweeper queues them.
            logger.warning("%s not queued (wake-up gate unavailable); its sweeper will queue it",
                           inbox_process.name)
            return
    enqueue(inbox_process)


class _Waker:
    """Asks the gate once for all the events this process stored meanwhile, from a thread of
    its own: concurrent requests cost a flag each, not a Redis round trip each.

    Each ask comes after the commit of every event it answers for (the flag is raised after
    commit and lowered before asking), so the task that the gate says is queued and not yet
    started will see them. Should the process end with the flag raised, the sweeper queues
    the task within a minute: the events are stored already."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = None
        self.pending = None

    def request(self):
        if self.pid != os.getpid():  # first use in this process (or a forked child)
            with self.lock:
                if self.pid != os.getpid():
                    self.pending = threading.Event()
                    threading.Thread(target=self._run, args=(self.pending,),
                                     name="meg-inbox-wake", daemon=True).start()
                    self.pid = os.getpid()
        if not self.pending.is_set():  # raised already: its ask is still to come
            self.pending.set()

    @staticmethod
    def _run(pending):
        while True:
            pending.wait()
            pending.clear()
            try:
                _wake_now()
            except Exception:  # never let the thread die: the next event asks again
                logger.exception("inbox wake-up failed")
            time.sleep(WAKE_COALESCE_SECONDS)  # what arrives meanwhile is asked for once


_WAKER = _Waker()


def inbox_wake_help():
    """Called by a journalising task that found a full batch: queue one more task if none is
    waiting (with a broker only: run in-process, the task simply goes on)."""
    if _wake_gate_shared():
        _wake_now()


def inbox_gather():
    """Called by a journalising task before ``inbox_wake_reset``: the burst that woke it
    gathers for ``GATHER_SECONDS`` (with a broker only: run in-process, nothing gathers)."""
    if _wake_gate_shared():
        time.sleep(GATHER_SECONDS)


def inbox_wake_reset():
    """Called by the journalising task before it reads the inbox: events stored from now
    on queue a new task."""
    if not _wake_gate_shared():
        return
    try:
        _wake_redis().delete(WAKE_KEY)
    except Exception:
        logger.warning("inbox wake-up gate unavailable")
