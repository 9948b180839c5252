"""The clients of MEG's OpenID provider: created by staff only (this module, called by
``manage.py oidc_client`` — or the Django admin), never by users through a web page."""

import logging

from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import get_application_model

logger = logging.getLogger(__name__)


@transaction.atomic
def oidc_client_create(*, name, redirect_uris=(), client_id=None, resource_server=False):
    """A confidential client; returns ``(application, secret)``, the secret in clear this once.

    A relying party logs people in (authorization code with PKCE, ID tokens signed RS256, only
    to ``redirect_uris``). A resource server only authenticates at ``/o/introspect/``: it gets
    no redirect URI, and MEG's validator issues no token to it; it still has to be named in
    ``MEG_OIDC_INTROSPECTION_CLIENTS``.
    """
    Application = get_application_model()
    secret = generate_client_secret()
    application = Application(
        name=name, client_id=client_id or generate_client_id(), client_secret=secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=(Application.GRANT_CLIENT_CREDENTIALS if resource_server
                                  else Application.GRANT_AUTHORIZATION_CODE),
        redirect_uris="" if resource_server else " ".join(redirect_uris),
        algorithm=Application.NO_ALGORITHM if resource_server else Application.RS256_ALGORITHM,
        skip_authorization=False)
    application.full_clean()  # unique client id, redirect URIs (https only in production)
    application.save()
    logger.info("OIDC client %s (%s) created", application.client_id, name)
    return application, secret


@transaction.atomic
def oidc_client_delete(*, client_id):
    """Remove a client, and with it every code and token it holds."""
    deleted, _ = get_application_model().objects.filter(client_id=client_id).delete()
    if deleted:
        logger.info("OIDC client %s deleted", client_id)
    return bool(deleted)
