"""The API's errors (DESIGN §5): the status of each refusal, and ProGBat's own cases."""

from django.core.exceptions import ValidationError as ModelValidationError

from sandboxes.common.errors import api_error, invalid

STATUS_BY_CODE = {
    "bad_credentials": 403,
    "account_not_found": 404,
    "invoice_not_found": 404,
    "user_not_found": 404,
    "account_exists": 409,
    "dirigeant_taken": 409,
    "invoice_locked": 409,
}


def _own(exc):
    if isinstance(exc, ModelValidationError):  # a model's invariant, checked by full_clean
        return invalid(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return None


def exception_handler(exc, context):
    return api_error(exc, partner="ProGBat", statuses=STATUS_BY_CODE, own=_own,
                     unauthenticated=("invalid_token", "Jeton d'accès absent, invalide ou expiré."))
