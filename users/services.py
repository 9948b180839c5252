"""Writes about a user's own account: REST API tokens, the language of their pages."""

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record

from .models import ApiToken


@transaction.atomic
def api_token_create(*, user, actor, name="", expires_in_days=None, firm=None):
    """A new token for ``user``: returns ``(row, token)``; the token is never readable again.

    ``firm``: the firm whose activity log records it (the user's, when they have one).
    """
    expiry = timedelta(days=expires_in_days) if expires_in_days else None
    row, token = ApiToken.objects.create(user=user, expiry=expiry, name=name.strip())
    if firm is not None:
        audit_record(firm=firm, actor=actor, action="api_token.created",
                     summary=lambda: _("Jeton d'API %(key)s… créé pour %(email)s")
                     % {"key": row.token_key, "email": user.email},
                     data={"user_id": user.pk, "token_key": row.token_key,
                           "expiry": row.expiry.isoformat() if row.expiry else None})
    return row, token


@transaction.atomic
def api_token_revoke(*, token, actor, firm=None):
    deleted, _rows = ApiToken.objects.filter(pk=token.pk).delete()
    if deleted and firm is not None:
        audit_record(firm=firm, actor=actor, action="api_token.revoked",
                     summary=lambda: _("Jeton d'API %(key)s… révoqué (%(email)s)")
                     % {"key": token.token_key, "email": token.user.email},
                     data={"user_id": token.user_id, "token_key": token.token_key})
    return bool(deleted)


def user_language_set(*, user, language):
    """Remember the language ``user`` chose (one of ``settings.LANGUAGES``) for their pages."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
