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
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
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


@functools.cache
def _insert_sql(lookup_sql):
    """One statement finds the company and stores the event, deciding at once, in the
    database: a webhook-id already there stores nothing (the unique key decides: no row
    comes back), nor does an unknown company; an update of an exported document is kept as
    rejected, a document made final before the link as ignored."""
    qn = connection.ops.quote_name
    columns = ("firm_id", "company_id", "partner", "webhook_id", "event_type", "source_ref",
               "source_version", "payload", "draft", "status", "reason", "received_at",
               "attempts")
    return (
        f"INSERT INTO {qn(InboxEvent._meta.db_table)} ({', '.join(map(qn, columns))}) "  # noqa: S608
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


@functools.lru_cache(maxsize=8)
def _reasons(language):
    """(ignored, rejected, duplicate) reasons, translated once per language."""
    return (_("Document validé avant l'activation de la liaison (non rétroactif)."),
            _("Le document est déjà exporté en comptabilité : son écriture ne change plus."),
            _("Événement déjà reçu : sans nouvel effet."))


def _execute_one(db, sql, params):
    """Run one statement, return its row (or None). On PostgreSQL through a psycopg cursor
    binding its parameters server-side: Django's cursors bind client-side, writing the
    webhook's two JSON documents into the SQL text, which costs PostgreSQL three times more
    CPU to parse than the statement itself (measured: 0.6 vs 0.2 ms per webhook). Errors
    are Django's all the same (``wrap_database_errors``)."""
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    import psycopg

    db.ensure_connection()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


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
    draft cannot become an entry. Receipts: ``queued``, ``duplicate`` (this webhook-id was
    received before), ``unknown_company`` (the lookup found none), ``ignored`` (made final
    before the lookup's ``not_before``), ``exported`` (an update of an exported document,
    kept as rejected). ``payload_text``: the payload's JSON text as received, stored as it is
    when the database can hold it (else ``payload`` is made storable). One round trip to the
    database (the webhook's hot path).
    """
    draft = draft_clean(draft, known_account=_known_account)
    ignored_reason, rejected_reason, duplicate = _reasons(translation.get_language())
    if payload_text is not None and UNSTORABLE_ESCAPE.search(payload_text):
        payload_text = None
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of ``connection`` looks it up
    ops, status = db.ops, InboxEvent.Status
    params = [
        draft.source, webhook_id, event_type, draft.source_ref, draft.source_version,
        _json_param(db, "payload", None if payload_text is not None else storable(payload),
                    payload_text),
        _json_param(db, "draft", draft.as_json()),
        status.IGNORED.value, ignored_reason, status.REJECTED.value, rejected_reason,
        ops.adapt_datetimefield_value(timezone.now()),
        ops.adapt_datetimefield_value(parse_moment(draft.validated_at)),
        status.IGNORED.value, draft.source, draft.source_ref, Entry.State.EXPORTED.value,
        status.REJECTED.value, status.RECEIVED.value, *company.params]
    row = _execute_one(db, _insert_sql(company.sql), params)
    if row is None:  # nothing stored: a webhook-id seen before, or no such company
        if inbox_seen(webhook_id):
            return Receipt(DUPLICATE, detail=duplicate)
        return Receipt(UNKNOWN_COMPANY)
    if row[0] == status.IGNORED:
        return Receipt("ignored", "validated_before_link", ignored_reason)
    if row[0] == status.REJECTED:
        return Receipt("exported", "entry_exported", rejected_reason)
    transaction.on_commit(inbox_wake)
    return Receipt("queued")


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


def inbox_wake_reset():
    """Called by the journalising task before it reads the inbox: events stored from now
    on queue a new task."""
    if not _wake_gate_shared():
        return
    try:
        _wake_redis().delete(WAKE_KEY)
    except Exception:
        logger.warning("inbox wake-up gate unavailable")
