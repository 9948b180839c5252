"""The user's own settings that are not allauth's: the language of their pages."""

from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from meg.locale import supported

from .services import user_language_set


@require_POST
def language_set(request):
    """Django's ``set_language`` (cookie, safe redirect to ``next``), remembered on the user."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and supported(language):
        user_language_set(user=request.user, language=language)
    return response
