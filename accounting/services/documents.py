"""Pièces: the PDF of a source document, attached beside the entries that book it (DESIGN
§7.2; ``models.EntryDocument`` says why beside and not on the entry).

Sources attach in their own words — a stored name they already hold (Achats: the invoice's
PDF, referenced, never copied) or a file they fetched (ProGBat's document) — and accounting
checks what it keeps: a PDF a parser opens, within ``MEG_MAX_UPLOAD_MB``. An older version of
the document never replaces a newer one's pièce.
"""

import hashlib

from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from meg.pdf import ENCRYPTED, TOO_LARGE, pdf_refusal

from ..models import EntryDocument
from .entries import CORRECTION_MARK
from .journals import journal_for


class DocumentRefused(Exception):
    """The file is not a pièce MEG keeps: ``code`` (``too_large``, ``not_a_pdf``,
    ``encrypted``) and a French ``message`` saying so."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def document_refusal_message(code):
    from django.conf import settings

    if code == TOO_LARGE:
        return _("Le document dépasse %(n)d Mo : il n'est pas joint à l'écriture.") % {
            "n": settings.MEG_MAX_UPLOAD_MB}
    if code == ENCRYPTED:
        return _("Le document est un PDF protégé par un mot de passe : il n'est pas joint à "
                 "l'écriture.")
    return _("Le document n'est pas un PDF lisible : il n'est pas joint à l'écriture.")


def document_source_ref(source_ref):
    """The source document an entry books: a correcting entry's (``…#c1``) is its original's."""
    return source_ref.split(CORRECTION_MARK, 1)[0]


def _digest(handle):
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def entry_document_attach(*, company, source, source_ref, source_version, content=None,
                          stored_name=None, actor=None):
    """Attach the pièce of the document ``source_ref`` of ``source``'s journal: either
    ``stored_name``, a file the source already keeps in the ``documents`` storage (checked
    when it was uploaded; referenced as is), or ``content``, a seekable binary file to check
    and store. Raises ``DocumentRefused`` (nothing changed) for a file that is not a PDF or is
    too large. Returns the ``EntryDocument``, or None when a newer version is attached."""
    journal = journal_for(company, source)
    document = (EntryDocument.objects.select_for_update()
                .filter(journal=journal, source_ref=source_ref).first())
    if document is not None and document.source_version > source_version:
        return None
    if document is None:
        document = EntryDocument(firm_id=company.firm_id, company=company, journal=journal,
                                 source_ref=source_ref)
    previous = document.file.name if document.pk else ""
    previous_owned = bool(document.pk) and document.origin == EntryDocument.Origin.PARTNER
    previous_sha256 = document.sha256
    document.source_version = source_version
    if stored_name is not None:
        document.origin = EntryDocument.Origin.PURCHASES
        document.file.name = stored_name
        if stored_name != previous or not document.sha256:
            try:
                with document.file.open("rb") as handle:
                    document.sha256, document.size = _digest(handle)
            except FileNotFoundError:  # a name without its file: shown as missing
                document.sha256, document.size = "", 0
    else:
        content.seek(0, 2)
        size = content.tell()
        refusal = pdf_refusal(content, size)
        if refusal is not None:
            raise DocumentRefused(refusal, document_refusal_message(refusal))
        document.sha256, document.size = _digest(content)
        if previous_owned and document.sha256 == previous_sha256:
            document.save()  # the same bytes again: only the version moves
            return document
        document.origin = EntryDocument.Origin.PARTNER
        document.file.save("piece.pdf", File(content), save=False)
        audit_record(firm=company.firm, company=company, actor=actor,
                     action="entry.document_attached",
                     summary=lambda: _("Pièce jointe à l'écriture de %(ref)s (version %(v)s)")
                     % {"ref": source_ref, "v": source_version},
                     data={"source": source, "source_ref": source_ref,
                           "version": source_version, "sha256": document.sha256})
    document.save()
    if previous_owned and previous and previous != document.file.name:
        storage = document.file.storage
        transaction.on_commit(lambda: storage.delete(previous))
    return document


@transaction.atomic
def entry_document_detach(*, company, source, source_ref):
    """The document has no pièce any more (an Achats invoice's PDF removed)."""
    journal = journal_for(company, source)
    EntryDocument.objects.filter(journal=journal, source_ref=source_ref).delete()
