"""Libeo's pages, under the Achats module's paths (kept as they were: bookmarks, the Libeo
return URL and the guides name them)."""

from django.urls import path

from . import views

app_name = "libeo"
base = "entreprise/<int:company_id>/achats/"

urlpatterns = [
    path(f"{base}options/", views.OptionsView.as_view(), name="options"),
    path(f"{base}libeo/connecter/", views.ConnectView.as_view(), name="connect"),
    path(f"{base}libeo/retour/", views.ReturnView.as_view(), name="return"),
]
