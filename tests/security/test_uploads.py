"""Finding 6: an invoice's PDF is checked (size cap, a PDF a parser opens) and served only by a
view that applies the Achats access rules, never from a guessable public /media/ path."""

from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from purchases.models import SupplierInvoice
from purchases.services import invoice_create
from tests.conftest import client_for
from tests.purchases.conftest import a_pdf, make_invoice

FIELDS = {"supplier_name": "Bois & Cie", "number": "B-18", "issue_date": "2026-11-01",
          "due_date": "2026-11-30", "amount_excl_tax": "10.00", "vat_amount": "2.00",
          "amount_incl_tax": "12.00", "payment_method": "cheque"}


def create(company, user, content, name="facture.pdf"):
    pdf = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client_for(user).post(f"/entreprise/{company.pk}/achats/nouvelle/",
                                 {**FIELDS, "pdf": pdf})


def refused(response, message):
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not SupplierInvoice.objects.exists()


def document_url(invoice):
    return f"/entreprise/{invoice.company_id}/achats/{invoice.pk}/facture.pdf"


def test_the_size_cap_is_a_setting_of_20_mb_by_default():
    assert settings.MEG_MAX_UPLOAD_MB == 20


def test_a_file_over_the_cap_is_refused(achats, dirigeant, settings):
    settings.MEG_MAX_UPLOAD_MB = 1
    big = a_pdf() + b"%" + b"0" * (1024 * 1024)  # a real PDF, padded with a comment
    refused(create(achats, dirigeant, big), "dépasse 1 Mo")


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00 not a pdf",
    b"%PDF-" + b"\x00" * 5000,  # only the first 5 bytes were checked before
    b"%PDF-1.7\n<html><script>alert(1)</script></html>",
    a_pdf()[:200],  # cut short
], ids=["exe", "magic-only", "html-polyglot", "truncated"])
def test_a_file_that_is_not_a_readable_pdf_is_refused(achats, dirigeant, content):
    refused(create(achats, dirigeant, content), "pas un PDF lisible")


def test_a_pdf_protected_by_a_password_is_refused(achats, dirigeant):
    refused(create(achats, dirigeant, a_pdf(password="secret")), "mot de passe")


def test_the_service_checks_the_file_too(achats, dirigeant):
    with pytest.raises(ValidationError) as error:
        make_invoice(achats, dirigeant, pdf=ContentFile(b"%PDF-junk", name="f.pdf"))
    assert "pdf" in error.value.message_dict
    assert not SupplierInvoice.objects.exists()


@pytest.fixture
def with_pdf(achats, dirigeant):
    content = a_pdf(pages=2)
    assert create(achats, dirigeant, content, name="../../Facture Bois.pdf").status_code == 302
    return SupplierInvoice.objects.get(), content


def test_a_real_pdf_is_accepted_and_served_inline_to_the_invoice_s_users(with_pdf, dirigeant,
                                                                         accountant):
    invoice, content = with_pdf
    for user in (dirigeant, accountant):
        response = client_for(user).get(document_url(invoice))
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content) == content
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'inline; filename="facture-bois-cie-b-18.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
    page = client_for(dirigeant).get(f"/entreprise/{invoice.company_id}/achats/{invoice.pk}/")
    html = page.content.decode()
    assert html.count(f'href="{document_url(invoice)}"') == 2  # the page's link and the form's
    assert invoice.pdf.name not in html


def test_users_without_access_do_not_get_the_pdf(with_pdf, dirigeant, salarie,
                                                 other_firm_user, other_company):
    invoice, _content = with_pdf
    assert client_for(other_firm_user).get(document_url(invoice)).status_code == 404
    assert client_for(salarie).get(document_url(invoice)).status_code == 403  # no Achats
    # The invoice's id under the other firm's own company: not found there (or no Achats).
    other_side = f"/entreprise/{other_company.pk}/achats/{invoice.pk}/facture.pdf"
    assert client_for(other_firm_user).get(other_side).status_code in (403, 404)
    response = client_for(dirigeant).get(
        f"/entreprise/{invoice.company_id}/achats/{invoice.pk + 1}/facture.pdf")
    assert response.status_code == 404


def test_the_stored_file_has_no_public_address(with_pdf, dirigeant):
    invoice, _content = with_pdf
    name = invoice.pdf.name
    assert "Facture" not in name and ".." not in name and len(Path(name).stem) == 32
    assert not (Path(settings.MEDIA_ROOT) / name).exists()
    assert not Path(invoice.pdf.path).is_relative_to(Path(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):
        invoice.pdf.url  # noqa: B018
    client = client_for(dirigeant)
    for path in (f"/media/{name}", f"{settings.MEDIA_URL}{name}", f"/{name}"):
        assert client.get(path).status_code == 404, path


def test_a_replaced_pdf_is_checked_and_an_invoice_without_pdf_has_none(with_pdf, dirigeant,
                                                                       achats, accountant):
    invoice, content = with_pdf
    client = client_for(dirigeant)
    page = f"/entreprise/{invoice.company_id}/achats/{invoice.pk}/"
    bad = SimpleUploadedFile("f.pdf", b"%PDF-1.4 nope", content_type="application/pdf")
    assert client.post(page, {**FIELDS, "pdf": bad}).status_code == 400
    invoice.refresh_from_db()
    assert invoice.pdf.open("rb").read() == content
    bare = invoice_create(company=achats, actor=accountant, **{**FIELDS, "number": "B-19"})
    assert client.get(document_url(bare)).status_code == 404
