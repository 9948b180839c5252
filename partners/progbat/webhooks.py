"""ProGBat → MEG webhooks (DESIGN §5.3): verify, validate, store in the inbox, answer.

Nothing is stored for 400 / 401 / 404 / 422. Accepted events are written to the inbox in the
same transaction that decides the answer, then journalised by Celery after commit.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounting.models import Entry, InboxEvent
from accounting.services.ingestion import progbat_journal
from meg.queue import enqueue_on_commit

from .models import ProgbatLink

logger = logging.getLogger(__name__)
EVENT_TYPES = {"invoice.validated", "invoice.updated"}
ACCOUNT = re.compile(r"^[1-9][0-9]{2,19}$")
SIREN = re.compile(r"^[0-9]{9}$")
CENT = Decimal("0.01")


@dataclass
class Answer:
    status: int
    body: dict = field(default_factory=dict)


def _error(status, code, detail, fields=None):
    body = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return Answer(status, body)


def _amount(value):
    """A decimal string with at most 2 decimals, ≥ 0; else None."""
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        return None
    return amount


def _text(container, key, errors, path, *, required=True, max_length=200):
    value = container.get(key) if isinstance(container, dict) else None
    if value is None or value == "":
        if required:
            errors[f"{path}{key}"] = _("Champ obligatoire.")
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        errors[f"{path}{key}"] = _("Texte de %(n)d caractères au plus attendu.") % {
            "n": max_length}
        return ""
    return value


def validate_invoice_event(event):
    """Field-level errors of the body (400), then amount errors (422). Returns (400, 422)."""
    errors, amount_errors = {}, {}
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        return {"data": _("Objet attendu.")}, {}
    _text(data, "account_id", errors, "data.", max_length=64)
    siren = _text(data, "siren", errors, "data.", max_length=9)
    if siren and not SIREN.match(siren):
        errors["data.siren"] = _("SIREN de 9 chiffres attendu.")
    invoice = data.get("invoice")
    if not isinstance(invoice, dict):
        errors["data.invoice"] = _("Objet attendu.")
        return errors, amount_errors
    p = "data.invoice."
    _text(invoice, "id", errors, p, max_length=100)
    _text(invoice, "number", errors, p, max_length=60)
    version = invoice.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors[p + "version"] = _("Entier positif attendu.")
    validated_at = invoice.get("validated_at")
    parsed = parse_datetime(validated_at) if isinstance(validated_at, str) else None
    if parsed is None or parsed.tzinfo is None:
        errors[p + "validated_at"] = _("Date et heure ISO 8601 avec fuseau attendues.")
    day = invoice.get("date")
    try:
        valid_day = isinstance(day, str) and parse_date(day) is not None
    except ValueError:
        valid_day = False
    if not valid_day:
        errors[p + "date"] = _("Date AAAA-MM-JJ attendue.")
    customer = invoice.get("customer")
    if not isinstance(customer, dict):
        errors[p + "customer"] = _("Objet attendu.")
    else:
        _text(customer, "name", errors, p + "customer.")
    entry = invoice.get("entry")
    if not isinstance(entry, dict):
        errors[p + "entry"] = _("Objet attendu.")
        return errors, amount_errors
    _text(entry, "label", errors, p + "entry.")
    lines = entry.get("lines")
    if not isinstance(lines, list) or len(lines) < 2:
        errors[p + "entry.lines"] = _("Au moins deux lignes attendues.")
        return errors, amount_errors
    debit_total = credit_total = Decimal("0")
    for index, line in enumerate(lines):
        lp = f"{p}entry.lines[{index}]."
        if not isinstance(line, dict):
            errors[lp[:-1]] = _("Objet attendu.")
            continue
        account = _text(line, "account", errors, lp, max_length=20)
        if account and not ACCOUNT.match(account):
            errors[lp + "account"] = _("Numéro de compte du PCG attendu (chiffres).")
        for key in ("aux_account", "aux_label", "account_label"):
            _text(line, key, errors, lp, required=False)
        debit, credit = _amount(line.get("debit")), _amount(line.get("credit"))
        if debit is None or credit is None:
            amount_errors[lp + "amounts"] = _(
                "Montants attendus en chaînes décimales positives à 2 décimales au plus.")
            continue
        if (debit > 0) == (credit > 0):
            amount_errors[lp + "amounts"] = _("Une ligne porte soit un débit, soit un crédit.")
        debit_total += debit
        credit_total += credit
    if not amount_errors and (debit_total != credit_total or debit_total <= 0):
        amount_errors[p + "entry"] = _(
            "Écriture déséquilibrée : débit %(d)s ≠ crédit %(c)s.") % {
            "d": debit_total, "c": credit_total}
    return errors, amount_errors


def receive(body: bytes, headers) -> Answer:
    try:
        Webhook(settings.PROGBAT_WEBHOOK_SECRET).verify(body, dict(headers), json_parse=False)
    except (WebhookVerificationError, ValueError):
        return _error(401, "invalid_signature",
                      _("Signature absente, invalide ou trop ancienne (tolérance 5 minutes)."))
    webhook_id = headers.get("webhook-id", "")
    with scopes_disabled():
        if InboxEvent.objects.filter(webhook_id=webhook_id).exists():
            return Answer(200, {"status": "duplicate",
                                "detail": _("Événement déjà reçu : sans nouvel effet.")})
        try:
            event = json.loads(body)
        except ValueError:
            return _error(400, "malformed", _("Le corps n'est pas du JSON valide."))
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return _error(400, "malformed", _("Champ « type » obligatoire."),
                          {"type": _("Champ obligatoire.")})
        if event["type"] not in EVENT_TYPES:
            return Answer(200, {"status": "ignored", "reason": "unknown_event_type",
                                "detail": _("Type d'événement non traité par MEG.")})
        errors, amount_errors = validate_invoice_event(event)
        if errors:
            return _error(400, "malformed", _("Contenu invalide."), errors)
        if amount_errors:
            return _error(422, "invalid_entry", _("Écriture invalide."), amount_errors)
        return _store(webhook_id, event)


def _store(webhook_id, event):
    data = event["data"]
    invoice = data["invoice"]
    link = (ProgbatLink.objects.select_related("company")
            .filter(progbat_account_id=data["account_id"], company__siret__startswith=data["siren"],
                    status=ProgbatLink.Status.ACTIVE).first())
    if link is None:
        return _error(404, "no_active_link",
                      _("Aucune liaison ProGBat active pour ce compte et ce SIREN."))
    row = InboxEvent(firm_id=link.firm_id, company=link.company, partner="progbat",
                     webhook_id=webhook_id, event_type=event["type"], source_ref=invoice["id"],
                     source_version=invoice["version"], payload=event)
    answer = Answer(202, {"status": "queued"})
    if parse_datetime(invoice["validated_at"]) < link.linked_at:
        row.status, row.reason = InboxEvent.Status.IGNORED, _(
            "Facture validée avant l'activation de la liaison (non rétroactif).")
        answer = Answer(200, {"status": "ignored", "reason": "validated_before_link",
                              "detail": row.reason})
    elif Entry.objects.filter(journal=progbat_journal(link.company), source_ref=invoice["id"],
                              state=Entry.State.EXPORTED).exists():
        row.status, row.reason = InboxEvent.Status.REJECTED, _(
            "La facture est déjà exportée en comptabilité : son écriture ne change plus.")
        answer = _error(409, "entry_exported", row.reason)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # the same webhook-id arrived concurrently
        return Answer(200, {"status": "duplicate",
                            "detail": _("Événement déjà reçu : sans nouvel effet.")})
    if row.status == InboxEvent.Status.RECEIVED:
        from accounting.tasks import inbox_process

        enqueue_on_commit(inbox_process)
    return answer
