"""The door of the books: a partner event is received into the inbox, or refused, here.

Partner packages verify their signatures and translate their payloads into an ``EntryDraft``;
accounting decides what happens to it (DESIGN §5.3). What it accepts, it journalises: the
cleaned draft is stored with the raw payload, and the journalising task only reads the draft.
"""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from meg.queue import enqueue_on_commit

from ..chart import nearest_pcg_label
from ..drafts import draft_clean, encodable, parse_moment
from ..models import Entry, InboxEvent
from .journals import journal_for


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


def inbox_seen(webhook_id):
    with scopes_disabled():
        return InboxEvent.objects.filter(webhook_id=webhook_id).exists()


def inbox_receive(*, company, webhook_id, event_type, draft, payload,
                  not_before: datetime.datetime | None = None) -> Receipt:
    """Store a partner's entry draft for journalising, or say why not.

    Raises ``DraftRefused`` (nothing stored) when the draft cannot become an entry.
    ``not_before``: documents made final before it are kept as ignored (links are not
    retroactive). An update of an exported document is kept as rejected.
    """
    draft = draft_clean(draft, known_account=lambda number: nearest_pcg_label(number)
                        is not None)
    row = InboxEvent(firm_id=company.firm_id, company=company, partner=draft.source,
                     webhook_id=webhook_id, event_type=event_type, source_ref=draft.source_ref,
                     source_version=draft.source_version, payload=storable(payload),
                     draft=draft.as_json())
    receipt = Receipt("queued")
    with scopes_disabled():
        if not_before is not None and parse_moment(draft.validated_at) < not_before:
            row.status, row.reason = InboxEvent.Status.IGNORED, _(
                "Document validé avant l'activation de la liaison (non rétroactif).")
            receipt = Receipt("ignored", "validated_before_link", row.reason)
        elif Entry.objects.filter(journal=journal_for(company, draft.source),
                                  source_ref=draft.source_ref,
                                  state=Entry.State.EXPORTED).exists():
            row.status, row.reason = InboxEvent.Status.REJECTED, _(
                "Le document est déjà exporté en comptabilité : son écriture ne change plus.")
            receipt = Receipt("exported", "entry_exported", row.reason)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # the same webhook-id arrived concurrently
            return Receipt(DUPLICATE, detail=_("Événement déjà reçu : sans nouvel effet."))
    if row.status == InboxEvent.Status.RECEIVED:
        from ..tasks import inbox_process

        enqueue_on_commit(inbox_process)
    return receipt
