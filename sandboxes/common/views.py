"""What the plain Django views of both sandboxes share: French error pages that answer JSON to
programs, the JSON body of a test control, and the sandbox's name in every page."""

import json

from django.conf import settings
from django.shortcuts import render

from .errors import json_error


def sandbox_context(request):
    """The shared templates (layout, login, 403, 404) extend the sandbox's own base page."""
    return {"sandbox_name": settings.SANDBOX_NAME,
            "sandbox_base_template": settings.SANDBOX_BASE_TEMPLATE}


def csrf_failure(request, reason=""):
    """Django's CSRF refusal in French, naming the cookie a scripted client must echo."""
    return render(request, "403.html", {"exception": (
        "Formulaire expiré : rechargez la page puis recommencez. (Le champ "
        f"csrfmiddlewaretoken doit reprendre le cookie {settings.CSRF_COOKIE_NAME}.)")},
        status=403)


def page_not_found(request, exception):
    """JSON for API and control paths, whose callers are programs; a French page otherwise."""
    if request.path.startswith(("/api/", "/_sandbox/")):
        return json_error("not_found", "Ressource introuvable.", 404)
    return render(request, "404.html", status=404)


def json_body(request):
    """The request's JSON object (``{}`` when empty), or ``None`` when it is not one."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
