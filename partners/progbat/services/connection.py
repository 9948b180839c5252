"""A firm user's own ProGBat connection (OAuth2): connect, refresh serialised, disconnect."""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from firms.selectors import firm_membership_for
from partners.common.exceptions import PartnerRejected
from partners.common.models import Partner, PartnerConnection

from .. import client

logger = logging.getLogger(__name__)
# Refresh a little before the partner's expiry, so a token never dies in flight.
EXPIRY_MARGIN = datetime.timedelta(seconds=30)


class ConnectionUnusable(Exception):
    """The connection is missing, revoked, or expired and could not be refreshed."""

    def __init__(self, user, reason):
        super().__init__(reason)
        self.user = user
        self.reason = reason


def connection_for(user):
    return PartnerConnection.objects.filter(user=user, partner=Partner.PROGBAT).first()


def connection_start(*, redirect_uri):
    """The authorization request to send the user to; its state and verifier go in the session."""
    return client.authorization_request(redirect_uri)


def _store_tokens(connection, token):
    connection.access_token = token["access_token"]
    if token.get("refresh_token"):
        connection.refresh_token = token["refresh_token"]
    expires_in = token.get("expires_in")
    connection.expires_at = (timezone.now() + datetime.timedelta(seconds=int(expires_in))
                             if expires_in else None)
    connection.scope = token.get("scope", "") or ""


@transaction.atomic
def connection_complete(*, user, code, redirect_uri, code_verifier):
    """Exchange the authorization code and keep the user's tokens, encrypted."""
    membership = firm_membership_for(user)
    if membership is None:
        raise ValidationError(_("Seuls les utilisateurs d'un cabinet connectent ProGBat."))
    token = client.exchange_code(code=code, redirect_uri=redirect_uri,
                                 code_verifier=code_verifier)
    connection = connection_for(user) or PartnerConnection(user=user, partner=Partner.PROGBAT,
                                                           firm=membership.firm)
    _store_tokens(connection, token)
    connection.status = PartnerConnection.Status.CONNECTED
    connection.connected_at = timezone.now()
    connection.last_error = ""
    connection.save()
    audit_record(firm=membership.firm, actor=user, action="progbat.connected",
                 summary=lambda: _("Connexion ProGBat de %(email)s établie")
                 % {"email": user.email})
    return connection


@transaction.atomic
def connection_disconnect(*, user):
    connection = connection_for(user)
    if connection is None:
        return
    connection.status = PartnerConnection.Status.REVOKED
    connection.access_token = ""
    connection.refresh_token = ""
    connection.expires_at = None
    connection.save()
    audit_record(firm=connection.firm, actor=user, action="progbat.disconnected",
                 summary=lambda: _("Connexion ProGBat de %(email)s retirée")
                 % {"email": user.email})


def connection_expire(connection_id, *, reason):
    expired = PartnerConnection.objects.filter(pk=connection_id).exclude(
        status=PartnerConnection.Status.EXPIRED).update(
        status=PartnerConnection.Status.EXPIRED, last_error=reason[:300],
        updated_at=timezone.now())
    if expired:
        from ..notices import connection_expired

        connection_expired(connection_id, reason)


def fresh_access_token(connection_id, *, rejected_token=None):
    """A valid access token of this connection, refreshing it when needed.

    Refresh tokens rotate: the row is locked while refreshing so that two concurrent requests
    never spend the same refresh token; the second one finds the new token. A refused refresh
    marks the connection ``expired`` ("Reconnecter") instead of failing later.
    ``rejected_token``: ProGBat refused this token (401) although it had not expired; it is
    renewed unless another request already did.
    """
    refused = None
    with transaction.atomic():
        connection = (PartnerConnection.objects.select_for_update().select_related("user")
                      .get(pk=connection_id))
        if connection.status != PartnerConnection.Status.CONNECTED:
            raise ConnectionUnusable(connection.user, connection.status)
        fresh = (connection.expires_at is None
                 or connection.expires_at > timezone.now() + EXPIRY_MARGIN)
        if fresh and (rejected_token is None or rejected_token != connection.access_token):
            return connection.access_token
        try:
            token = client.refresh(connection.refresh_token)
        except PartnerRejected as error:
            connection_expire(connection.pk, reason=error.code)
            refused = error
        else:
            _store_tokens(connection, token)
            connection.refreshed_at = timezone.now()
            connection.save()
            return connection.access_token
    logger.info("ProGBat refresh refused for connection %s: %s", connection_id, refused.code)
    raise ConnectionUnusable(connection.user, PartnerConnection.Status.EXPIRED)
