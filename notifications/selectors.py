from .models import Kind, Mode, Notification, Preference
from .services import DEFAULT_MODES


def notifications_for(user):
    return Notification.objects.filter(user=user)


def unread_count(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def preferences_for(user):
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "mode"))
    return [(kind, label, chosen.get(kind, DEFAULT_MODES.get(kind, Mode.IMMEDIATE)))
            for kind, label in Kind.choices]
