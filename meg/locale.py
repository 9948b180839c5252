"""The language of a request: the one the user chose, else French (DESIGN §1).

Django's ``LocaleMiddleware`` would follow the browser's ``Accept-Language``; MEG speaks French
to anyone who has not chosen. The choice (the user menu's switch, ``users.views.language_set``)
is kept on the user, so it follows them to any browser, and in the language cookie, so the
login page speaks it too.
"""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def supported(language):
    return language in {code for code, _name in settings.LANGUAGES}


def chosen_language(request):
    """The user's language, else the language cookie's, else ``LANGUAGE_CODE``."""
    user = getattr(request, "user", None)  # absent on the lean path (meg/lean.py)
    if user is not None and user.is_authenticated and supported(user.language):
        return user.language
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return cookie if supported(cookie) else settings.LANGUAGE_CODE


class ChosenLanguageMiddleware:
    """Activates ``chosen_language``; placed after the authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
