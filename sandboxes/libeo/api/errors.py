"""The API's errors (DESIGN §6): the status of each refusal, and Libeo's own cases."""

from rest_framework import exceptions

from sandboxes.common.errors import api_error, error_response, invalid

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
UNAUTHENTICATED = ("invalid_api_key", "Clé d'API Libeo absente, invalide ou révoquée (en-tête "
                                      "Authorization: Bearer <clé>).")


def _own(exc):
    if isinstance(exc, exceptions.ParseError):
        return invalid({"body": ["Corps JSON illisible."]})
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response("method_not_allowed", "Méthode non autorisée sur cette adresse.",
                              405)
    return None


def exception_handler(exc, context):
    return api_error(exc, partner="Libeo", statuses=STATUS_BY_CODE, own=_own,
                     unauthenticated=UNAUTHENTICATED)
