"""ProGBat → MEG webhooks (DESIGN §5.3): verify the signature, read ProGBat's payload into an
accounting ``EntryDraft``, hand it to accounting's door, and answer.

Nothing is stored for 400 / 401 / 404 / 422; accounting decides everything else (stores the
event, or says why not) and journalises it after commit. No body answers 500.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
import math
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounting.drafts import (
    DraftRefused,
    EntryDraft,
    LineDraft,
    draft_problems,
    parse_day,
    parse_moment,
)
from accounting.services.inbox import (
    DUPLICATE,
    UNKNOWN_COMPANY,
    CompanyLookup,
    inbox_receive,
    inbox_seen,
)
from companies.models import Company

from .licence_events import receive_licence_changed
from .models import ProgbatLink

logger = logging.getLogger(__name__)
EVENT_TYPES = {"invoice.validated", "invoice.updated"}
SIREN = re.compile(r"^[0-9]{9}$")
MAX_BODY_BYTES = 1_000_000
MAX_WEBHOOK_ID = 100
MAX_DEPTH = 32  # ProGBat's events nest 6 levels; deeper bodies are refused before any work
# An identifier looked up as is: printable, no NUL (PostgreSQL) nor lone surrogate (UTF-8).
IDENTIFIER = re.compile(r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]+")
ENTRY_PATH = "data.invoice.entry"


@dataclass
class Answer:
    status: int
    body: dict = field(default_factory=dict)
    inbox_decided: bool = False  # the inbox answered (stored it, or knew the webhook-id)


def _error(status, code, detail, fields=None):
    body = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return Answer(status, body)


def _malformed(fields, detail=None):
    return _error(400, "malformed", detail or _("Contenu invalide."), fields)


def _duplicate():
    return Answer(200, {"status": "duplicate",
                        "detail": _("Événement déjà reçu : sans nouvel effet.")})


def _text(container, key, errors, path, *, required=True):
    """A string field (cleaned and cut by accounting later); anything else is an error."""
    value = container.get(key) if isinstance(container, dict) else None
    if value is None or value == "":
        if required:
            errors[f"{path}{key}"] = _("Champ obligatoire.")
        return ""
    if not isinstance(value, str):
        errors[f"{path}{key}"] = _("Texte attendu.")
        return ""
    return value


def _no_constant(name):
    """NaN and Infinity are not JSON (Python's parser takes them; PostgreSQL's jsonb not)."""
    raise ValueError(f"{name} is not JSON")


def _too_deep(value):
    """Whether ``value`` nests more than ``MAX_DEPTH`` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def read_invoice_event(event):
    """ProGBat's ``invoice.*`` body → (account_id, siren, EntryDraft), or field errors."""
    errors = {}
    data = event.get("data")
    if not isinstance(data, dict):
        return None, {"data": _("Objet attendu.")}
    account_id = _text(data, "account_id", errors, "data.")
    if account_id and not IDENTIFIER.fullmatch(account_id):
        errors["data.account_id"] = _("Identifiant de compte ProGBat invalide.")
    siren = _text(data, "siren", errors, "data.")
    if siren and not SIREN.match(siren):
        errors["data.siren"] = _("SIREN de 9 chiffres attendu.")
    invoice = data.get("invoice")
    if not isinstance(invoice, dict):
        errors["data.invoice"] = _("Objet attendu.")
        return None, errors
    p = "data.invoice."
    invoice_id = _text(invoice, "id", errors, p)
    number = _text(invoice, "number", errors, p)
    version = invoice.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors[p + "version"] = _("Entier positif attendu.")
    if parse_moment(invoice.get("validated_at")) is None:
        errors[p + "validated_at"] = _(
            "Date et heure ISO 8601 avec fuseau attendues (années 1900 à 2999).")
    if parse_day(invoice.get("date")) is None:
        errors[p + "date"] = _("Date AAAA-MM-JJ attendue (années 1900 à 2999).")
    customer = invoice.get("customer")
    if not isinstance(customer, dict):
        errors[p + "customer"] = _("Objet attendu.")
        customer = {}
    name = _text(customer, "name", errors, p + "customer.")
    code = _text(customer, "account", errors, p + "customer.", required=False)
    entry = invoice.get("entry")
    if not isinstance(entry, dict):
        errors[p + "entry"] = _("Objet attendu.")
        return None, errors
    label = _text(entry, "label", errors, p + "entry.", required=False)
    lines = entry.get("lines")
    if not isinstance(lines, list) or len(lines) < 2:
        errors[p + "entry.lines"] = _("Au moins deux lignes attendues.")
        return None, errors
    line_drafts = []
    for index, line in enumerate(lines):
        lp = f"{p}entry.lines[{index}]."
        if not isinstance(line, dict):
            errors[lp[:-1]] = _("Objet attendu.")
            continue
        line_drafts.append(LineDraft(
            account=_text(line, "account", errors, lp),
            debit=line.get("debit"), credit=line.get("credit"),
            account_label=_text(line, "account_label", errors, lp, required=False),
            aux_account=_text(line, "aux_account", errors, lp, required=False),
            aux_label=_text(line, "aux_label", errors, lp, required=False)))
    draft = EntryDraft(source="progbat", source_ref=invoice_id,
                       source_version=version if "data.invoice.version" not in errors else 1,
                       date=invoice.get("date"), validated_at=invoice.get("validated_at"),
                       piece_ref=number, label=label, lines=tuple(line_drafts),
                       third_party_name=name, third_party_code=code)
    if errors:  # with accounting's own field errors, so that ProGBat sees them all at once
        _cleaned, malformed, _invalid = draft_problems(draft)
        return None, {**{_draft_path(k): v for k, v in malformed.items()}, **errors}
    return (account_id, siren, draft), {}


def _draft_path(key):
    if key == "entry":
        return ENTRY_PATH
    invoice_fields = {"source_version": "data.invoice.version", "source_ref": "data.invoice.id",
                      "date": "data.invoice.date", "validated_at": "data.invoice.validated_at"}
    if key in invoice_fields:
        return invoice_fields[key]
    return f"{ENTRY_PATH}.{key}"


@functools.lru_cache(maxsize=4)
def _verifier(secret):
    return Webhook(secret)


def _signed_bytes(body, headers):
    """Whether ``body`` carries a valid signature, verified over its raw bytes.

    standardwebhooks decodes the body as UTF-8 before signing it again, so it cannot check a
    body that is not UTF-8; this is its scheme on bytes (same secret, same 5-minute tolerance,
    same ``v1,<base64>`` signatures), so that such a body is told "malformed", not "unsigned".
    """
    hook = _verifier(settings.PROGBAT_WEBHOOK_SECRET)
    headers = {key.lower(): value for key, value in headers.items()}
    msg_id = headers.get("webhook-id", "")
    signatures = headers.get("webhook-signature", "")
    try:
        stamp = hook._Webhook__verify_timestamp(headers.get("webhook-timestamp", ""))
    except WebhookVerificationError:
        return False
    signed = f"{msg_id}.{math.floor(stamp.timestamp())}.".encode() + body
    expected = hmac.new(hook._whsecret, signed, hashlib.sha256).digest()
    for versioned in signatures.split(" "):
        version, _comma, signature = versioned.partition(",")
        try:
            given = base64.b64decode(signature)
        except (binascii.Error, ValueError):
            continue
        if version == "v1" and hmac.compare_digest(expected, given):
            return bool(msg_id)
    return False


def _verified(body, headers):
    try:
        body.decode()
    except UnicodeDecodeError:
        return _signed_bytes(body, headers)
    try:
        _verifier(settings.PROGBAT_WEBHOOK_SECRET).verify(body, dict(headers),
                                                           json_parse=False)
    except (WebhookVerificationError, ValueError):
        return False
    return True


@functools.cache
def _link_sql(vendor):
    qn = connection.ops.quote_name
    return (f"SELECT c.id AS company_id, c.firm_id AS firm_id, l.linked_at AS not_before "  # noqa: S608
            f"FROM {qn(ProgbatLink._meta.db_table)} l "
            f"JOIN {qn(Company._meta.db_table)} c ON c.id = l.company_id "
            "WHERE l.progbat_account_id = %s AND l.status = %s AND c.siret LIKE %s "
            "ORDER BY l.id LIMIT 1")


def _link_lookup(account_id, siren):
    """The company of the active link for that account and SIREN, as SQL the inbox runs
    inside its INSERT (one round trip per webhook; see ``CompanyLookup``). The SIREN is nine
    digits (checked): nothing to escape for LIKE."""
    return CompanyLookup(_link_sql(connection.vendor),
                         (account_id, ProgbatLink.Status.ACTIVE.value, siren + "%"))


def _link_exists(lookup):
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, lookup.params)
        return cursor.fetchone() is not None


def _no_active_link():
    return _error(404, "no_active_link",
                  _("Aucune liaison ProGBat active pour ce compte et ce SIREN."))


def receive(body: bytes, headers) -> Answer:
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "too_large", _("Corps de plus de %(n)d octets.") % {
            "n": MAX_BODY_BYTES})
    if not _verified(body, headers):
        return _error(401, "invalid_signature",
                      _("Signature absente, invalide ou trop ancienne (tolérance 5 minutes)."))
    webhook_id = headers.get("webhook-id", "")
    if len(webhook_id) > MAX_WEBHOOK_ID or not IDENTIFIER.fullmatch(webhook_id):
        return _malformed({"webhook-id": _("%(n)d caractères imprimables au plus.") % {
            "n": MAX_WEBHOOK_ID}})
    try:
        answer = _receive_event(body, webhook_id)
        # A webhook-id already received answers "duplicate" whatever its body says now. When
        # the inbox was asked, its unique key told; a refusal before that asks the inbox.
        if not answer.inbox_decided and inbox_seen(webhook_id):
            return _duplicate()
    except DatabaseError:
        # Not stored, or not known to be: no promise. ProGBat delivers again later (a 5xx is
        # retried; the webhook-id makes the next delivery count once).
        logger.exception("ProGBat webhook %s: database unavailable", webhook_id)
        return _error(503, "unavailable",
                      _("Service momentanément indisponible : renvoyez l'événement plus tard."))
    return answer


def _receive_event(body, webhook_id):
    try:
        text = body.decode()
        event = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return _error(400, "malformed", _("Le corps n'est pas du JSON valide en UTF-8."))
    # A document nests at most as deep as it has brackets: most bodies need no walk.
    if text.count("{") + text.count("[") > MAX_DEPTH and _too_deep(event):
        return _error(400, "malformed", _("JSON imbriqué sur plus de %(n)d niveaux.") % {
            "n": MAX_DEPTH})
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return _error(400, "malformed", _("Champ « type » obligatoire."),
                      {"type": _("Champ obligatoire.")})
    if event["type"] == "account.licence_changed":
        return Answer(*receive_licence_changed(event))
    if event["type"] not in EVENT_TYPES:
        return Answer(200, {"status": "ignored", "reason": "unknown_event_type",
                            "detail": _("Type d'événement non traité par MEG.")})
    read, errors = read_invoice_event(event)
    if errors:
        return _malformed(errors)
    account_id, siren, draft = read
    lookup = _link_lookup(account_id, siren)
    try:
        receipt = inbox_receive(company=lookup, webhook_id=webhook_id,
                                event_type=event["type"], draft=draft, payload=event,
                                payload_text=text)
    except DraftRefused as refused:
        if not _link_exists(lookup):  # without a link, that is what ProGBat must hear
            return _no_active_link()
        if refused.malformed:
            return _malformed({_draft_path(k): v for k, v in refused.malformed.items()})
        return _error(422, "invalid_entry", _("Écriture invalide."),
                      {_draft_path(k): v for k, v in refused.invalid.items()})
    if receipt.outcome == DUPLICATE:
        answer = _duplicate()
    elif receipt.outcome == UNKNOWN_COMPANY:
        answer = _no_active_link()
    elif receipt.outcome == "ignored":
        answer = Answer(200, {"status": "ignored", "reason": receipt.reason,
                              "detail": receipt.detail})
    elif receipt.outcome == "exported":
        answer = _error(409, receipt.reason, receipt.detail)
    else:
        answer = Answer(202, {"status": "queued"})
    answer.inbox_decided = True
    return answer
