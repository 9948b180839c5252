"""What accounting announces, in its own words; partner packages listen (DESIGN §2).

Receivers register from their ``AppConfig.ready()``. They run inside the transaction that
made the change, so that what they write (e.g. outbox rows) commits or rolls back with it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportedEntry:
    id: int
    source: str
    source_ref: str


_entries_exported = []


def on_entries_exported(receiver):
    """``receiver(batch, entries)``: ``entries`` is an iterable of ``ExportedEntry``, in the
    file's order, read from the database as it is consumed (an export may hold hundreds of
    thousands: a receiver goes through it once, in chunks, and keeps no list of them)."""
    if receiver not in _entries_exported:
        _entries_exported.append(receiver)
    return receiver


def entries_exported(batch, entries):
    for receiver in _entries_exported:
        receiver(batch, entries)


@dataclass(frozen=True)
class JournalisedEntry:
    id: int
    source: str
    source_ref: str
    source_version: int


_entries_journalised = []


def on_entries_journalised(receiver):
    """``receiver(company, entries)``: partner documents were journalised (a new entry, or a
    later version replacing a draft); ``entries`` is a list of ``JournalisedEntry``. Called
    in the journalising transaction, once per batch and source."""
    if receiver not in _entries_journalised:
        _entries_journalised.append(receiver)
    return receiver


def entries_journalised(company, entries):
    if entries:
        for receiver in _entries_journalised:
            receiver(company, entries)


@dataclass(frozen=True)
class EntryAction:
    """A button a partner offers on an entry of its journal in the export space preview.

    ``url_name`` is reversed with ``company_id`` and ``entry_id``; the view behind it checks
    everything again (the button only saves a click).
    """

    source: str
    label: str
    url_name: str
    confirm: str = ""
    drafts_only: bool = True


_entry_actions = []


def register_entry_action(action):
    if action not in _entry_actions:
        _entry_actions.append(action)
    return action


def entry_actions(entry):
    """The actions offered on ``entry`` (its journal must be loaded: the preview selects it)."""
    from .models import Entry  # lazy: receivers import this module while apps load

    return [action for action in _entry_actions
            if action.source == entry.journal.source
            and (not action.drafts_only or entry.state == Entry.State.DRAFT)]
