"""The one write of the activity log."""

from django.conf import settings
from django.utils import translation

from .models import AuditEvent


def audit_record(*, firm, actor, action, summary, company=None, data=None):
    """Append one row to the firm's activity log.

    Called inside the caller's transaction, so the row exists exactly when the change does.
    ``actor`` is None for what partners or MEG itself did.

    ``summary`` is stored once and read by the whole firm, so it is written in MEG's default
    language (French), whatever language the actor reads MEG in: pass it as a callable
    (``lambda: _("…") % {…}``) or a lazy text, evaluated here in that language. A plain string
    is stored as it is.
    """
    with translation.override(settings.LANGUAGE_CODE):
        text = str(summary() if callable(summary) else summary)
    return AuditEvent.objects.create(firm=firm, company=company, actor=actor, action=action,
                                     summary=text[:300], data=data or {})
