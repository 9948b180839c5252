import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context


class AccountAdapter(DefaultAccountAdapter):
    """Nobody signs up on their own: firms create their users and the users set a password."""

    def is_open_for_signup(self, request):
        return False

    def is_reauthentication_required(self, *, app, **kwargs):
        """A login in this session minutes ago proves as much as a re-authentication: a user
        sent to set MFA up right after logging in is not asked for their password again."""
        request = context.request
        if app == "allauth.mfa" and request is not None and request.user.is_authenticated:
            records = get_authentication_records(request, request.user)
            latest = max((record.get("at", 0) for record in records), default=0)
            if time.time() - latest < account_settings.REAUTHENTICATION_TIMEOUT:
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


def user_display(user):
    return user.display_name
