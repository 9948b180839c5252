from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from users.views import language_set

from .views import HomeView

admin.site.site_header = "MEG — administration"
admin.site.site_title = "MEG"
# The admin's own login form would skip the second factor: staff log in through allauth.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("o/", include("partners.libeo.oidc_urls")),  # the OpenID provider (Libeo)
    path("cabinet/", include("firms.urls")),
    # Module pages do not depend on this order: see companies.module_pages.
    path("", include("partners.progbat.urls")),
    path("", include("partners.libeo.urls")),
    path("", include("accounting.urls")),
    path("", include("purchases.urls")),
    path("", include("companies.urls")),
    path("", include("notifications.urls")),
    path("api/v1/", include("meg.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: no inline script (Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("i18n/setlang/", language_set, name="set_language"),
]
