"""Files an accountant can sign (DESIGN §7.1): FEC hygiene, the import CSV, periods that never
span a closing date, re-exports, and a seal that catches tampering."""

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounting.formats import FEC_COLUMNS, FecInvalid, fec_check
from accounting.models import Entry, EntryLine, ExportBatch, Journal
from accounting.services.exports import export_request
from tests.accounting.conftest import invoice_event, tampering

YEAR = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))


@pytest.fixture
def export(accountant, django_capture_on_commit_callbacks):
    def run(company, format="fec", journals=("VT",), period=YEAR, **options):
        with django_capture_on_commit_callbacks(execute=True):
            batch = export_request(company=company, actor=accountant, format=format,
                                   journal_codes=list(journals), date_from=period[0],
                                   date_to=period[1], **options)
        batch.refresh_from_db()
        assert batch.status == "done", batch.error
        return batch

    return run


def read(batch):
    with batch.file.open("rb") as handle:
        return handle.read()


def fec_rows(batch):
    content = read(batch).decode("utf-8")
    rows = [line.split("\t") for line in content.split("\r\n") if line]
    assert all(len(row) == 18 for row in rows), rows
    return [dict(zip(FEC_COLUMNS, row, strict=True)) for row in rows[1:]]


def verify(company=None):
    """``verify_journals`` for the tests' company (other tests may leave committed data)."""
    out = StringIO()
    company_id = company.pk if company else Entry.objects.values_list("company_id", flat=True)[0]
    try:
        call_command("verify_journals", "--company", str(company_id), stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_fec_cleans_rows_already_in_the_books(linked_company, post_webhook, export):
    """Rows written before the door cleaned text (or by hand) still give a legal FEC."""
    assert post_webhook(invoice_event(linked_company)).status_code == 202
    EntryLine.objects.filter(account="411000").update(aux_account="DU\tPO", aux_label="  ")
    Entry.objects.update(label="\t", piece_ref=" ")
    EntryLine.objects.update(label=" ")
    lines = fec_rows(export(linked_company))
    first = lines[0]
    assert (first["CompAuxNum"], first["CompAuxLib"]) == ("DU PO", "DU PO")
    assert first["PieceRef"] == "VT-2026-000001"
    assert all(line["EcritureLib"] for line in lines)


def test_fec_self_check_refuses_a_broken_file_saying_which_line():
    header = ("\t".join(FEC_COLUMNS) + "\r\n").encode()
    good = "VT\tVentes\tVT-1\t20260610\t411000\tClients\tDUPO\tDUPONT\tF1\t20260610\tF1\t" \
           "120,00\t0,00\t\t\t20261130\t\t\r\n"
    assert fec_check([header, good.encode(), good.replace("120,00\t0,00", "0,00\t120,00")
                      .encode()]) == 2
    with pytest.raises(FecInvalid) as error:
        fec_check([header, good.replace("\tF1\t2026", "\t\t2026").encode()])
    assert error.value.line == 2 and "PieceRef" in str(error.value)
    with pytest.raises(FecInvalid, match="19 champs au lieu de 18"):
        fec_check([header, good.replace("DUPO\t", "DU\tPO\t").encode()])
    with pytest.raises(FecInvalid, match="équilibrée"):
        fec_check([header, good.encode()])
    with pytest.raises(FecInvalid, match="UTF-8"):
        fec_check([header, good.encode("latin-1").replace(b"Ventes", b"Vent\xe9s")])
    with pytest.raises(FecInvalid, match="exercice"):
        fec_check([header, good.encode()],
                  period=(datetime.date(2027, 1, 1), datetime.date(2027, 12, 31)))


def test_csv_neutralises_formulas_and_line_breaks(linked_company, post_webhook, export):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["lines"][0]["aux_label"] = '=HYPERLINK("http://x")'
    assert post_webhook(event).status_code == 202
    EntryLine.objects.filter(account="706000").update(account_label="Ventes\r\nde travaux")
    content = read(export(linked_company, format="csv")).decode("utf-8-sig")
    lines = content.split("\r\n")
    assert len([line for line in lines if line]) == 4  # header + 3: no break inside a field
    assert "'=HYPERLINK(" in lines[1] and ";=" not in lines[1] and ';"=' not in lines[1]
    assert "Ventes de travaux" in lines[2]
    # The account column is the account; the customer code has its own column.
    assert [line.split(";")[6] for line in lines[1:4]] == ["411000", "706000", "445720"]


def test_csv_in_iso_8859_15_transliterates_what_it_lacks(linked_company, post_webhook,
                                                         export):
    event = invoice_event(linked_company)
    event["data"]["invoice"]["entry"]["label"] = "Œuvre “fin” – été ≠"
    assert post_webhook(event).status_code == 202
    raw = read(export(linked_company, format="csv", encoding="iso-8859-15"))
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("iso-8859-15")
    assert 'Œuvre "fin" - été =' in text


def test_a_period_across_a_closing_date_is_refused_with_the_two_periods(linked_company,
                                                                        post_webhook,
                                                                        accountant):
    post_webhook(invoice_event(linked_company, date="2026-06-30"))
    with pytest.raises(ValidationError) as error:
        export_request(company=linked_company, actor=accountant, format="fec",
                       journal_codes=["VT"], date_from=datetime.date(2026, 6, 30),
                       date_to=datetime.date(2027, 7, 1))
    message = " ".join(error.value.messages)
    assert "30/06/2026 au 31/12/2026" in message and "01/01/2027 au 01/07/2027" in message
    assert not ExportBatch.objects.exists()


def test_closing_date_of_the_company_decides_the_fiscal_year(linked_company, post_webhook,
                                                             accountant, client):
    linked_company.fiscal_year_end_day, linked_company.fiscal_year_end_month = 30, 6
    linked_company.save()
    post_webhook(invoice_event(linked_company, date="2026-06-30"))
    client.force_login(accountant)
    response = client.post(f"/api/v1/companies/{linked_company.pk}/exports/", {
        "format": "fec", "date_from": "2026-06-30", "date_to": "2026-07-01"},
        content_type="application/json")
    assert response.status_code == 400
    assert "30/06/2026" in str(response.json()) and "01/07/2026" in str(response.json())


def test_the_same_period_can_be_exported_again(linked_company, post_webhook, export):
    post_webhook(invoice_event(linked_company))
    first = export(linked_company)
    post_webhook(invoice_event(linked_company, invoice_id="inv_2", number="FAC002"))
    again = export(linked_company, include_exported=True)
    assert (again.entry_count, first.entry_count) == (2, 1)
    numbers = [line["EcritureNum"] for line in fec_rows(again)]
    assert sorted(set(numbers)) == ["VT-2026-000001", "VT-2026-000002"]
    intact, output = verify()
    assert intact, output


def test_renaming_a_journal_keeps_one_journal_and_an_intact_seal(linked_company, post_webhook,
                                                                 export, accountant, client):
    post_webhook(invoice_event(linked_company))
    export(linked_company)
    journal = Journal.objects.get()
    client.force_login(accountant)
    response = client.patch(f"/api/v1/companies/{linked_company.pk}/journals/{journal.pk}/",
                            {"code": "VE", "label": "Ventes chantiers"},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    post_webhook(invoice_event(linked_company, invoice_id="inv_2", number="FAC002"))
    assert Journal.objects.count() == 1
    batch = export(linked_company, journals=("VE",))
    assert {line["JournalCode"] for line in fec_rows(batch)} == {"VE"}
    assert verify() == (True, verify()[1])
    bad = client.patch(f"/api/v1/companies/{linked_company.pk}/journals/{journal.pk}/",
                       {"code": "v e"}, content_type="application/json")
    assert bad.status_code == 400


@pytest.fixture
def two_exported(linked_company, post_webhook, export):
    for n in (1, 2, 3):
        post_webhook(invoice_event(linked_company, invoice_id=f"inv_{n}", number=f"FAC00{n}"))
    batch = export(linked_company)
    intact, output = verify()
    assert intact, output
    return batch


def _delete(piece_ref):
    return [f"DELETE FROM accounting_entryline WHERE entry_id IN (SELECT id FROM "
            f"accounting_entry WHERE piece_ref = '{piece_ref}')",
            "UPDATE accounting_inboxevent SET entry_id = NULL",
            f"DELETE FROM accounting_entry WHERE piece_ref = '{piece_ref}'"]


@pytest.mark.parametrize("statements, says", [
    (["UPDATE accounting_entryline SET debit = 121 WHERE debit = 120 AND entry_id = "
      "(SELECT id FROM accounting_entry WHERE piece_ref = 'FAC002')"], "empreinte"),
    (_delete("FAC002"), "chaînage"),
    (_delete("FAC003"), "Sceau"),
    (["UPDATE accounting_entry SET state = 'draft' WHERE piece_ref = 'FAC003'"], "brouillon"),
    (["UPDATE accounting_entry SET journal_label = 'Autre' WHERE piece_ref = 'FAC001'"],
     "empreinte"),
], ids=["amount", "middle-deleted", "last-deleted", "back-to-draft", "journal-label"])
def test_verify_journals_catches_tampering(two_exported, statements, says):
    with tampering() as cursor:
        for statement in statements:
            cursor.execute(statement)
    intact, output = verify()
    assert not intact
    assert says in output


def test_an_altered_export_file_is_reported_and_not_served(two_exported, client, accountant):
    path = two_exported.file.path
    with open(path, "r+b") as handle:
        handle.seek(-10, 2)
        handle.write(b"9")
    intact, output = verify()
    assert not intact and "SHA-256" in output
    client.force_login(accountant)
    company = two_exported.company_id
    page = client.get(f"/entreprise/{company}/export-ecritures/exports/{two_exported.pk}/"
                      "fichier/")
    assert page.status_code == 409 and "empreinte" in page.content.decode()
    api = client.get(f"/api/v1/companies/{company}/exports/{two_exported.pk}/file")
    assert api.status_code == 409 and api.json()["error"] == "file_altered"


def test_an_untouched_file_downloads_byte_for_byte(two_exported, client, accountant):
    client.force_login(accountant)
    api = client.get(f"/api/v1/companies/{two_exported.company_id}/exports/"
                     f"{two_exported.pk}/file")
    assert api.status_code == 200
    body = b"".join(api.streaming_content)
    assert hashlib.sha256(body).hexdigest() == two_exported.sha256


def test_chain_follows_the_definitive_numbers_whatever_the_arrival_order(linked_company,
                                                                        post_webhook, export):
    for n, day in enumerate(["2026-09-30", "2026-06-10", "2026-08-01", "2026-07-14"]):
        post_webhook(invoice_event(linked_company, invoice_id=f"inv_{n}", number=f"F{n}",
                                   date=day))
    export(linked_company)
    entries = list(Entry.objects.order_by("chain_position"))
    assert [e.number for e in entries] == [1, 2, 3, 4]
    assert [str(e.date) for e in entries] == ["2026-06-10", "2026-07-14", "2026-08-01",
                                              "2026-09-30"]
    intact, output = verify(linked_company)
    assert intact, output


def test_journal_code_is_a_setting_of_the_export_space(linked_company, post_webhook,
                                                        accountant, dirigeant, client):
    post_webhook(invoice_event(linked_company))
    journal = Journal.objects.get()
    url = f"/entreprise/{linked_company.pk}/export-ecritures/journaux/{journal.pk}/"
    client.force_login(accountant)
    client.post(url, {"code": "vte", "label": " Ventes   chantiers "})
    journal.refresh_from_db()
    assert (journal.code, journal.label) == ("VTE", "Ventes chantiers")
    client.post(url, {"code": "V", "label": "x"})  # too short: refused, nothing changes
    journal.refresh_from_db()
    assert journal.code == "VTE"
    client.force_login(dirigeant)
    assert client.post(url, {"code": "XX", "label": "x"}).status_code in (403, 404)
    journal.refresh_from_db()
    assert journal.code == "VTE"


def test_changing_the_closing_date_never_mixes_two_years_numbers(linked_company, post_webhook,
                                                                 export):
    post_webhook(invoice_event(linked_company, invoice_id="inv_sep", number="SEP",
                               date="2026-09-01"))
    assert Entry.objects.get().fiscal_year == 2026  # closing on 31/12
    linked_company.fiscal_year_end_day, linked_company.fiscal_year_end_month = 30, 6
    linked_company.save()
    batch = export(linked_company, period=(datetime.date(2026, 7, 1),
                                           datetime.date(2027, 6, 30)))
    assert {line["EcritureNum"] for line in fec_rows(batch)} == {"VT-2027-000001"}
    assert Entry.objects.get().fiscal_year == 2027
