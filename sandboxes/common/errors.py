"""Every error a sandbox answers is ``{"error": code, "detail": French text}`` (DESIGN §5, §6),
whatever raised it: a business rule (``Refused``), the API, a test control, a missing page."""

import logging

from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class Refused(Exception):
    """A business rule said no: ``code`` is the API error code, ``detail`` the French reason."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def json_error(code, detail, status):
    """The error shape from a plain Django view or middleware (test controls, pages)."""
    return JsonResponse({"error": code, "detail": detail}, status=status)


def invalid_request(detail):
    return json_error("invalid_request", detail, 400)


def error_response(code, detail, status, **extra):
    """The error shape from the API (DRF)."""
    return Response({"error": code, "detail": detail, **extra}, status=status)


def invalid(fields):
    names = ", ".join(fields) if isinstance(fields, dict) else "corps de la requête"
    return error_response("invalid_request", f"Données invalides : {names}.", 400, fields=fields)


def api_error(exc, *, partner, statuses, unauthenticated, own=None):
    """DRF's exception handler, re-shaped to the contract; unexpected errors become 500 JSON.

    ``statuses`` gives the HTTP status of each ``Refused`` code; ``unauthenticated`` is the
    ``(code, detail)`` of a missing or bad credential; ``own(exc)`` answers the sandbox's own
    cases, or ``None``.
    """
    if isinstance(exc, Refused):
        return error_response(exc.code, exc.detail, statuses[exc.code])
    if isinstance(exc, exceptions.ValidationError):
        return invalid(exc.detail)
    if own is not None and (response := own(exc)) is not None:
        return response
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # DRF has set the status (401 with a challenge, 403 without) and the challenge.
        response = error_response(*unauthenticated, exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        return response
    if isinstance(exc, Http404):
        return error_response("not_found", "Ressource introuvable.", 404)
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.default_code, str(exc.detail), exc.status_code)
    logger.exception("unexpected API error", exc_info=exc)
    return error_response("server_error", f"Erreur interne de {partner}.", 500)
