"""ProGBat's pièces: once an invoice's entry is journalised (a new one, or a later version),
MEG fetches the invoice's PDF (``GET /api/v1/invoices/{id}/document``, DESIGN §5.2) through the
outbox and attaches it beside the entry (``accounting.services.documents``).

One outbox message per invoice version: failures are retried as every outbox message is; an
answer that is not a PDF, or too large, is refused and the message fails with that reason (in
its attempts, for support). A version older than the attached one never replaces it.
"""

from django.utils.translation import gettext as _

from accounting.models import Journal
from accounting.services.documents import (
    DocumentRefused,
    document_refusal_message,
    entry_document_attach,
)
from meg.pdf import TOO_LARGE, max_document_bytes
from partners.common.exceptions import PartnerRejected, PartnerUnavailable
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_enqueue_together

from .models import ProgbatLink
from .services import ConnectionUnusable
from .services.calls import call_progbat, unusable_connection_message

ACTION = "progbat.fetch_document"


def document_key(company_id, invoice_id, version):
    return f"progbat-document:{company_id}:{invoice_id}:{version}"


def documents_fetch_queue(company, entries):
    """Receiver of ``entries_journalised``: one fetch per journalised ProGBat invoice version
    (written in the journalising transaction; delivered by one relay task)."""
    wanted = [entry for entry in entries if entry.source == Journal.Source.PROGBAT]
    if not wanted:
        return
    keys = [document_key(company.pk, entry.source_ref, entry.source_version)
            for entry in wanted]
    OutboxMessage.objects.bulk_create([
        OutboxMessage(firm_id=company.firm_id, company_id=company.pk, partner="progbat",
                      action=ACTION, idempotency_key=key,
                      payload={"invoice_id": entry.source_ref,
                               "version": entry.source_version})
        for entry, key in zip(wanted, keys, strict=True)], ignore_conflicts=True)
    outbox_enqueue_together(OutboxMessage.objects.filter(
        idempotency_key__in=keys, status=OutboxMessage.Status.PENDING)
        .values_list("pk", flat=True))


def fetch_document(message):
    """Outbox handler: fetch the invoice's PDF and attach it to its entry."""
    link = ProgbatLink.objects.select_related("company").get(company_id=message.company_id)
    invoice_id, version = message.payload["invoice_id"], message.payload["version"]
    limit = max_document_bytes()
    try:
        download = call_progbat(link, message.actor,
                                lambda c: c.invoice_document(invoice_id, max_bytes=limit))
    except ConnectionUnusable as error:
        raise PartnerUnavailable(unusable_connection_message(error)) from None
    if download.too_large:
        raise PartnerRejected("document_refused", document_refusal_message(TOO_LARGE))
    with download.file as file:
        if download.content_type != "application/pdf":
            raise PartnerRejected("document_refused", _(
                "Le document de ProGBat n'est pas un PDF (type « %(type)s ») : il n'est pas "
                "joint à l'écriture.") % {"type": download.content_type or "?"})
        try:
            document = entry_document_attach(
                company=link.company, source=Journal.Source.PROGBAT, source_ref=invoice_id,
                source_version=version, content=file)
        except DocumentRefused as refused:
            raise PartnerRejected("document_refused", refused.message) from None
    if document is None:
        return {"attached": False, "reason": "newer_version_attached"}
    return {"attached": True, "size": document.size, "sha256": document.sha256}
