"""The door of the books: a partner event is received into the inbox, or refused, here.

Partner packages verify their signatures and translate their payloads into an ``EntryDraft``;
accounting decides what happens to it (DESIGN §5.3). What it accepts, it journalises: the
cleaned draft is stored with the raw payload, and the journalising task only reads the draft.
"""

import datetime
import functools
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from meg.queue import enqueue

from ..chart import nearest_pcg_label
from ..drafts import draft_clean
from ..models import Entry, InboxEvent, Journal

logger = logging.getLogger(__name__)
# One journalising task per burst of webhooks: the first event of a burst sets this Redis key
# (SET NX EX, in the REDIS_URL database) and queues the task; the task deletes it before it
# looks at the inbox, so that an event stored after that queues the next one. The key's life
# only bounds how long a lost task (broker down, worker killed) silences the wake-ups; the
# sweeper catches up anyway.
WAKE_KEY = "meg:accounting:inbox-wake"
WAKE_SECONDS = 10


@dataclass(frozen=True)
class Receipt:
    """What the door decided: ``queued``, ``duplicate``, ``ignored`` or ``exported``."""

    outcome: str
    reason: str = ""
    detail: str = ""


DUPLICATE = "duplicate"


def storable(value):
    """The payload as PostgreSQL's JSON can hold it: a NUL character becomes U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
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


@functools.cache
def _insert_sql():
    """One statement stores the event and decides at once, in the database: a webhook-id
    already there stores nothing (the unique key decides: no row comes back), an update of
    an exported document is kept as rejected."""
    qn = connection.ops.quote_name
    columns = ("firm_id", "company_id", "partner", "webhook_id", "event_type", "source_ref",
               "source_version", "payload", "draft", "status", "reason", "received_at",
               "attempts")
    exported = (f"EXISTS (SELECT 1 FROM {qn(Entry._meta.db_table)} e "  # noqa: S608
                f"JOIN {qn(Journal._meta.db_table)} j ON j.id = e.journal_id "
                "WHERE j.company_id = %(company)s AND j.source = %(source)s "
                "AND e.source_ref = %(ref)s AND e.state = %(exported)s)")
    return (f"INSERT INTO {qn(InboxEvent._meta.db_table)} ({', '.join(map(qn, columns))}) "  # noqa: S608
            "VALUES (%(firm)s, %(company)s, %(source)s, %(webhook_id)s, %(event_type)s, "
            "%(ref)s, %(version)s, %(payload)s, %(draft)s, "
            f"CASE WHEN %(ignored)s THEN %(ignored_status)s WHEN {exported} "
            "THEN %(rejected_status)s ELSE %(received_status)s END, "
            f"CASE WHEN %(ignored)s THEN %(ignored_reason)s WHEN {exported} "
            "THEN %(rejected_reason)s ELSE '' END, %(now)s, 0) "
            "ON CONFLICT (webhook_id) DO NOTHING RETURNING status")


def inbox_receive(*, company, webhook_id, event_type, draft, payload,
                  not_before: datetime.datetime | None = None,
                  payload_text: str | None = None) -> Receipt:
    """Store a partner's entry draft for journalising, or say why not.

    Raises ``DraftRefused`` (nothing stored) when the draft cannot become an entry.
    ``not_before``: documents made final before it are kept as ignored (links are not
    retroactive). An update of an exported document is kept as rejected. ``company`` needs
    only its ``pk`` and ``firm_id``. ``payload_text``: the payload's JSON text as received,
    stored as it is when the database can hold it (else ``payload`` is made storable). One
    round trip to the database (the webhook's hot path).
    """
    draft = draft_clean(draft, known_account=_known_account)
    fields = {field.name: field for field in InboxEvent._meta.concrete_fields}
    ignored_reason = _("Document validé avant l'activation de la liaison (non rétroactif).")
    rejected_reason = _("Le document est déjà exporté en comptabilité : son écriture ne "
                        "change plus.")
    params = {
        "firm": company.firm_id, "company": company.pk, "source": draft.source,
        "webhook_id": webhook_id, "event_type": event_type, "ref": draft.source_ref,
        "version": draft.source_version,
        "payload": payload_text if payload_text is not None
        and not UNSTORABLE_ESCAPE.search(payload_text)
        else fields["payload"].get_db_prep_save(storable(payload), connection),
        "draft": fields["draft"].get_db_prep_save(draft.as_json(), connection),
        "ignored": bool(not_before is not None
                        and parse_datetime(draft.validated_at) < not_before),
        "ignored_status": InboxEvent.Status.IGNORED.value, "ignored_reason": ignored_reason,
        "rejected_status": InboxEvent.Status.REJECTED.value, "rejected_reason": rejected_reason,
        "received_status": InboxEvent.Status.RECEIVED.value,
        "exported": Entry.State.EXPORTED.value, "now": timezone.now()}
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), params)
        row = cursor.fetchone()
    if row is None:  # this webhook-id was there already (or arrived concurrently)
        return Receipt(DUPLICATE, detail=_("Événement déjà reçu : sans nouvel effet."))
    status = row[0]
    if status == InboxEvent.Status.IGNORED:
        return Receipt("ignored", "validated_before_link", ignored_reason)
    if status == InboxEvent.Status.REJECTED:
        return Receipt("exported", "entry_exported", rejected_reason)
    transaction.on_commit(inbox_wake)
    return Receipt("queued")


def _wake_gate_shared():
    """The gate needs a Redis that every process sees, and tasks that go through a broker
    (not run in-process)."""
    return _gate_usable(settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER)


@functools.lru_cache(maxsize=4)
def _gate_usable(redis_url, eager):
    from ..tasks import inbox_process

    return bool(redis_url) and not eager and not inbox_process.app.conf.task_always_eager


@functools.cache
def _wake_redis():
    """A plain Redis client, kept by the process (redis-py reconnects after a fork): Django's
    cache would build a client per call, and this runs for every webhook."""
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1,
                                socket_timeout=1)


def inbox_wake():
    """Queue the journalising task, once per burst (see ``WAKE_KEY``); never raises."""
    from ..tasks import inbox_process

    if _wake_gate_shared():
        try:
            if not _wake_redis().set(WAKE_KEY, 1, nx=True, ex=WAKE_SECONDS):
                return  # a task is queued and has not started yet: it will see this event
        except Exception:  # the cache is down: queue anyway (that may fail and be logged)
            logger.warning("inbox wake-up gate unavailable; queueing the task anyway")
    enqueue(inbox_process)


def inbox_wake_reset():
    """Called by the journalising task before it reads the inbox: events stored from now
    on queue a new task."""
    if not _wake_gate_shared():
        return
    try:
        _wake_redis().delete(WAKE_KEY)
    except Exception:
        logger.warning("inbox wake-up gate unavailable")
