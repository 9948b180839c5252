"""How money and instants are written in JSON, the same in API answers and webhooks."""

from datetime import UTC


def money(amount):
    """A Decimal as a string with 2 decimals (``"120.00"``), never a float."""
    return f"{amount:.2f}"


def iso_utc(moment, *, timespec="seconds"):
    """ISO 8601 in UTC with a ``Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
