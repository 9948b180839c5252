"""The invoice's PDF (``GET /api/v1/invoices/{id}/document``, the *pièce*): a small, valid,
one-page PDF written by hand — number, version, date, customer, lines and totals — so that
each version of an invoice has its own bytes. Only validated invoices have one.
"""

from decimal import Decimal

# Test control (``/_sandbox/documents``): what the endpoint answers instead of the PDF.
DOCUMENT_FAULTS = (None, "not_pdf", "too_big", "500")
_fault = {"document": None}
TOO_BIG_BYTES = 21 * 1024 * 1024  # above MEG's 20 MB


def _escape(text):
    # Helvetica with WinAnsi: Latin-1 covers French; the rest becomes "?".
    raw = text.encode("cp1252", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _money(amount):
    return f"{Decimal(amount):,.2f} €".replace(",", " ").replace(".", ",")


def invoice_pdf(invoice):
    lines = [
        ("Helvetica-Bold", 18, f"Facture {invoice.number}"),
        ("Helvetica", 11, f"Version {invoice.version} · {invoice.date:%d/%m/%Y}"),
        ("Helvetica", 11, f"Client : {invoice.customer_name} ({invoice.customer_account})"),
        ("Helvetica", 11, ""),
    ]
    for line in invoice.lines.all():
        lines.append(("Helvetica", 10, f"{line.label} — {_money(line.amount_excl_tax)} HT, "
                                       f"TVA {line.vat_rate} %"))
    lines += [
        ("Helvetica", 11, ""),
        ("Helvetica", 11, f"Total HT : {_money(invoice.total_excl_tax)}"),
        ("Helvetica", 11, f"TVA : {_money(invoice.total_vat)}"),
        ("Helvetica-Bold", 12, f"Total TTC : {_money(invoice.total_incl_tax)}"),
        ("Helvetica", 8, f"ProGBat (bac à sable) · {invoice.id}"),
    ]
    text, y = [], 790
    for font, size, value in lines:
        name = "F2" if font.endswith("Bold") else "F1"
        text.append(f"BT /{name} {size} Tf 56 {y} Td ({_escape(value)}) Tj ET")
        y -= size + 10
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def current_fault():
    return _fault["document"]


def set_fault(value):
    _fault["document"] = value
