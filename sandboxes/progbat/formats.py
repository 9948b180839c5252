"""How ProGBat writes instants in API answers and webhooks (money: ``sandboxes.common.formats``)."""

from sandboxes.common import formats


def iso_utc(moment):
    """ISO 8601 in UTC with a ``Z``; microseconds kept so MEG can compare with its ``linked_at``."""
    return formats.iso_utc(moment, timespec="microseconds")
