"""Every API error is ``{"error": code, "detail": French text}`` (DESIGN §6), whatever raised it."""

import logging

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from ..services import Refused

logger = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "idempotency_key_required": 400,
    "invalid_code": 400,
    "invalid_siren": 400,
    "too_many_users": 400,
    "plan_limit_reached": 402,
    "invoice_not_found": 404,
    "payment_not_found": 404,
    "company_exists": 409,
    "invoice_already_paid": 409,
    "idempotency_key_reused": 422,
    "amount_exceeds_balance": 422,
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
    if isinstance(exc, exceptions.ParseError):
        return _invalid({"body": ["Corps JSON illisible."]})
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response = error_response(
            "invalid_api_key", "Clé d'API Libeo absente, invalide ou révoquée (en-tête "
            "Authorization: Bearer <clé>).", 401)
        response["WWW-Authenticate"] = 'Bearer realm="libeo"'
        return response
    if isinstance(exc, Http404):
        return error_response("not_found", "Ressource introuvable.", 404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response("method_not_allowed", "Méthode non autorisée sur cette adresse.",
                              405)
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.default_code, str(exc.detail), exc.status_code)
    logger.exception("unexpected API error", exc_info=exc)
    return error_response("server_error", "Erreur interne de Libeo.", 500)
