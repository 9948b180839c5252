"""A lean path for machine-to-machine endpoints (a partner's signed webhooks).

Such a request carries no session, no user and no CSRF token: the session, authentication,
tenancy and messages middleware would only cost time on it (DESIGN §10, ingest). A view marked
``@machine_endpoint`` and routed on a fixed path (no converters) is called straight from
``LeanPathMiddleware``, placed right after ``SecurityMiddleware``, through what still applies
to it: the language (``ChosenLanguageMiddleware``: French, or the language cookie), the host
check and Content-Length (``CommonMiddleware``) and ``X-Frame-Options``. Its own checks (the
signature) are its authentication; it must be ``csrf_exempt`` anyway.
"""

from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from .locale import ChosenLanguageMiddleware

MARK = "machine_endpoint"


def machine_endpoint(view):
    """Mark a view (function or class-based) as a machine-to-machine endpoint."""
    setattr(view, MARK, True)
    return view


def _is_marked(callback):
    return getattr(callback, MARK, False) or getattr(
        getattr(callback, "view_class", None), MARK, False)


def _static_route(pattern):
    """The fixed text a route matches, or None (converters, regular expressions)."""
    if not isinstance(pattern, RoutePattern) or pattern.converters:
        return None
    return str(pattern)


def machine_endpoints(resolver=None, prefix="/"):
    """``{path: view}`` for every marked view on a fixed path of the URLconf."""
    found = {}
    for entry in (resolver or get_resolver()).url_patterns:
        route = _static_route(entry.pattern)
        if route is None:
            continue
        if isinstance(entry, URLResolver):
            found.update(machine_endpoints(entry, prefix + route))
        elif isinstance(entry, URLPattern) and _is_marked(entry.callback):
            found[prefix + route] = entry.callback
    return found


class LeanPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.endpoints = {}  # per URLconf, built on its first request
        self.lean = ChosenLanguageMiddleware(CommonMiddleware(XFrameOptionsMiddleware(self._view)))

    def __call__(self, request):
        resolver = get_resolver(getattr(request, "urlconf", None))
        endpoints = self.endpoints.get(resolver)
        if endpoints is None:
            endpoints = self.endpoints[resolver] = machine_endpoints(resolver)
        view = endpoints.get(request.path_info)
        if view is None:
            return self.get_response(request)
        request.machine_endpoint = view
        return self.lean(request)

    @staticmethod
    def _view(request):
        return request.machine_endpoint(request)
