"""Which firm user's connection a ProGBat call uses, and the call itself with one retry."""

from django.utils.translation import gettext as _

from firms.selectors import firm_membership_for
from partners.common.exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable

from ..client import ProgbatClient
from .connection import (
    ConnectionUnusable,
    connection_expire,
    connection_for,
    fresh_access_token,
)


def acting_connection(link, actor):
    """The acting firm user's connection when connected, else that of who activated the link.

    A dirigeant never needs a ProGBat connection of their own (DESIGN §4).
    """
    candidates = [actor] if actor and firm_membership_for(actor) else []
    candidates.append(link.activated_by)
    for user in candidates:
        connection = connection_for(user)
        if connection is not None and connection.is_connected:
            return connection
    raise ConnectionUnusable(link.activated_by, "missing")


def call_progbat(link, actor, call):
    """Run ``call(client)``; a 401 renews the token once (it may have been revoked early), and
    a second 401 with a brand-new token means the connection must be made again."""
    connection = acting_connection(link, actor)
    token = fresh_access_token(connection.pk)
    try:
        return call(ProgbatClient(token))
    except PartnerUnauthorized:
        pass
    token = fresh_access_token(connection.pk, rejected_token=token)
    try:
        return call(ProgbatClient(token))
    except PartnerUnauthorized:
        connection_expire(connection.pk, reason="unauthorized")
        raise ConnectionUnusable(connection.user, "expired") from None


def unusable_connection_message(error: ConnectionUnusable):
    return _("La connexion ProGBat de %(name)s n'est plus valide : elle doit être renouvelée "
             "dans Paramètres → Connexions partenaires (bouton « Reconnecter »), puis "
             "réessayez.") % {"name": error.user.display_name}


# Failures of a call to ProGBat that the user can act on; services catch these inside their
# transaction and raise only after it has committed, so that what ProGBat did (an access
# created) or refused (a refresh token: the connection is now "expired") is kept.
PARTNER_FAILURES = (ConnectionUnusable, PartnerUnavailable, PartnerRejected)


def failure_message(error, *, refused=None):
    """The French explanation of a failed ProGBat call."""
    if isinstance(error, ConnectionUnusable):
        return unusable_connection_message(error)
    if isinstance(error, PartnerUnavailable):
        return _("ProGBat ne répond pas pour le moment. Rien n'a été créé : réessayez dans "
                 "quelques minutes.")
    return (refused or _("ProGBat a refusé la demande : %(detail)s")) % {
        "detail": error.detail or error.code}
