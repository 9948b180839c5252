"""The one write of the activity log."""

from .models import AuditEvent


def audit_record(*, firm, actor, action, summary, company=None, data=None):
    """Append one row to the firm's activity log.

    Called inside the caller's transaction, so the row exists exactly when the change does.
    ``actor`` is None for what partners or MEG itself did.
    """
    return AuditEvent.objects.create(firm=firm, company=company, actor=actor, action=action,
                                     summary=summary[:300], data=data or {})
