from allauth.account.adapter import DefaultAccountAdapter

from meg.client_ip import client_ip

# A page that needs a login (an invitation link) may leave its path here: the person gets back
# to it after logging in, even through « Mot de passe oublié », which loses ``?next=``.
AFTER_LOGIN_SESSION_KEY = "meg_after_login"


class AccountAdapter(DefaultAccountAdapter):
    """Nobody signs up on their own: firms create their users and the users set a password."""

    def is_open_for_signup(self, request):
        return False

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
