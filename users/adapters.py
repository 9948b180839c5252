import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context

from meg.client_ip import client_ip

# A page that needs a login (an invitation link) may leave its path here: the person gets back
# to it after logging in, even through « Mot de passe oublié », which loses ``?next=``.
AFTER_LOGIN_SESSION_KEY = "meg_after_login"


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
    def get_client_ip(self, request):
        """Rate limits key on the real client behind MEG's trusted proxy (meg.client_ip)."""
        return client_ip(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth counts failed logins per account only, so that anyone could lock anyone out:
        # count them per account *and* client address (ACCOUNT_RATE_LIMITS["login_failed"]).
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"

    def get_login_redirect_url(self, request):
        path = request.session.pop(AFTER_LOGIN_SESSION_KEY, None)
        if path and path.startswith("/") and not path.startswith("//"):
            return path
        return super().get_login_redirect_url(request)


def user_display(user):
    return user.display_name
