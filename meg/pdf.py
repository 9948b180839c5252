"""Is this file a PDF we accept as a document (an invoice's PDF, a pièce)? One check for every
way a PDF reaches MEG: a user's upload (Achats) and a partner's answer (ProGBat's document)."""

from django.conf import settings
from pypdf import PdfReader

TOO_LARGE = "too_large"
NOT_A_PDF = "not_a_pdf"
ENCRYPTED = "encrypted"


def max_document_bytes():
    return settings.MEG_MAX_UPLOAD_MB * 1024 * 1024


def pdf_refusal(handle, size):
    """``None`` when ``handle`` (a seekable binary file of ``size`` bytes) is a PDF a parser
    opens and reads pages from, within ``MEG_MAX_UPLOAD_MB``; else why not: ``TOO_LARGE``,
    ``NOT_A_PDF`` or ``ENCRYPTED`` (a password is needed). The file is left at its start."""
    if size > max_document_bytes():
        return TOO_LARGE
    try:
        handle.seek(0)
        if handle.read(5) != b"%PDF-":
            return NOT_A_PDF
        handle.seek(0)
        reader = PdfReader(handle)
        if reader.is_encrypted and not reader.decrypt(""):
            return ENCRYPTED
        pages = len(reader.pages)
    except Exception:  # a damaged file makes pypdf raise about anything
        return NOT_A_PDF
    finally:
        handle.seek(0)
    return None if pages else NOT_A_PDF
