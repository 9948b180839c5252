"""Notify people: ``notify`` records one notification per person and fact (idempotent), and
e-mails it after commit unless the person chose the daily digest or no e-mail for that kind."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from meg.queue import enqueue_on_commit

from .models import Kind, Mode, Notification, Preference

logger = logging.getLogger(__name__)
DEFAULT_MODES = {Kind.EVENTS_REJECTED: Mode.DIGEST}


def mode_for(user, kind):
    chosen = Preference.objects.filter(user=user, kind=kind).values_list("mode", flat=True).first()
    return chosen or DEFAULT_MODES.get(kind, Mode.IMMEDIATE)


def in_language_of(user, text):
    """``text`` (a string, a lazy text, or a callable building one) in ``user``'s language."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return str(text() if callable(text) else text)


def notify(*, users, kind, fact_key, title, body="", url=""):
    """Tell each of ``users`` about a fact once; returns the notifications created now.

    A notification is stored as its recipient reads it (the in-app list and the e-mail): pass
    ``title`` and ``body`` as callables (``lambda: _("…") % {…}``) or lazy texts, built for
    each recipient in their language; a plain string is stored as it is."""
    created = []
    for user in {user.pk: user for user in users if user is not None}.values():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user, kind=kind, fact_key=fact_key[:200],
                    title=in_language_of(user, title)[:200], body=in_language_of(user, body),
                    url=url[:300])
        except IntegrityError:
            continue  # already told: never twice for the same fact
        created.append(notification)
        if mode_for(user, kind) == Mode.IMMEDIATE:
            from .tasks import notification_email

            enqueue_on_commit(notification_email, notification.pk)
    return created


def _absolute(url):
    return f"{settings.MEG_BASE_URL.rstrip('/')}{url}" if url.startswith("/") else url


def _send(user, subject, notifications):
    with translation.override(user.language or settings.LANGUAGE_CODE):
        _send_in_language(user, subject, notifications)


def _send_in_language(user, subject, notifications):
    context = {"user": user, "notifications": notifications, "base_url": settings.MEG_BASE_URL,
               "links": [_absolute(n.url) for n in notifications]}
    message = EmailMultiAlternatives(
        subject, render_to_string("notifications/email/notifications.txt", context),
        settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(render_to_string("notifications/email/notifications.html",
                                                context), "text/html")
    message.send()


def notification_email(notification_id):
    """E-mail one notification, once (safe to run twice: ``emailed_at`` is claimed first)."""
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=now)
    if not claimed:
        return
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        _send(notification.user, f"MEG : {notification.title}", [notification])
    except OSError:
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise


def notifications_digest():
    """Daily: one e-mail per person grouping what they chose to receive as a digest."""
    pending = (Notification.objects.filter(emailed_at__isnull=True)
               .select_related("user").order_by("user_id", "created_at"))
    by_user = {}
    for notification in pending:
        if mode_for(notification.user, notification.kind) == Mode.DIGEST:
            by_user.setdefault(notification.user, []).append(notification)
    for user, notifications in by_user.items():
        ids = [n.pk for n in notifications]
        if not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(
                emailed_at=timezone.now()):
            continue
        try:
            _send(user, _("MEG : votre résumé du jour (%(n)d)") % {"n": len(notifications)},
                  notifications)
        except OSError:
            Notification.objects.filter(pk__in=ids).update(emailed_at=None)
            logger.exception("digest for user %s not sent", user.pk)


@transaction.atomic
def notifications_mark_read(*, user, ids=None):
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


@transaction.atomic
def preferences_save(*, user, modes):
    """``modes``: {kind: mode} for the kinds the person changed."""
    for kind, mode in modes.items():
        if kind in Kind.values and mode in Mode.values:
            Preference.objects.update_or_create(user=user, kind=kind, defaults={"mode": mode})
