"""Site-wide request guards."""

from django.core.exceptions import SuspiciousOperation
from django.http import UnreadablePostError

NUL = "\x00"


class NulCharacter(SuspiciousOperation):
    """A NUL character in the URL, the query string or a form: PostgreSQL cannot hold it in
    text, so no such value may reach a query (answered 400 and logged by Django)."""


class NulGuardMiddleware:
    """Refuse once for the whole site what no view could store or look up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or _has_nul(request.GET) or _post_has_nul(request):
            raise NulCharacter("NUL character in the request")
        return self.get_response(request)


def _post_has_nul(request):
    if request.method != "POST":
        return False
    try:
        return _has_nul(request.POST)  # form bodies only: others (JSON) are not parsed here
    except UnreadablePostError:  # the client went away: the view fails as it would have
        return False


def _has_nul(query):
    return any(NUL in key or any(NUL in value for value in values)
               for key, values in query.lists())
