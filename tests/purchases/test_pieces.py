"""Pièces of the purchases journal (DESIGN §7.2): the PDF of an Achats invoice is the pièce of
its HA entry (a correcting entry's too), opened from the export space's paperclip, private to
the company, and an export can carry the pièces in one ZIP."""

import hashlib
import io
import re
import zipfile
from html import unescape
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounting.models import Entry, EntryDocument, ExportBatch
from purchases.models import SupplierInvoice
from tests.conftest import client_for
from tests.purchases.conftest import a_pdf
from tests.purchases.test_purchases_journal import INVOICE, achats_url, api  # noqa: F401

PAPERCLIP = re.compile(r'<a href="([^"]+/piece\.pdf)"[^>]*data-testid="entry-document"'
                       r'[^>]*aria-label="([^"]+)"')


def space(company, query=""):
    return f"/entreprise/{company.pk}/export-ecritures/{query}"


def record(company, user, content, **fields):
    data = {**INVOICE, "amount_excl_tax": "1000.00", "vat_amount": "200.00",
            "amount_incl_tax": "1200.00", **fields}
    if content is not None:
        data["pdf"] = SimpleUploadedFile("facture.pdf", content, content_type="application/pdf")
    response = client_for(user).post(achats_url(company, "nouvelle/"), data)
    assert response.status_code == 302, unescape(response.content.decode())
    return SupplierInvoice.objects.get(number=fields.get("number", INVOICE["number"]),
                                       supplier_name=fields.get("supplier_name",
                                                                INVOICE["supplier_name"]))


def paperclips(client, company, query="?journals=HA"):
    response = client.get(space(company, query))
    assert response.status_code == 200
    return [(url, unescape(label)) for url, label in
            PAPERCLIP.findall(response.content.decode())]


def opened(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response, b"".join(response.streaming_content)


def document_files():
    root = Path(settings.MEDIA_ROOT).parent / "documents"
    return sorted(path for path in root.rglob("*.pdf"))


def test_the_invoice_pdf_is_the_piece_of_its_ha_entry_opened_from_a_paperclip(
        achats, dirigeant, accountant):
    pdf = a_pdf(pages=2)
    invoice = record(achats, dirigeant, pdf)
    entry = Entry.objects.get(journal__code="HA")
    [(url, label)] = paperclips(client_for(accountant), achats)
    assert url == f"/entreprise/{achats.pk}/export-ecritures/ecritures/{entry.pk}/piece.pdf"
    assert label == "Ouvrir la pièce B-17 (PDF, nouvel onglet)"
    page = client_for(accountant).get(space(achats, "?journals=HA")).content.decode()
    assert 'target="_blank"' in page and 'rel="noopener"' in page
    response, body = opened(client_for(accountant), url)
    assert body == pdf
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Cache-Control"] == "private, no-store"
    # Referenced where Achats stored it, not copied.
    document = EntryDocument.objects.get()
    assert document.file.name == invoice.pdf.name
    assert document.sha256 == hashlib.sha256(pdf).hexdigest() and document.size == len(pdf)
    assert len(document_files()) == 1


def test_the_api_gives_each_entry_its_piece_address(achats, dirigeant, accountant,
                                                    api):  # noqa: F811
    pdf = a_pdf()
    record(achats, dirigeant, pdf)
    record(achats, dirigeant, None, number="SANS-PDF")
    response = api.get(f"/api/v1/companies/{achats.pk}/entries/", {"journal": "HA"})
    documents = {entry["piece_ref"]: entry["document"] for entry in response.json()["results"]}
    entry = Entry.objects.get(piece_ref="B-17")
    assert documents == {"B-17": f"http://testserver/entreprise/{achats.pk}/export-ecritures/"
                                 f"ecritures/{entry.pk}/piece.pdf", "SANS-PDF": None}
    # The export space's view, for a signed-in browser (the API token opens no page).
    assert opened(client_for(accountant), documents["B-17"])[1] == pdf
    assert api.get(documents["B-17"]).status_code == 302


def test_an_invoice_without_pdf_shows_no_paperclip_and_its_piece_url_is_404(
        achats, dirigeant, accountant):
    record(achats, dirigeant, None)
    entry = Entry.objects.get(journal__code="HA")
    assert paperclips(client_for(accountant), achats) == []
    assert client_for(accountant).get(
        space(achats, f"ecritures/{entry.pk}/piece.pdf")).status_code == 404


def test_another_firm_never_opens_the_piece(achats, dirigeant, other_firm_user,
                                            other_company):
    record(achats, dirigeant, a_pdf())
    entry = Entry.objects.get(journal__code="HA")
    other = client_for(other_firm_user)
    assert other.get(space(achats, f"ecritures/{entry.pk}/piece.pdf")).status_code == 404
    # Its own company's address with our entry's id: 404 too.
    assert other.get(space(other_company, f"ecritures/{entry.pk}/piece.pdf")).status_code == 404


def test_the_media_url_of_a_piece_does_not_exist(achats, dirigeant, accountant):
    record(achats, dirigeant, a_pdf())
    name = EntryDocument.objects.get().file.name
    assert client_for(accountant).get(f"/media/{name}").status_code == 404
    assert name not in client_for(accountant).get(space(achats)).content.decode()


def test_a_replaced_pdf_replaces_the_piece(achats, dirigeant, accountant):
    invoice = record(achats, dirigeant, a_pdf(pages=1))
    newer = a_pdf(pages=3)
    response = client_for(dirigeant).post(achats_url(achats, f"{invoice.pk}/"), {
        **INVOICE, "amount_excl_tax": "1000.00", "vat_amount": "200.00",
        "amount_incl_tax": "1200.00",
        "pdf": SimpleUploadedFile("v2.pdf", newer, content_type="application/pdf")})
    assert response.status_code == 302, unescape(response.content.decode())
    [(url, _label)] = paperclips(client_for(accountant), achats)
    assert opened(client_for(accountant), url)[1] == newer


def test_a_correcting_entry_shows_the_same_piece(achats, dirigeant, accountant, api,  # noqa: F811
                                                 django_capture_on_commit_callbacks):
    pdf = a_pdf()
    invoice = record(achats, dirigeant, pdf)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/companies/{achats.pk}/exports/", {
            "format": "fec", "date_from": "2026-01-01", "date_to": "2026-12-31",
            "journals": ["HA"]}, content_type="application/json").status_code == 201
    exported = Entry.objects.get(journal__code="HA")
    assert exported.is_exported
    response = client_for(dirigeant).post(achats_url(achats, f"{invoice.pk}/"), {
        **INVOICE, "amount_excl_tax": "1100.00", "vat_amount": "220.00",
        "amount_incl_tax": "1320.00"})
    assert response.status_code == 302, unescape(response.content.decode())
    correction = Entry.objects.get(journal__code="HA", state="draft")
    assert correction.source_ref.startswith(exported.source_ref + "#c")
    urls = {url for url, _label in paperclips(client_for(accountant), achats)}
    assert urls == {space(achats, f"ecritures/{entry.pk}/piece.pdf")
                    for entry in (exported, correction)}
    for url in urls:
        assert opened(client_for(accountant), url)[1] == pdf


def export_zip(client, company, capture, **body):
    with capture(execute=True):
        response = client.post(f"/api/v1/companies/{company.pk}/exports/", {
            "format": "fec", "date_from": "2026-01-01", "date_to": "2026-12-31",
            "journals": ["HA"], **body}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["include_documents"] is body.get("include_documents", False)
    file = client.get(f"/api/v1/companies/{company.pk}/exports/{response.json()['id']}/file")
    assert file.status_code == 200, file.content
    return file, b"".join(file.streaming_content)


def test_an_export_with_its_pieces_is_one_zip_of_the_file_and_the_pdfs(
        achats, dirigeant, api, django_capture_on_commit_callbacks):  # noqa: F811
    first, second, third = a_pdf(pages=1), a_pdf(pages=2), a_pdf(pages=3)
    record(achats, dirigeant, first)  # B-17 from Bois & Cie
    record(achats, dirigeant, second, supplier_name="Tuiles SA")  # the same number: unique
    record(achats, dirigeant, third, number="F/2026 n°9: été", supplier_name="Sable")
    record(achats, dirigeant, None, number="SANS-PDF", supplier_name="Gravier")
    response, body = export_zip(api, achats, django_capture_on_commit_callbacks,
                                include_documents=True)
    batch = ExportBatch.objects.get()
    assert response["Content-Type"] == "application/zip"
    assert batch.served_file_name in response["Content-Disposition"]
    assert batch.served_file_name.endswith("_pieces.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[0] == batch.file_name
    assert sorted(names[1:]) == ["pieces/B-17-2.pdf", "pieces/B-17.pdf",
                                 "pieces/F_2026_n9_ete.pdf"]
    # The file inside is the self-checked, sealed file: its SHA-256 is the export's.
    fec = archive.read(batch.file_name)
    assert hashlib.sha256(fec).hexdigest() == batch.sha256
    assert fec.decode("utf-8-sig").splitlines()[0].startswith("JournalCode\tJournalLib")
    assert {archive.read(name) for name in names[1:]} == {first, second, third}
    assert hashlib.sha256(body).hexdigest() == batch.archive_sha256
    # Downloaded again: the same bytes.
    again = api.get(f"/api/v1/companies/{achats.pk}/exports/{batch.pk}/file")
    assert b"".join(again.streaming_content) == body


def test_an_export_without_pieces_is_the_file_alone(achats, dirigeant, api,  # noqa: F811
                                                    django_capture_on_commit_callbacks):
    record(achats, dirigeant, a_pdf())
    response, body = export_zip(api, achats, django_capture_on_commit_callbacks)
    assert response["Content-Type"] != "application/zip"
    assert hashlib.sha256(body).hexdigest() == ExportBatch.objects.get().sha256


def test_the_export_page_offers_the_pieces_and_serves_the_zip(
        achats, dirigeant, accountant, django_capture_on_commit_callbacks):
    pdf = a_pdf()
    record(achats, dirigeant, pdf)
    client = client_for(accountant)
    page = unescape(client.get(space(achats)).content.decode())
    assert "Inclure les pièces" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(space(achats), {
            "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["HA"],
            "format": "csv", "encoding": "utf-8-sig", "include_documents": "on"})
    assert response.status_code == 302
    batch = ExportBatch.objects.get()
    assert batch.include_documents and batch.status == "done"
    assert batch.served_file_name in unescape(client.get(space(achats)).content.decode())
    file = client.get(space(achats, f"exports/{batch.pk}/fichier/"))
    assert file.status_code == 200 and file["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(file.streaming_content)))
    assert archive.namelist() == [batch.file_name, "pieces/B-17.pdf"]
    assert archive.read("pieces/B-17.pdf") == pdf
    assert hashlib.sha256(archive.read(batch.file_name)).hexdigest() == batch.sha256


def test_an_altered_archive_is_not_served(achats, dirigeant, api,  # noqa: F811
                                          django_capture_on_commit_callbacks):
    record(achats, dirigeant, a_pdf())
    export_zip(api, achats, django_capture_on_commit_callbacks, include_documents=True)
    batch = ExportBatch.objects.get()
    with batch.archive.open("ab") as handle:
        handle.write(b"tampered")
    response = api.get(f"/api/v1/companies/{achats.pk}/exports/{batch.pk}/file")
    assert response.status_code == 409 and response.json()["error"] == "file_altered"
