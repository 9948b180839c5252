"""The Libeo payments journal (DESIGN §7.2): a payment reported ``paid`` is a BQLB entry on its
``executed_at`` (Paris date), 401 supplier debit / bank credit, lettered with the invoice's 401
line; the lettering lives outside the entries, so exported entries and the seal never move."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounting.formats import FEC_COLUMNS, fec_check
from accounting.models import Entry, EntryLine, Journal
from accounting.services.exports import ExportLine, entries_number, export_lines, export_rows
from accounting.services.integrity import company_problems
from partners.libeo.models import LibeoConnection
from partners.libeo.services import libeo_bank_account_set
from purchases.models import Payment
from purchases.providers import PaymentResult
from purchases.services import invoice_pay, payment_settle
from purchases.suppliers import supplier_update
from tests.conftest import client_for
from tests.purchases.conftest import connect_libeo, make_invoice
from tests.purchases.test_purchases_journal import api, export  # noqa: F401  (fixture)

EXECUTED = datetime.datetime(2026, 11, 20, 23, 30, tzinfo=datetime.UTC)  # 21/11 in Paris


@pytest.fixture
def payment(achats, dirigeant):
    connect_libeo(achats, dirigeant)
    invoice = make_invoice(achats, dirigeant)
    return invoice_pay(invoice=invoice, actor=dirigeant)


def settle(payment, status, **extra):
    Payment.objects.filter(pk=payment.pk).update(status="scheduled")
    return payment_settle(payment=payment, result=PaymentResult(
        status=status, provider_payment_id="pay_1", **extra))


def bank_entries():
    return Entry.objects.filter(journal__source=Journal.Source.LIBEO_PAYMENTS)


def rows(entry):
    return [(line.account, line.aux_account, line.debit, line.credit,
             getattr(getattr(line, "lettered", None), "lettering", None))
            for line in entry.lines.select_related("lettered__lettering")]


def fec_rows(content):
    lines = content.split(b"\r\n")[1:-1]
    return [dict(zip(FEC_COLUMNS, line.decode().split("\t"), strict=True)) for line in lines]


def test_a_paid_payment_is_a_bqlb_entry_lettered_with_its_invoice(payment):
    settle(payment, "paid", executed_at=EXECUTED)
    [entry] = bank_entries()
    assert (entry.journal.code, entry.journal.label) == ("BQLB", "Banque Libeo")
    assert entry.date == datetime.date(2026, 11, 21)  # executed_at, Paris time
    assert entry.piece_ref == payment.invoice.number
    [(a401, aux, debit, _c, lettering), (bank, bank_aux, _d, credit, none)] = rows(entry)
    assert (a401, aux, debit) == ("401000", "FMATERIAUX", Decimal("1200.00"))
    assert (bank, bank_aux, credit, none) == ("512000", "", Decimal("1200.00"), None)
    assert lettering is not None and lettering.code == "A"
    assert lettering.date == datetime.date(2026, 11, 21)
    invoice_401 = EntryLine.objects.get(entry__journal__code="HA", account="401000")
    assert invoice_401.lettered.lettering == lettering  # same code on both lines


def test_the_export_preview_shows_the_lettering_code_on_both_401_lines(payment, accountant):
    settle(payment, "paid", executed_at=EXECUTED)
    html = client_for(accountant).get(
        f"/entreprise/{payment.company_id}/export-ecritures/").content.decode()
    assert "Code de lettrage" in html
    codes = re.findall(r'data-testid="lettering"[^>]*>([^<]*)<', html)
    assert sorted(codes) == ["A", "A"]  # the invoice's 401 line and the payment's


def test_the_fec_carries_the_lettering_on_both_lines_and_passes_its_check(
        payment, api, django_capture_on_commit_callbacks):  # noqa: F811
    settle(payment, "paid", executed_at=EXECUTED)
    content = export(api, payment.company, django_capture_on_commit_callbacks)
    assert fec_check(content.splitlines(keepends=True)) == 5
    lettered = [(row["JournalCode"], row["CompteNum"], row["EcritureLet"], row["DateLet"])
                for row in fec_rows(content) if row["EcritureLet"]]
    assert lettered == [("BQLB", "401000", "A", "20261121"), ("HA", "401000", "A", "20261121")]
    assert company_problems(payment.company) == []


def test_lettering_an_exported_invoice_changes_neither_its_lines_nor_its_seal(
        payment, api, django_capture_on_commit_callbacks):  # noqa: F811
    export(api, payment.company, django_capture_on_commit_callbacks, journals=["HA"])
    exported = Entry.objects.get(journal__code="HA")
    frozen = (exported.chain_hash, list(exported.lines.values_list("id", "account", "debit",
                                                                   "credit")))
    settle(payment, "paid", executed_at=EXECUTED)
    exported.refresh_from_db()
    assert (exported.chain_hash, list(exported.lines.values_list(
        "id", "account", "debit", "credit"))) == frozen
    assert EntryLine.objects.get(entry=exported, account="401000").lettered.lettering.code == "A"
    assert company_problems(payment.company) == []
    content = export(api, payment.company, django_capture_on_commit_callbacks)
    assert fec_check(content.splitlines(keepends=True)) == 2  # the BQLB entry alone
    assert [row["EcritureLet"] for row in fec_rows(content)] == ["A", ""]


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_and_cancelled_payments_book_nothing(payment, status):
    settle(payment, status, error_code="refused", error_detail="Refusé.")
    assert not bank_entries().exists()
    assert not EntryLine.objects.filter(lettered__isnull=False).exists()


def test_the_bank_account_option_changes_the_credited_account(payment, dirigeant):
    libeo_bank_account_set(company=payment.company, actor=dirigeant, bank_account="512100")
    settle(payment, "paid", executed_at=EXECUTED)
    [entry] = bank_entries()
    assert [line.account for line in entry.lines.all()] == ["401000", "512100"]


def test_the_bank_account_must_be_a_512_account(payment, dirigeant):
    with pytest.raises(ValidationError):
        libeo_bank_account_set(company=payment.company, actor=dirigeant, bank_account="401000")
    assert LibeoConnection.objects.get(company=payment.company).bank_account == "512000"


def test_the_options_page_sets_the_bank_account(payment, dirigeant):
    url = f"/entreprise/{payment.company_id}/achats/options/"
    client = client_for(dirigeant)
    page = client.get(url)
    assert page.status_code == 200 and b'name="bank_account"' in page.content
    assert client.post(url, {"bank_account": "6070"}).status_code == 400
    assert client.post(url, {"bank_account": "512200"}).status_code == 302
    assert LibeoConnection.objects.get(company=payment.company).bank_account == "512200"


def test_codes_follow_each_other_per_company(achats, dirigeant):
    connect_libeo(achats, dirigeant)
    codes = []
    for number in ("F-1", "F-2"):
        payment = invoice_pay(invoice=make_invoice(achats, dirigeant, number=number),
                              actor=dirigeant)
        settle(payment, "paid", executed_at=EXECUTED)
        codes.append(EntryLine.objects.get(entry__source_ref=f"payment:{payment.pk}",
                                           account="401000").lettered.lettering.code)
    assert codes == ["A", "B"]


def test_a_new_supplier_code_moves_both_drafts_and_keeps_their_lettering(payment, dirigeant):
    settle(payment, "paid", executed_at=EXECUTED)
    supplier = payment.invoice.supplier
    supplier_update(supplier=supplier, actor=dirigeant, aux_account="FRHONE",
                    expense_account=supplier.expense_account)
    lines = EntryLine.objects.filter(account="401000").select_related(
        "entry__journal", "lettered__lettering").order_by("entry__journal__code")
    assert [(line.entry.journal.code, line.aux_account, line.lettered.lettering.code)
            for line in lines] == [("BQLB", "FRHONE", "A"), ("HA", "FRHONE", "A")]


def test_the_api_lists_the_company_payments_with_when_the_money_left_or_why_not(
        payment, achats, dirigeant, accountant, api):  # noqa: F811
    settle(payment, "paid", executed_at=EXECUTED)
    failed = invoice_pay(invoice=make_invoice(achats, dirigeant, number="F-2026-002"),
                         actor=dirigeant)
    settle(failed, "failed", error_code="libeo_failed", error_detail="IBAN clôturé.")
    response = api.get(f"/api/v1/companies/{achats.pk}/payments/")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {"id": failed.pk, "invoice": failed.invoice_id, "provider": "libeo",
         "status": "failed", "provider_payment_id": "pay_1", "executed_at": None,
         "failure_reason": "IBAN clôturé."},
        {"id": payment.pk, "invoice": payment.invoice_id, "provider": "libeo",
         "status": "paid", "provider_payment_id": "pay_1",
         "executed_at": "2026-11-21T00:30:00+01:00", "failure_reason": ""}]


@pytest.mark.parametrize("slice_entries", [1, 2, 1000])
def test_the_export_reads_in_slices_exactly_the_rows_of_one_ordered_query(
        payment, dirigeant, slice_entries):
    """``export_rows`` reads slice by slice (a thread reading the next one ahead): the same
    rows, lettering included, in the order of the one query that lists them all."""
    settle(payment, "paid", executed_at=EXECUTED)
    for number in ("F-2", "F-3", "F-4"):
        make_invoice(payment.company, dirigeant, number=number)
    entries = Entry.objects.filter(company=payment.company)
    entries_number(entries)
    everything = list(map(ExportLine._make, export_lines(entries)))
    assert len({row.journal_code for row in everything}) == 2  # HA and BQLB
    assert len({row.entry_id for row in everything}) == 5
    assert [row.lettering_code for row in everything].count("A") == 2
    assert list(export_rows(entries, slice_entries=slice_entries)) == everything
    # Stopped early (an export that fails half-way): the reader is let go, the connection
    # stays usable.
    rows = export_rows(entries, slice_entries=slice_entries)
    assert next(rows) == everything[0]
    rows.close()
    assert entries.count() == 5


def letterings_401():
    """``{code: [(journal, aux, debit, credit)]}`` of the lettered 401 lines, and the 401
    lines left unlettered."""
    lettered, free = {}, []
    for line in EntryLine.objects.filter(account="401000").select_related(
            "entry__journal", "lettered__lettering").order_by("entry_id", "position"):
        row = (line.entry.journal.code, line.aux_account, line.debit, line.credit)
        lettering = getattr(getattr(line, "lettered", None), "lettering", None)
        if lettering is None:
            free.append(row)
        else:
            lettered.setdefault(lettering.code, []).append(row)
    return lettered, free


T = Decimal("1200.00")
ZERO = Decimal("0.00")


def test_a_correction_after_payment_is_lettered_per_auxiliary_account_when_it_balances(
        payment, dirigeant, api, django_capture_on_commit_callbacks):  # noqa: F811
    """The invoice exported, then paid (lettered A), then its supplier's auxiliary code
    changes: the exported invoice gets a correction (FMATERIAUX debit / FRHONE credit) and
    the payment's draft follows the new code. Each auxiliary account is lettered apart, when
    its lines balance: the old code's invoice line with the correction's reversal, the new
    code's correction line with the payment's — no lettering mixes two auxiliary accounts."""
    export(api, payment.company, django_capture_on_commit_callbacks, journals=["HA"])
    settle(payment, "paid", executed_at=EXECUTED)
    supplier = payment.invoice.supplier
    supplier_update(supplier=supplier, actor=dirigeant, aux_account="FRHONE",
                    expense_account=supplier.expense_account)
    lettered, free = letterings_401()
    assert free == []
    assert sorted(sorted(rows) for rows in lettered.values()) == [
        [("BQLB", "FRHONE", T, ZERO), ("HA", "FRHONE", ZERO, T)],
        [("HA", "FMATERIAUX", ZERO, T), ("HA", "FMATERIAUX", T, ZERO)],
    ]
    content = export(api, payment.company, django_capture_on_commit_callbacks)
    assert fec_check(content.splitlines(keepends=True)) == 4
    rows = [(row["JournalCode"], row["CompAuxNum"], row["EcritureLet"], row["DateLet"])
            for row in fec_rows(content) if row["CompteNum"] == "401000"]
    assert all(code and date for _j, _a, code, date in rows)
    for aux in ("FMATERIAUX", "FRHONE"):  # one code per auxiliary account, over its lines
        assert len({code for _j, a, code, _d in rows if a == aux}) == 1
    assert company_problems(payment.company) == []


def test_with_the_payment_exported_too_each_auxiliary_account_balances_on_its_own(
        payment, dirigeant, api, django_capture_on_commit_callbacks):  # noqa: F811
    settle(payment, "paid", executed_at=EXECUTED)
    export(api, payment.company, django_capture_on_commit_callbacks)  # HA and BQLB final
    supplier = payment.invoice.supplier
    supplier_update(supplier=supplier, actor=dirigeant, aux_account="FRHONE",
                    expense_account=supplier.expense_account)
    lettered, free = letterings_401()
    assert free == []
    assert lettered["A"] == [("HA", "FMATERIAUX", ZERO, T), ("BQLB", "FMATERIAUX", T, ZERO)]
    assert sorted(sorted(rows) for code, rows in lettered.items() if code != "A") == [
        [("BQLB", "FMATERIAUX", ZERO, T), ("HA", "FMATERIAUX", T, ZERO)],  # the reversals
        [("BQLB", "FRHONE", T, ZERO), ("HA", "FRHONE", ZERO, T)],  # the new code's
    ]


def test_lines_that_do_not_balance_are_left_unlettered(achats, dirigeant):
    """A payment of another amount than the invoice's (1,000 € of 1,200 €): lettering would
    say the supplier is settled; the lines wait, unlettered, for the accountant."""
    from bridges.payments_books import payment_book
    from tests import factories

    connect_libeo(achats, dirigeant)
    invoice = make_invoice(achats, dirigeant)
    payment = factories.PaymentFactory(invoice=invoice, status=Payment.Status.PAID,
                                       amount=Decimal("1000.00"), executed_at=EXECUTED)
    payment_book(payment)
    lettered, free = letterings_401()
    assert lettered == {}
    assert sorted(free) == [("BQLB", "FMATERIAUX", Decimal("1000.00"), ZERO),
                            ("HA", "FMATERIAUX", ZERO, T)]
