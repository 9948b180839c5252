"""ProGBat's pièces: once invoices' entries are journalised (new ones, or later versions), MEG
fetches each invoice's PDF (``GET /api/v1/invoices/{id}/document``, DESIGN §5.2) through the
outbox and attaches it beside the entry (``accounting.services.documents``).

One outbox message per journalised batch (at most ``FETCH_BATCH_MAX`` invoices), not one per
invoice: a burst of 20,000 webhooks must not become 20,000 relay tasks. Delivering it fetches
each document not yet attached at that version (a retry skips those already done). ProGBat
unavailable → the message is retried as every outbox message is (what was attached stays). A
document refused — not a PDF, too large, unknown at ProGBat — is recorded with its reason on
the message (failed), the others are attached. Without a usable ProGBat connection the
message fails at once with the reason (someone must reconnect; support's « Renvoyer
maintenant » then fetches them): a pièce is not worth an hour of retries per batch.
"""

import hashlib
import json

from django.utils.translation import gettext as _

from accounting.models import EntryDocument, Journal
from accounting.services.documents import (
    DocumentRefused,
    document_refusal_message,
    entry_document_attach,
)
from meg.pdf import TOO_LARGE, max_document_bytes
from partners.common.exceptions import PartnerRejected
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_enqueue_together

from .models import ProgbatLink
from .services import ConnectionUnusable
from .services.calls import call_progbat, unusable_connection_message

ACTION = "progbat.fetch_documents"
FETCH_BATCH_MAX = 500


def documents_fetch_queue(company, entries):
    """Receiver of ``entries_journalised``: the fetch of the journalised ProGBat invoices'
    documents, written in the journalising transaction, delivered after it commits."""
    wanted = [[entry.source_ref, entry.source_version] for entry in entries
              if entry.source == Journal.Source.PROGBAT]
    written = []
    for start in range(0, len(wanted), FETCH_BATCH_MAX):
        invoices = wanted[start:start + FETCH_BATCH_MAX]
        digest = hashlib.sha256(json.dumps(invoices).encode()).hexdigest()[:40]
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=f"progbat-documents:{company.pk}:{digest}",
            defaults={"firm_id": company.firm_id, "company_id": company.pk,
                      "partner": "progbat", "action": ACTION,
                      "payload": {"invoices": invoices}})
        if created:
            written.append(message.pk)
    outbox_enqueue_together(written)


def _attached_versions(company, invoice_ids):
    return dict(EntryDocument.objects.filter(
        company=company, journal__source=Journal.Source.PROGBAT, source_ref__in=invoice_ids)
        .values_list("source_ref", "source_version"))


def fetch_documents(message):
    """Outbox handler: fetch and attach the documents of the message's invoice versions."""
    link = ProgbatLink.objects.select_related("company").get(company_id=message.company_id)
    invoices = message.payload["invoices"]
    attached = _attached_versions(link.company, [invoice_id for invoice_id, _v in invoices])
    done, skipped, refused = 0, 0, []
    for invoice_id, version in invoices:
        if attached.get(invoice_id, 0) >= version:  # already there (a retry), or newer
            skipped += 1
            continue
        reason = _fetch_one(link, message, invoice_id, version)
        if reason:
            refused.append(f"{invoice_id} (v{version}) : {reason}")
        else:
            done += 1
    if refused:
        # What was attached stays (the outbox keeps a handler's writes on a partner error).
        raise PartnerRejected("document_refused", " · ".join(refused))
    return {"attached": done, "skipped": skipped}


def _fetch_one(link, message, invoice_id, version):
    """Attach one invoice's document; the reason when it is refused, else ""."""
    limit = max_document_bytes()
    try:
        download = call_progbat(link, message.actor,
                                lambda c: c.invoice_document(invoice_id, max_bytes=limit))
    except ConnectionUnusable as error:
        raise PartnerRejected("connection_unusable", unusable_connection_message(error)) \
            from None
    except PartnerRejected as error:
        return error.detail or error.code
    if download.too_large:
        return document_refusal_message(TOO_LARGE)
    with download.file as file:
        if download.content_type != "application/pdf":
            return _("Le document de ProGBat n'est pas un PDF (type « %(type)s ») : il n'est "
                     "pas joint à l'écriture.") % {"type": download.content_type or "?"}
        try:
            entry_document_attach(company=link.company, source=Journal.Source.PROGBAT,
                                  source_ref=invoice_id, source_version=version, content=file)
        except DocumentRefused as error:
            return error.message
    return ""
