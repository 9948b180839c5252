from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="list"),
    path("notifications/<int:notification_id>/ouvrir/", views.NotificationOpenView.as_view(),
         name="open"),
    path("notifications/preferences/", views.PreferencesView.as_view(), name="preferences"),
]
