from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Nobody signs up on their own: firms create their users and the users set a password."""

    def is_open_for_signup(self, request):
        return False


def user_display(user):
    return user.display_name
