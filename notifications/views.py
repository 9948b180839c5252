from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from . import selectors
from .models import Kind, Mode, Notification
from .services import notifications_mark_read, preferences_save


class NotificationListView(LoginRequiredMixin, TemplateView):
    """The person's notifications, newest first; « Tout marquer comme lu »."""

    template_name = "notifications/list.html"

    def get_context_data(self, **kwargs):
        page = Paginator(selectors.notifications_for(self.request.user), 30).get_page(
            self.request.GET.get("page"))
        return super().get_context_data(page=page, **kwargs)

    def post(self, request):
        count = notifications_mark_read(user=request.user)
        messages.success(request, _("%(n)d notification(s) marquée(s) comme lue(s).")
                         % {"n": count})
        return redirect("notifications:list")


class NotificationOpenView(LoginRequiredMixin, View):
    """Open one notification: it is marked read, and the person goes where it points."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:  # someone else's notification: 404 whatever the method
            self.notification = get_object_or_404(Notification, user=request.user,
                                                  pk=kwargs["notification_id"])
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, notification_id):
        notifications_mark_read(user=request.user, ids=[self.notification.pk])
        return redirect(self.notification.url or "notifications:list")


class PreferencesView(LoginRequiredMixin, TemplateView):
    template_name = "notifications/preferences.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(preferences=selectors.preferences_for(self.request.user),
                                        modes=Mode.choices, **kwargs)

    def post(self, request):
        preferences_save(user=request.user,
                         modes={kind: request.POST.get(kind) for kind in Kind.values
                                if request.POST.get(kind)})
        messages.success(request, _("Préférences enregistrées."))
        return redirect("notifications:preferences")
