"""The purchases journal (DESIGN §7.2): each Achats invoice is an entry of the HA journal, a draft
that follows edits until it is exported, then corrected by entries of the differences."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.exceptions import ValidationError

from accounting.formats import FEC_COLUMNS, fec_check
from accounting.models import Entry
from accounting.services.integrity import company_problems
from companies.models import CompanyMembership
from purchases.models import Payment, Supplier, SupplierInvoice
from purchases.services import VatLine, invoice_update
from purchases.suppliers import supplier_update
from tests import factories
from tests.conftest import client_for
from tests.purchases.conftest import make_invoice
from users.models import ApiToken

INVOICE = {"supplier_name": "Bois & Cie", "supplier_iban": "FR7630006000011234567890189",
           "number": "B-17", "issue_date": "2026-11-02", "due_date": "2026-12-02",
           "payment_method": "transfer"}


def achats_url(company, path=""):
    return f"/entreprise/{company.pk}/achats/{path}"


def vat_lines(*lines):
    """The VAT lines of the invoice form (prefix ``tva``): ``(rate, base, vat or "")``."""
    data = {"tva-TOTAL_FORMS": str(len(lines)), "tva-INITIAL_FORMS": "0",
            "tva-MIN_NUM_FORMS": "0", "tva-MAX_NUM_FORMS": "1000"}
    for index, (rate, base, vat) in enumerate(lines):
        data.update({f"tva-{index}-rate": rate, f"tva-{index}-base_amount": base,
                     f"tva-{index}-vat_amount": vat})
    return data


@pytest.fixture
def api(accountant):
    from django.test import Client

    _row, token = ApiToken.objects.create(user=accountant)
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def ha_entries(api, company):
    response = api.get(f"/api/v1/companies/{company.pk}/entries/", {"journal": "HA"})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def lines_of(entry):
    return [(line["account"], line["aux_account"], line["debit"], line["credit"])
            for line in entry["lines"]]


def export(api, company, capture, **body):
    with capture(execute=True):
        response = api.post(f"/api/v1/companies/{company.pk}/exports/",
                            {"format": "fec", "date_from": "2026-01-01",
                             "date_to": "2026-12-31", **body}, content_type="application/json")
    assert response.status_code == 201, response.content
    file = api.get(f"/api/v1/companies/{company.pk}/exports/{response.json()['id']}/file")
    assert file.status_code == 200, file.content
    return b"".join(file.streaming_content)


def test_a_single_rate_invoice_becomes_a_balanced_ha_entry(achats, dirigeant, api):
    response = client_for(dirigeant).post(achats_url(achats, "nouvelle/"), {
        **INVOICE, "amount_excl_tax": "1000.00", "vat_amount": "200.00",
        "amount_incl_tax": "1200.00"})
    assert response.status_code == 302
    [entry] = ha_entries(api, achats)
    assert lines_of(entry) == [("607000", "", "1000.00", "0.00"),
                               ("445660", "", "200.00", "0.00"),
                               ("401000", "FBOISCIE", "0.00", "1200.00")]
    assert (entry["piece_ref"], entry["label"], entry["date"], entry["state"]) == (
        "B-17", "B-17 Bois & Cie", "2026-11-02", "draft")
    assert entry["lines"][2]["aux_label"] == "Bois & Cie"
    assert entry["lines"][1]["account_label"] == "TVA sur autres biens et services"
    journals = api.get(f"/api/v1/companies/{achats.pk}/journals/").json()
    assert [(j["code"], j["label"], j["source"]) for j in journals] == [
        ("HA", "Achats", "purchases")]


def test_a_multi_rate_invoice_keeps_its_rates_and_books_one_vat_line(achats, dirigeant, api):
    response = client_for(dirigeant).post(achats_url(achats, "nouvelle/"), {
        **INVOICE, "amount_excl_tax": "", "vat_amount": "", "amount_incl_tax": "",
        **vat_lines(("20", "500.00", ""), ("10", "200.00", "20.00"))})
    assert response.status_code == 302, unescape(response.content.decode())
    invoice = SupplierInvoice.objects.get()
    assert (invoice.amount_excl_tax, invoice.vat_amount, invoice.amount_incl_tax) == (
        Decimal("700.00"), Decimal("120.00"), Decimal("820.00"))
    assert [(line.rate, line.base_amount, line.vat_amount) for line in
            invoice.vat_lines.all()] == [(Decimal("20.00"), Decimal("500.00"), Decimal("100.00")),
                                         (Decimal("10.00"), Decimal("200.00"), Decimal("20.00"))]
    [entry] = ha_entries(api, achats)
    assert lines_of(entry) == [("607000", "", "700.00", "0.00"),
                               ("445660", "", "120.00", "0.00"),
                               ("401000", "FBOISCIE", "0.00", "820.00")]
    page = unescape(client_for(dirigeant).get(achats_url(achats, f"{invoice.pk}/")).content
                    .decode())
    assert 'name="tva-1-base_amount"' in page and "200.00" in page


def test_the_new_invoice_form_prefills_no_vat_amount_that_would_contradict_the_lines(
        achats, dirigeant):
    """A person who fills only the VAT lines leaves the totals as the form shows them: a TVA
    prefilled with 0.00 was posted back and refused as « not the sum of the lines »."""
    page = unescape(client_for(dirigeant).get(achats_url(achats, "nouvelle/")).content.decode())
    (vat_input,) = re.findall(r'<input[^>]*name="vat_amount"[^>]*>', page)
    assert "value=" not in vat_input


@pytest.mark.parametrize(("extra", "message"), [
    ({"amount_excl_tax": "800.00"}, "800.00 € n'est pas la somme des lignes de TVA (700.00 €)"),
    ({"tva-1-vat_amount": "35.00"}, "La TVA à 10 % de 200.00 € est de 20.00 €"),
    ({"tva-1-rate": "20"}, "Une seule ligne par taux de TVA"),
])
def test_vat_lines_that_disagree_are_refused(achats, dirigeant, extra, message):
    data = {**INVOICE, "amount_excl_tax": "", "vat_amount": "", "amount_incl_tax": "",
            **vat_lines(("20", "500.00", ""), ("10", "200.00", "")), **extra}
    response = client_for(dirigeant).post(achats_url(achats, "nouvelle/"), data)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not SupplierInvoice.objects.exists() and not Entry.objects.exists()


def test_an_edit_before_export_replaces_the_draft(achats, dirigeant, api):
    invoice = make_invoice(achats, dirigeant)
    [before] = ha_entries(api, achats)
    response = client_for(dirigeant).post(achats_url(achats, f"{invoice.pk}/"), {
        **INVOICE, "supplier_name": invoice.supplier_name, "number": invoice.number,
        "payment_method": "libeo", "expense_account": "606300",
        **vat_lines(("20", "1000.00", "200.00"), ("5.5", "100.00", ""))})
    assert response.status_code == 302, unescape(response.content.decode())
    [after] = ha_entries(api, achats)
    assert after["id"] == before["id"] and after["state"] == "draft"
    assert after["source_version"] == 2
    assert lines_of(after) == [("606300", "", "1100.00", "0.00"),
                               ("445660", "", "205.50", "0.00"),
                               ("401000", "FMATERIAUX", "0.00", "1305.50")]


def test_an_edit_after_export_adds_a_correcting_entry_and_never_touches_the_export(
        achats, dirigeant, api, django_capture_on_commit_callbacks):
    invoice = make_invoice(achats, dirigeant)
    export(api, achats, django_capture_on_commit_callbacks, journals=["HA"])
    exported = Entry.objects.get(journal__code="HA")
    frozen = (exported.chain_hash, list(exported.lines.values_list("account", "debit",
                                                                   "credit")))
    assert exported.state == "exported" and exported.reference == "HA-2026-000001"

    invoice_update(invoice=invoice, actor=dirigeant, expense_account="606300",
                   amount_excl_tax=Decimal("1100.00"), vat_amount=Decimal("220.00"),
                   amount_incl_tax=Decimal("1320.00"))
    original, correction = ha_entries(api, achats)
    assert original["id"] == exported.pk and original["state"] == "exported"
    exported.refresh_from_db()
    assert (exported.chain_hash, list(exported.lines.values_list(
        "account", "debit", "credit"))) == frozen
    assert correction["state"] == "draft" and correction["piece_ref"] == invoice.number
    assert correction["label"] == f"Correction : {invoice.number} Matériaux Rhône"
    assert "HA-2026-000001" in correction["note"] and "après export" in correction["note"]
    assert lines_of(correction) == [("606300", "", "1100.00", "0.00"),   # the differences
                                    ("445660", "", "20.00", "0.00"),
                                    ("401000", "FMATERIAUX", "0.00", "120.00"),
                                    ("607000", "", "0.00", "1000.00")]

    # Until it is exported, the correction follows edits; an edit that changes nothing in
    # the books (the due date) makes no entry.
    invoice_update(invoice=invoice, actor=dirigeant, amount_excl_tax=Decimal("1000.00"),
                   vat_amount=Decimal("200.00"), amount_incl_tax=Decimal("1200.00"))
    invoice_update(invoice=invoice, actor=dirigeant, due_date=invoice.due_date.replace(day=20))
    original, correction = ha_entries(api, achats)
    assert lines_of(correction) == [("606300", "", "1000.00", "0.00"),
                                    ("607000", "", "0.00", "1000.00")]
    export(api, achats, django_capture_on_commit_callbacks, journals=["HA"])
    invoice_update(invoice=invoice, actor=dirigeant, expense_account="606300")  # as booked
    assert Entry.objects.filter(journal__code="HA").count() == 2
    assert set(Entry.objects.values_list("state", flat=True)) == {"exported"}
    assert company_problems(achats) == []  # the chain and the seal hold


def test_undoing_an_edit_before_the_correction_is_exported_removes_it(
        achats, dirigeant, api, django_capture_on_commit_callbacks):
    invoice = make_invoice(achats, dirigeant)
    export(api, achats, django_capture_on_commit_callbacks, journals=["HA"])
    invoice_update(invoice=invoice, actor=dirigeant, expense_account="606300")
    assert len(ha_entries(api, achats)) == 2
    invoice_update(invoice=invoice, actor=dirigeant, expense_account="607000")
    assert [entry["state"] for entry in ha_entries(api, achats)] == ["exported"]


def test_a_fixed_asset_is_booked_with_vat_on_fixed_assets(achats, dirigeant, api):
    make_invoice(achats, dirigeant, supplier_name="Outilpro", expense_account="215400",
                 amount_excl_tax=Decimal("1890.00"), vat_amount=Decimal("378.00"),
                 amount_incl_tax=Decimal("2268.00"))
    [entry] = ha_entries(api, achats)
    assert lines_of(entry) == [("215400", "", "1890.00", "0.00"),
                               ("445620", "", "378.00", "0.00"),
                               ("401000", "FOUTILPRO", "0.00", "2268.00")]
    assert entry["lines"][1]["account_label"] == "TVA sur immobilisations"


@pytest.mark.parametrize(("account", "message"), [
    ("650000", "Le compte 650000 n'existe pas dans le plan comptable de l'entreprise"),
    ("401000", "Compte de charges (60 à 67, hors 603 et 609) ou d'immobilisation (20 à 23)"),
    ("6O7000", "Compte de charges (60 à 67, hors 603 et 609) ou d'immobilisation (20 à 23)"),
])
def test_an_expense_account_outside_the_chart_is_refused_and_nothing_is_booked(
        achats, dirigeant, account, message):
    response = client_for(dirigeant).post(achats_url(achats, "nouvelle/"), {
        **INVOICE, "amount_excl_tax": "100.00", "vat_amount": "20.00",
        "amount_incl_tax": "120.00", "expense_account": account})
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not SupplierInvoice.objects.exists() and not Supplier.objects.exists()
    assert not Entry.objects.exists()


def test_an_account_the_company_added_to_its_chart_is_accepted(achats, dirigeant, api):
    factories.ChartAccountFactory(company=achats, number="650100", label="Redevances BTP")
    make_invoice(achats, dirigeant, expense_account="650100")
    [entry] = ha_entries(api, achats)
    assert entry["lines"][0]["account_label"] == "Redevances BTP"


def test_the_supplier_default_account_is_used_when_the_invoice_names_none(achats, dirigeant,
                                                                         api):
    make_invoice(achats, dirigeant, number="A-1", expense_account="613500")
    make_invoice(achats, dirigeant, number="A-2", supplier_name="matériaux  rhône")
    assert Supplier.objects.get().expense_account == "613500"
    assert [entry["lines"][0]["account"] for entry in ha_entries(api, achats)] == [
        "613500", "613500"]


def test_supplier_aux_codes_are_unique_per_company_and_editable(achats, dirigeant, api,
                                                                other_company):
    first = make_invoice(achats, dirigeant, supplier_name="Matériaux Rhône", number="1")
    make_invoice(achats, dirigeant, supplier_name="Matériaux Sud", number="2")
    assert list(Supplier.objects.filter(company=achats).values_list("name", "aux_account")) == [
        ("Matériaux Rhône", "FMATERIAUX"), ("Matériaux Sud", "FMATERIAU2")]
    boss = CompanyMembership.objects.get(company=other_company).user
    make_invoice(other_company, boss, supplier_name="Matériaux Rhône", number="1")
    assert Supplier.objects.get(company=other_company).aux_account == "FMATERIAUX"

    client = client_for(dirigeant)
    page = achats_url(achats, f"fournisseurs/{first.supplier_id}/")
    taken = client.post(page, {"aux_account": "fmateriau2", "expense_account": "607000"})
    assert taken.status_code == 400
    assert "déjà celui d'un autre fournisseur" in unescape(taken.content.decode())
    assert client.post(page, {"aux_account": "frhone", "expense_account": "601000"}
                       ).status_code == 302
    supplier = Supplier.objects.get(pk=first.supplier_id)
    assert (supplier.aux_account, supplier.expense_account) == ("FRHONE", "601000")
    # The draft entry follows the new code; the expense default applies to new invoices.
    entries = {e["piece_ref"]: e for e in ha_entries(api, achats)}
    assert lines_of(entries["1"])[2] == ("401000", "FRHONE", "0.00", "1200.00")
    assert entries["1"]["lines"][0]["account"] == "607000"
    listing = unescape(client.get(achats_url(achats, "fournisseurs/")).content.decode())
    assert "FRHONE" in listing and "FMATERIAU2" in listing


def test_a_new_aux_code_moves_exported_amounts_by_a_correction(
        achats, dirigeant, api, django_capture_on_commit_callbacks):
    invoice = make_invoice(achats, dirigeant)
    export(api, achats, django_capture_on_commit_callbacks, journals=["HA"])
    supplier_update(supplier=invoice.supplier, actor=dirigeant, aux_account="FRHONE",
                    expense_account="607000")
    _original, correction = ha_entries(api, achats)
    assert lines_of(correction) == [("401000", "FRHONE", "0.00", "1200.00"),
                                    ("401000", "FMATERIAUX", "1200.00", "0.00")]


def test_only_achats_administrators_and_accountants_edit_suppliers(achats, dirigeant, salarie,
                                                                  accountant):
    from companies.models import Module
    from companies.services import user_module_access_set

    invoice = make_invoice(achats, dirigeant)
    user_module_access_set(company=achats, actor=accountant, user=salarie,
                           module=Module.objects.get(code="achats"), enabled=True)
    page = achats_url(achats, f"fournisseurs/{invoice.supplier_id}/")
    assert client_for(salarie).get(page).status_code == 200
    assert client_for(salarie).post(page, {"aux_account": "FX", "expense_account": "607000"}
                                     ).status_code == 403
    assert client_for(accountant).post(page, {"aux_account": "FX",
                                              "expense_account": "607000"}).status_code == 302


def test_a_paid_invoice_may_still_be_reclassified_but_not_changed(achats, dirigeant, api):
    invoice = make_invoice(achats, dirigeant)
    factories.PaymentFactory(invoice=invoice, status=Payment.Status.PAID)
    invoice_update(invoice=invoice, actor=dirigeant, expense_account="606300")
    assert ha_entries(api, achats)[0]["lines"][0]["account"] == "606300"
    with pytest.raises(ValidationError):
        invoice_update(invoice=invoice, actor=dirigeant, vat_lines=[
            VatLine(Decimal("20"), Decimal("900.00"), Decimal("180.00"))])


def test_the_fec_of_the_period_holds_the_ha_journal_and_passes_the_self_check(
        achats, dirigeant, api, django_capture_on_commit_callbacks):
    make_invoice(achats, dirigeant, number="F-1")
    make_invoice(achats, dirigeant, number="F-2", supplier_name="Outilpro",
                 expense_account="218300")
    body = export(api, achats, django_capture_on_commit_callbacks)  # every journal
    lines = [line + b"\r\n" for line in body.split(b"\r\n") if line]
    assert fec_check(lines, period=(datetime.date(2026, 1, 1),
                                    datetime.date(2026, 12, 31))) == 6
    rows = [dict(zip(FEC_COLUMNS, line.decode().rstrip("\r\n").split("\t"), strict=True))
            for line in lines[1:]]
    assert {(row["JournalCode"], row["JournalLib"]) for row in rows} == {("HA", "Achats")}
    assert {row["EcritureNum"] for row in rows} == {"HA-2026-000001", "HA-2026-000002"}
    third_party = [(row["CompteNum"], row["CompAuxNum"], row["CompAuxLib"]) for row in rows
                   if row["CompAuxNum"]]
    assert third_party == [("401000", "FMATERIAUX", "Matériaux Rhône"),
                           ("401000", "FOUTILPRO", "Outilpro")]


def test_the_invoice_page_shows_its_accounts_and_rates(achats, dirigeant):
    invoice = make_invoice(achats, dirigeant)
    page = unescape(client_for(dirigeant).get(achats_url(achats, f"{invoice.pk}/")).content
                    .decode())
    assert "Compte de charge" in page and "607000" in page and "FMATERIAUX" in page
    assert "20 %" in page


def test_the_export_space_lists_the_purchases_journal_with_its_entries(achats, dirigeant,
                                                                       accountant):
    make_invoice(achats, dirigeant)
    page = unescape(client_for(accountant).get(
        f"/entreprise/{achats.pk}/export-ecritures/").content.decode())
    assert "HA" in page and "Achats" in page
    assert "F-2026-001 Matériaux Rhône" in page and "FMATERIAUX" in page


def test_an_invoice_dated_in_a_closed_year_is_booked_on_the_next_open_one(achats, dirigeant,
                                                                          accountant, api):
    from accounting.models import FiscalYear

    FiscalYear.objects.create(firm=achats.firm, company=achats, start=datetime.date(2025, 1, 1),
                              end=datetime.date(2025, 12, 31), state="closed",
                              closed_by=accountant)
    make_invoice(achats, dirigeant, issue_date=datetime.date(2025, 12, 20),
                 due_date=datetime.date(2026, 1, 20))
    [entry] = ha_entries(api, achats)
    assert (entry["date"], entry["piece_date"], entry["fiscal_year"]) == (
        "2026-01-01", "2025-12-20", 2026)
    assert "clôturé" in entry["note"]


def test_seed_demo_books_dupont_supplier_invoices_once(db):
    from io import StringIO

    from django.core.management import call_command

    from companies.models import Company

    call_command("seed_demo", stdout=StringIO())
    dupont = Company.objects.get(siret="90000001900019")
    # One entry per invoice, plus the correcting entry of the one edited after its export.
    entries = Entry.objects.filter(company=dupont, journal__code="HA").exclude(
        source_ref__contains="#c")
    assert entries.count() == dupont.supplier_invoices.count() == 5
    assert Entry.objects.filter(company=dupont, journal__code="HA",
                                source_ref__contains="#c").count() == 1
    multi = entries.get(piece_ref="CP-20931")
    assert [(line.account, line.debit, line.credit) for line in multi.lines.all()] == [
        ("606300", Decimal("300.00"), 0), ("445660", Decimal("51.30"), 0),
        ("401000", 0, Decimal("351.30"))]
    assert entries.get(piece_ref="OP-5521").lines.filter(account="445620").exists()
    # Invoices recorded before the journal existed are booked by the next run, once.
    entries.filter(piece_ref="CP-20931", state="draft").delete()
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert entries.count() == 5


def test_invoices_recorded_before_the_journal_are_booked_by_a_command(achats, dirigeant):
    from io import StringIO

    from django.core.management import call_command

    make_invoice(achats, dirigeant)
    Entry.objects.all().delete()
    out = StringIO()
    call_command("book_supplier_invoices", stdout=out)
    assert out.getvalue().strip() == "created: 1"
    call_command("book_supplier_invoices", f"--company={achats.pk}", stdout=out)
    assert "unchanged: 1" in out.getvalue() and Entry.objects.count() == 1


def edit_form(invoice, **changes):
    """The invoice page's form as it is drawn (its VAT lines included), with ``changes``."""
    data = {"supplier_name": invoice.supplier_name, "supplier_iban": invoice.supplier_iban,
            "number": invoice.number, "issue_date": str(invoice.issue_date),
            "due_date": str(invoice.due_date), "amount_excl_tax": str(invoice.amount_excl_tax),
            "vat_amount": str(invoice.vat_amount),
            "amount_incl_tax": str(invoice.amount_incl_tax),
            "payment_method": invoice.payment_method,
            "expense_account": invoice.expense_account,
            **vat_lines(*[(f"{line.rate.normalize():f}", str(line.base_amount),
                           str(line.vat_amount)) for line in invoice.vat_lines.all()],
                        ("20", "", ""))}
    data["tva-INITIAL_FORMS"] = str(invoice.vat_lines.count())
    return {**data, **changes}


def test_on_the_invoice_page_either_the_totals_or_the_lines_may_be_edited(achats, dirigeant,
                                                                         api):
    invoice = make_invoice(achats, dirigeant)
    client, page = client_for(dirigeant), achats_url(achats, f"{invoice.pk}/")
    response = client.post(page, edit_form(invoice, amount_excl_tax="1100.00",
                                           vat_amount="220.00", amount_incl_tax="1320.00"))
    assert response.status_code == 302, unescape(response.content.decode())
    invoice.refresh_from_db()
    assert [(line.rate, line.base_amount) for line in invoice.vat_lines.all()] == [
        (Decimal("20.00"), Decimal("1100.00"))]
    response = client.post(page, edit_form(invoice, **{
        "tva-1-rate": "10", "tva-1-base_amount": "100.00"}))
    assert response.status_code == 302, unescape(response.content.decode())
    invoice.refresh_from_db()
    assert (invoice.amount_excl_tax, invoice.vat_amount, invoice.amount_incl_tax) == (
        Decimal("1200.00"), Decimal("230.00"), Decimal("1430.00"))
    assert lines_of(ha_entries(api, achats)[0])[2] == ("401000", "FMATERIAUX", "0.00",
                                                       "1430.00")
    # Several rates: the totals alone no longer say how to split them.
    response = client.post(page, edit_form(invoice, amount_excl_tax="1300.00",
                                           amount_incl_tax="1530.00"))
    assert response.status_code == 400
    assert "plusieurs taux de TVA" in unescape(response.content.decode())


def test_an_older_version_never_regresses_and_a_zero_invoice_books_nothing(achats, dirigeant,
                                                                          api):
    from bridges.purchases_books import invoice_book

    invoice = make_invoice(achats, dirigeant)
    snapshot = SupplierInvoice.objects.get(pk=invoice.pk)  # version 1
    invoice_update(invoice=invoice, actor=dirigeant, expense_account="606300")
    assert invoice_book(snapshot).outcome == "stale"
    assert ha_entries(api, achats)[0]["lines"][0]["account"] == "606300"
    assert invoice_book(SupplierInvoice.objects.get(pk=invoice.pk)).outcome == "unchanged"

    invoice_update(invoice=invoice, actor=dirigeant, amount_excl_tax=Decimal("0.00"),
                   vat_amount=Decimal("0.00"), amount_incl_tax=Decimal("0.00"))
    assert ha_entries(api, achats) == []
    make_invoice(achats, dirigeant, number="Z-0", amount_excl_tax=Decimal("0.00"),
                 vat_amount=Decimal("0.00"), amount_incl_tax=Decimal("0.00"))
    assert ha_entries(api, achats) == []
