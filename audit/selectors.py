"""Reads of the activity log, always starting from the firm."""

from .models import AuditEvent


def audit_events_for(*, firm, company_id=None, date_from=None, date_to=None):
    """The firm's events, newest first, narrowed to one company and a date range if given."""
    events = AuditEvent.objects.filter(firm=firm).select_related("company", "actor")
    if company_id:
        events = events.filter(company_id=company_id)
    if date_from:
        events = events.filter(created_at__date__gte=date_from)
    if date_to:
        events = events.filter(created_at__date__lte=date_to)
    return events
