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
