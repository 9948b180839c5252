"""MEG's FEC self-check reads a file once, in constant memory (a million lines at export and
closing): an entry's balance is still checked whatever the order of its lines."""

import pytest

from accounting.formats import FEC_COLUMNS, FecInvalid, fec_check

HEADER = ("\t".join(FEC_COLUMNS) + "\r\n").encode()


def line(number, debit, credit):
    return (f"VT\tVentes\t{number}\t20260610\t411000\tClients\tDUPO\tDUPONT\tF1\t20260610\tF1\t"
            f"{debit}\t{credit}\t\t\t20261130\t\t\r\n").encode()


def test_lines_of_an_entry_apart_from_each_other_still_balance():
    assert fec_check([HEADER, line("VT-1", "120,00", "0,00"), line("VT-2", "5,00", "0,00"),
                      line("VT-2", "0,00", "5,00"), line("VT-1", "0,00", "120,00")]) == 4


@pytest.mark.parametrize("lines, named", [
    ([line("VT-1", "120,00", "0,00"), line("VT-1", "0,00", "100,00"),
      line("VT-2", "0,00", "20,00")], "VT-1"),
    ([line("VT-1", "10,00", "0,00"), line("VT-1", "0,00", "10,00"),
      line("VT-2", "7,00", "0,00"), line("VT-3", "0,00", "7,00")], "VT-2"),
    ([line("VT-1", "3,00", "0,00"), line("VT-2", "1,00", "0,00"), line("VT-2", "0,00", "1,00"),
      line("VT-1", "0,00", "2,00"), line("VT-3", "0,00", "1,00")], "VT-1"),
], ids=["file-balanced-entries-not", "two-halves", "entry-apart-still-unbalanced"])
def test_an_unbalanced_entry_is_named(lines, named):
    with pytest.raises(FecInvalid, match=f"l'écriture {named} n'est pas équilibrée"):
        fec_check([HEADER, *lines])


def test_the_fast_writer_writes_exactly_what_fec_line_says():
    """``write_fec`` formats per entry and per distinct label, for speed: byte for byte the
    lines of ``fec_line``, whatever the texts hold."""
    import datetime
    import io
    from decimal import Decimal

    from accounting.formats import fec_line, write_fec
    from accounting.services.exports import ExportLine

    day, other = datetime.date(2026, 6, 10), datetime.date(2025, 12, 30)
    rows = []
    for entry_id, (label, piece, piece_date, journal_label) in enumerate([
            ("FAC1 DUPONT", "FAC1", None, "Ventes"), ("  spaced\tlabel ", "", other, " \x00"),
            ("", "P\u2028X", None, "Ventes ProGBat"), ("L" * 250, "R" * 70, other, "")],
            start=1):
        for account, account_label, aux, aux_label, line_label, debit, credit in [
                ("411000", "Clients", "DUPO", "DUPONT", label, "120.00", "0"),
                ("411000", "", " ", "\t", "", "1.5", "0"),
                ("706000", "Ventes\xa0travaux", "IGNORED", "X", label, "0", "100"),
                ("445720", "TVA", "", "", "autre", "0", "21.50")]:
            lettered = ("AB", other) if account == "411000" and entry_id % 2 else (None, None)
            rows.append(ExportLine("VT", journal_label, 2026, entry_id, day, piece, account,
                                   account_label, aux, aux_label, line_label, Decimal(debit),
                                   Decimal(credit), f"{label} entry", "draft", piece_date,
                                   entry_id, *lettered))
    stream = io.BytesIO()
    assert list(write_fec(iter(rows), stream, valid_date="20261130")) == rows
    expected = "".join(fec_line(row, "20261130") for row in rows).encode()
    assert stream.getvalue().split(b"\r\n", 1)[1] == expected
