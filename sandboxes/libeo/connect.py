"""« Me connecter avec MEG »: create (or connect) a Libeo account from MEG, then back to MEG.

1. ``GET /connect/meg?return_to=<MEG URL>``: the return URL must be on an allowed origin; the
   browser goes to MEG's authorization endpoint (OIDC code flow, PKCE, state, nonce).
2. ``GET /connect/meg/callback``: state checked against the session, code redeemed, ID token
   validated; the person's identity and the company MEG named wait in the session.
3. ``/connect/meg/compte``: « Créer votre compte Libeo » (SIREN and name asked only when MEG's
   token did not carry them); « Créer mon compte » creates the free account with that person as
   owner and sends the browser to ``return_to?code=<one-time code>``, which MEG trades for an
   API key at ``POST /api/v1/meg/connections/exchange``.
"""

import logging
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from stdnum.fr import siren as siren_number

from . import oidc, services
from .forms import MegAccountForm
from .models import Company, Membership

logger = logging.getLogger(__name__)

FLOWS_KEY = "libeo_meg_flows"  # state → what the callback checks, one entry per started login
PENDING_KEY = "libeo_meg_pending"  # the identity MEG vouched for, until the account is created
FLOW_SECONDS = 10 * 60
PENDING_SECONDS = 30 * 60
MAX_FLOWS = 5
UNSAFE_URL_CHARACTERS = set("\\\r\n\t ")


def _origin(url):
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; None if unusable."""
    if not isinstance(url, str) or UNSAFE_URL_CHARACTERS & set(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{f':{port}' if port and port != default_port else ''}"


def return_to_allowed(url):
    allowed = {_origin(origin) for origin in settings.LIBEO_ALLOWED_RETURN_ORIGINS}
    origin = _origin(url)
    return origin is not None and origin in allowed


def with_code(url, code):
    """``return_to`` with ``code`` added, its other query parameters and fragment kept."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if key != "code"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("code", code)])))


def _problem(request, title, detail, *, status=400, return_to=None):
    return render(request, "libeo/connect_problem.html", {
        "title": title, "detail": detail,
        "return_to": return_to if return_to and return_to_allowed(return_to) else None,
    }, status=status)


@require_GET
def connect_start(request):
    return_to = request.GET.get("return_to", "")
    if not return_to_allowed(return_to):
        return _problem(request, "Adresse de retour refusée", (
            "Libeo ne renvoie qu'à MEG : l'adresse de retour demandée n'est pas autorisée. "
            "Recommencez depuis le bouton « Payer » de MEG."))
    redirect_uri = request.build_absolute_uri(reverse("connect-meg-callback"))
    try:
        url, flow = oidc.authorization_request(redirect_uri)
    except oidc.OidcError as error:
        return _problem(request, "Connexion à MEG impossible", str(error), status=502,
                        return_to=return_to)
    now = time.time()
    flows = {state: started for state, started in request.session.get(FLOWS_KEY, {}).items()
             if now - started["started_at"] < FLOW_SECONDS}
    flows = dict(sorted(flows.items(), key=lambda item: item[1]["started_at"])[-MAX_FLOWS + 1:])
    flows[flow["state"]] = {**flow, "return_to": return_to, "started_at": now}
    request.session[FLOWS_KEY] = flows
    return redirect(url)


@require_GET
def connect_callback(request):
    flows = request.session.get(FLOWS_KEY, {})
    flow = flows.pop(request.GET.get("state", ""), None)
    request.session[FLOWS_KEY] = flows
    if flow is None or time.time() - flow["started_at"] > FLOW_SECONDS:
        return _problem(request, "Demande de connexion inconnue ou expirée", (
            "Cette réponse de MEG ne correspond à aucune connexion en cours dans ce navigateur "
            "(paramètre state). Recommencez depuis MEG."))
    if request.GET.get("error"):
        return _problem(request, "Connexion refusée par MEG", (
            "MEG n'a pas confirmé votre identité "
            f"({request.GET.get('error_description') or request.GET['error']}). Aucun compte "
            "Libeo n'a été créé."), return_to=flow["return_to"])
    if not request.GET.get("code"):
        return _problem(request, "Réponse de MEG incomplète", "Code d'autorisation absent.")
    try:
        claims = oidc.authenticated_claims(flow, request.GET["code"])
    except oidc.OidcError as error:
        return _problem(request, "Identité MEG non confirmée", str(error),
                        return_to=flow["return_to"])
    if not claims.get("email"):
        return _problem(request, "Adresse e-mail manquante", (
            "MEG n'a pas communiqué votre adresse e-mail (portée « email »)."),
            return_to=flow["return_to"])
    request.session[PENDING_KEY] = {
        "email": claims["email"], "given_name": claims.get("given_name") or "",
        "family_name": claims.get("family_name") or "",
        "siren": str(claims.get("meg_company_siren") or ""),
        "company_name": str(claims.get("meg_company_name") or ""),
        "return_to": flow["return_to"], "since": time.time(),
    }
    return redirect("connect-meg-account")


def _company_from_claims(pending):
    """The company MEG named in its claims, when they are usable."""
    if siren_number.is_valid(pending["siren"]) and pending["company_name"].strip():
        return pending["siren"], pending["company_name"].strip()
    return None


@require_http_methods(["GET", "POST"])
def connect_account(request):
    pending = request.session.get(PENDING_KEY)
    if pending is None or time.time() - pending["since"] > PENDING_SECONDS:
        return _problem(request, "Aucune connexion MEG en cours", (
            "Rien à confirmer : recommencez depuis le bouton « Payer » de MEG."))
    from_claims = _company_from_claims(pending)
    form = MegAccountForm(request.POST or None, ask_company=from_claims is None)
    existing = None
    if from_claims is not None:
        existing = Company.objects.filter(siren=from_claims[0]).first()
    is_member = existing is not None and Membership.objects.filter(
        company=existing, user__email__iexact=pending["email"]).exists()
    error, status = None, 200
    if request.method == "POST" and form.is_valid():
        siren, name = from_claims or (form.cleaned_data["siren"], form.cleaned_data["name"])
        try:
            company, user, created = services.meg_account_open(
                siren=siren, name=name, email=pending["email"],
                first_name=pending["given_name"], last_name=pending["family_name"],
                accountant_email=form.cleaned_data.get("accountant_email") or "")
        except services.Refused as refusal:
            error, status = refusal.detail, 409 if refusal.code == "company_exists" else 400
        else:
            code = services.exchange_code_issue(company=company, user=user)
            return_to = pending["return_to"]
            del request.session[PENDING_KEY]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            logger.info("account %s via MEG for %s (created=%s)", siren, user.email, created)
            return redirect(with_code(return_to, code))
    elif request.method == "POST":
        status = 400
    return render(request, "libeo/connect_account.html", {
        "pending": pending, "form": form, "from_claims": from_claims, "existing": existing,
        "is_member": is_member, "error": error,
    }, status=status)
