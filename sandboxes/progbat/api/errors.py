"""Every API error is ``{"error": code, "detail": French text}`` (DESIGN §5), whatever raised it."""

import logging

from django.core.exceptions import ValidationError as ModelValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from ..services import Refused

logger = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "bad_credentials": 403,
    "account_not_found": 404,
    "invoice_not_found": 404,
    "user_not_found": 404,
    "account_exists": 409,
    "dirigeant_taken": 409,
    "invoice_locked": 409,
}


def error_response(code, detail, status, **extra):
    return Response({"error": code, "detail": detail, **extra}, status=status)


def _invalid(fields):
    names = ", ".join(fields) if isinstance(fields, dict) else "corps de la requête"
    return error_response("invalid_request", f"Données invalides : {names}.", 400, fields=fields)


def exception_handler(exc, context):
    """DRF's exception handler, re-shaped to the contract; unexpected errors become 500 JSON."""
    if isinstance(exc, Refused):
        return error_response(exc.code, exc.detail, STATUS_BY_CODE[exc.code])
    if isinstance(exc, exceptions.ValidationError):
        return _invalid(exc.detail)
    if isinstance(exc, ModelValidationError):
        return _invalid(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response = error_response("invalid_token",
                                  "Jeton d'accès absent, invalide ou expiré.", exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        return response
    if isinstance(exc, Http404):
        return error_response("not_found", "Ressource introuvable.", 404)
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.default_code, str(exc.detail), exc.status_code)
    logger.exception("unexpected API error", exc_info=exc)
    return error_response("server_error", "Erreur interne de ProGBat.", 500)
