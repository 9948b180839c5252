"""ProGBat use cases, split by concept: the users' connections, the companies' links, and
opening ProGBat by SSO."""

from .connection import (  # noqa: F401
    ConnectionUnusable,
    connection_complete,
    connection_disconnect,
    connection_for,
    connection_start,
    fresh_access_token,
)
from .linking import (  # noqa: F401
    progbat_activation_check,
    progbat_consent_give,
    progbat_consent_withdraw,
    progbat_link_activate,
    progbat_link_company,
    progbat_link_credentials,
)
from .opening import progbat_open  # noqa: F401
