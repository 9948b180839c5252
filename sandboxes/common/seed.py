"""What both sandboxes' demo data (DESIGN §11) are made of."""

from django.contrib.auth import get_user_model


def demo_login(username, *, password, **fields):
    """The demo user ``username`` with ``fields``. The password is set when the login is
    created only, so restarts stay fast (each hash costs a fraction of a second)."""
    user, created = get_user_model().objects.update_or_create(username=username,
                                                              defaults=fields)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user
