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
