"""The Content-Security-Policy header (django-csp), completed per request.

The policy itself is ``CONTENT_SECURITY_POLICY`` in the settings. Two things cannot be written
there once and for all:

- ``form-action`` also governs where a form's answer redirects to (browsers block the
  redirect otherwise), and some of MEG's forms send the user on to a partner: ProGBat's login
  and SSO, Libeo's key page, and the OpenID consent back to Libeo's callback. Their origins
  come from the partner settings, read at each request (tests point them at sandboxes).
- The API's HTML pages are third-party (DRF's browsable API, Swagger UI, Redoc): they use
  inline styles and Redoc runs a worker from a ``blob:``. Only there are those allowed; their
  scripts stay as strict as everywhere.
"""

from urllib.parse import urlsplit

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.conf import settings

API_PREFIX = "/api/"


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def partner_origins():
    """The origins MEG's forms may redirect to."""
    urls = [settings.PROGBAT_BASE_URL, settings.LIBEO_BASE_URL,
            *settings.LIBEO_OIDC_REDIRECT_URIS.split()]
    return sorted({found for found in map(origin, urls) if found})


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", []), *partner_origins()]
        if request.path_info.startswith(API_PREFIX):
            update["style-src"] = [*update.get("style-src", []), UNSAFE_INLINE]
            update["worker-src"] = [*update.get("worker-src", []), SELF, "blob:"]
        parts.update = update
        return parts
