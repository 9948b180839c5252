"""Which firm user's connection a ProGBat call uses, and the call itself with one retry."""

from django.utils.translation import gettext as _

from firms.selectors import firm_membership_for
from partners.common.exceptions import PartnerUnauthorized

from ..client import ProgbatClient
from .connection import ConnectionUnusable, connection_for, fresh_access_token


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
    """Run ``call(client)``; a 401 renews the token once (it may have been revoked early)."""
    connection = acting_connection(link, actor)
    try:
        return call(ProgbatClient(fresh_access_token(connection.pk)))
    except PartnerUnauthorized:
        return call(ProgbatClient(fresh_access_token(connection.pk, force_refresh=True)))


def unusable_connection_message(error: ConnectionUnusable):
    return _("La connexion ProGBat de %(name)s n'est plus valide : elle doit être renouvelée "
             "dans Paramètres → Connexions partenaires (bouton « Reconnecter »), puis "
             "réessayez.") % {"name": error.user.display_name}
