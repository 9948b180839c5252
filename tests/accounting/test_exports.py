"""Exports: the guide's example as FEC and CSV, immutability, the chain, the outbox locks."""

import datetime
import hashlib
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from accounting.formats import FEC_COLUMNS
from accounting.models import Entry, EntryLine, ExportBatch
from accounting.services.exports import export_request
from partners.common.models import OutboxMessage
from tests.accounting.conftest import invoice_event, tampering

YEAR = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))


@pytest.fixture
def export(accountant, django_capture_on_commit_callbacks):
    def run(company, format="fec", journals=("VT",), period=YEAR):
        with django_capture_on_commit_callbacks(execute=True):
            batch = export_request(company=company, actor=accountant, format=format,
                                   journal_codes=list(journals), date_from=period[0],
                                   date_to=period[1])
        batch.refresh_from_db()
        return batch

    return run


@pytest.fixture
def guide_invoice(linked_company, post_webhook):
    assert post_webhook(invoice_event(linked_company)).status_code == 202
    return linked_company


def read(batch):
    with batch.file.open("rb") as handle:
        return handle.read()


def test_fec_of_the_guide_example(guide_invoice, export):
    batch = export(guide_invoice)
    assert batch.status == "done"
    # An import export, not the legal FEC of the year (that one comes with the closing).
    assert batch.file_name == f"{guide_invoice.siren}_VT_20260101-20261231.txt"
    content = read(batch).decode("utf-8")
    rows = [line.split("\t") for line in content.split("\r\n") if line]
    assert rows[0] == FEC_COLUMNS
    assert all(len(row) == 18 for row in rows)
    lines = [dict(zip(FEC_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in lines] == [
        ("411000", "120,00", "0,00"), ("706000", "0,00", "100,00"), ("445720", "0,00", "20,00")]
    for line in lines:
        assert line["JournalCode"] == "VT"
        assert line["EcritureNum"] == "VT-2026-000001"
        assert line["EcritureDate"] == line["PieceDate"] == "20260610"
        assert line["PieceRef"] == "FAC001" and line["EcritureLib"] == "FAC001 DUPONT"
        assert line["CompteLib"] and len(line["ValidDate"]) == 8 and line["ValidDate"].isdigit()
    assert [(r["CompAuxNum"], r["CompAuxLib"]) for r in lines] == [
        ("DUPO", "DUPONT"), ("", ""), ("", "")]
    debit = sum(float(r["Debit"].replace(",", ".")) for r in lines)
    credit = sum(float(r["Credit"].replace(",", ".")) for r in lines)
    assert debit == credit == 120.0
    assert batch.sha256 == hashlib.sha256(read(batch)).hexdigest()


def test_csv_of_the_guide_example_is_importable(guide_invoice, export):
    batch = export(guide_invoice, format="csv")
    assert batch.file_name == f"{guide_invoice.siren}_VT_20260101-20261231.csv"
    raw = read(batch)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the accents
    content = raw[3:].decode("utf-8").split("\r\n")
    assert content[0] == ("JournalCode;JournalLib;EcritureNum;EcritureDate;PieceRef;PieceDate;"
                          "CompteNum;CompteLib;CompAuxNum;CompAuxLib;EcritureLib;Debit;Credit;"
                          "EcheanceDate;Analytique")
    assert content[1:4] == [
        "VT;Ventes ProGBat;VT-2026-000001;10/06/2026;FAC001;10/06/2026;411000;Clients;DUPO;"
        "DUPONT;FAC001 DUPONT;120,00;0,00;;",
        "VT;Ventes ProGBat;VT-2026-000001;10/06/2026;FAC001;10/06/2026;706000;"
        "Prestations de services;;;FAC001 DUPONT;0,00;100,00;;",
        "VT;Ventes ProGBat;VT-2026-000001;10/06/2026;FAC001;10/06/2026;445720;"
        "Taxes sur le chiffre d’affaires collectées par l’entreprise;;;FAC001 DUPONT;0,00;"
        "20,00;;"]


def test_export_marks_entries_exported_and_queues_one_lock_per_invoice(guide_invoice, export,
                                                                        post_webhook):
    post_webhook(invoice_event(guide_invoice, invoice_id="inv_2", number="FAC002"))
    batch = export(guide_invoice)
    assert set(Entry.objects.values_list("state", flat=True)) == {"exported"}
    locks = OutboxMessage.objects.filter(action="progbat.lock_invoice")
    assert sorted(locks.values_list("payload__invoice_id", flat=True)) == ["inv_1", "inv_2"]
    assert {m.payload["export_id"] for m in locks} == {str(batch.pk)}


def test_exported_entries_refuse_changes_through_the_model(guide_invoice, export):
    export(guide_invoice)
    entry = Entry.objects.get()
    entry.label = "Autre libellé"
    with pytest.raises(ValidationError):
        entry.save()


def _sql(statement):
    with connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.parametrize("write", [
    lambda: Entry.objects.update(label="Autre libellé"),
    lambda: Entry.objects.bulk_update([_relabelled(Entry.objects.get())], ["label"]),
    lambda: Entry.objects.all().delete(),
    lambda: EntryLine.objects.filter(account="445720").update(credit=Decimal("10.00")),
    lambda: EntryLine.objects.filter(account="445720").delete(),
    lambda: EntryLine.objects.create(
        firm_id=Entry.objects.get().firm_id, entry=Entry.objects.get(), position=9,
        account="471000", account_label="Attente", label="x", debit=Decimal("1.00")),
    lambda: _sql("UPDATE accounting_entry SET state = 'draft'"),
    lambda: _sql("UPDATE accounting_entryline SET debit = 1 WHERE debit > 0"),
    lambda: _sql("DELETE FROM accounting_entryline"),
], ids=["queryset-update", "bulk-update", "delete", "line-update", "line-delete",
        "line-insert", "sql-back-to-draft", "sql-line-update", "sql-line-delete"])
def test_exported_entries_refuse_changes_on_every_write_path(guide_invoice, export, write):
    export(guide_invoice)
    before = list(EntryLine.objects.values_list("account", "debit", "credit"))
    with pytest.raises(IntegrityError, match="définitive"), transaction.atomic():
        write()
    entry = Entry.objects.get()
    assert (entry.state, entry.label) == ("exported", "FAC001 DUPONT")
    assert list(EntryLine.objects.values_list("account", "debit", "credit")) == before


def _relabelled(entry):
    entry.label = "Autre libellé"
    return entry


def test_draft_entries_stay_writable(guide_invoice):
    assert Entry.objects.update(label="Corrigé") == 1
    assert EntryLine.objects.filter(account="445720").update(label="Corrigé") == 1


def test_nothing_left_to_export_is_explained(guide_invoice, export):
    export(guide_invoice)
    with pytest.raises(ValidationError) as error:
        export(guide_invoice)
    assert "Aucune écriture à exporter" in str(error.value)
    assert ExportBatch.objects.count() == 1


def test_period_and_journal_filters(guide_invoice, export, post_webhook):
    post_webhook(invoice_event(guide_invoice, invoice_id="inv_2", number="FAC002",
                               date="2026-07-15"))
    batch = export(guide_invoice, period=(datetime.date(2026, 7, 1), datetime.date(2026, 7, 31)))
    assert batch.entry_count == 1
    assert dict(Entry.objects.values_list("piece_ref", "state")) == {
        "FAC001": "draft", "FAC002": "exported"}


def test_verify_journals_detects_a_line_changed_in_the_database(guide_invoice, export,
                                                                post_webhook):
    post_webhook(invoice_event(guide_invoice, invoice_id="inv_2", number="FAC002"))
    export(guide_invoice)
    out = StringIO()
    call_command("verify_journals", "--company", str(guide_invoice.pk), stdout=out)
    assert "2 écriture(s) exportée(s), intactes" in out.getvalue()

    with tampering() as cursor:
        cursor.execute("UPDATE accounting_entryline SET credit = 10, debit = 0 "
                       "WHERE account = '445720' AND entry_id = "
                       "(SELECT id FROM accounting_entry WHERE piece_ref = 'FAC002')")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_journals", "--company", str(guide_invoice.pk), stdout=out)
    assert "VT-2026-000002" in out.getvalue()
    assert "ne correspond plus à son empreinte" in out.getvalue()


def test_the_chain_continues_across_exports(guide_invoice, export, post_webhook):
    export(guide_invoice)
    post_webhook(invoice_event(guide_invoice, invoice_id="inv_2", number="FAC002"))
    export(guide_invoice)
    first, second = Entry.objects.order_by("chain_position")
    assert second.previous_hash == first.chain_hash
    assert (first.chain_position, second.chain_position) == (1, 2)
    call_command("verify_journals", "--company", str(guide_invoice.pk), stdout=StringIO())
