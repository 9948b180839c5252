"""Export formats: FEC (article A47 A-1 of the LPF) and the guide's CSV.

Writers take rows from one query (see ``exports.LINE_COLUMNS``) and write bytes as they go, so
that a million lines never sit in memory. One encoding per file (UTF-8), one separator, no
third-party columns on lines that are not third-party lines.
"""

import csv
import io

FEC_COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum",
               "CompteLib", "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib",
               "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise",
               "Idevise"]
CSV_COLUMNS = ["Date", "Pièce", "Libellé", "Compte comptable", "Débit", "Crédit"]
THIRD_PARTY_PREFIXES = ("40", "41")  # suppliers and customers: the only auxiliary accounts


def fec_amount(value):
    return f"{value:.2f}".replace(".", ",")


def _clean(text):
    """No tab or line break inside a field: they would shift the FEC's columns."""
    return " ".join(str(text).split())


def fec_line(row, valid_date):
    (journal_code, journal_label, fiscal_year, number, day, piece_ref, account, account_label,
     aux_account, aux_label, label, debit, credit, *_rest) = row
    third_party = aux_account and account.startswith(THIRD_PARTY_PREFIXES)
    date = day.strftime("%Y%m%d")
    return "\t".join([
        journal_code, _clean(journal_label), f"{journal_code}-{fiscal_year}-{number:06d}", date,
        account, _clean(account_label), aux_account if third_party else "",
        _clean(aux_label) if third_party else "", _clean(piece_ref), date, _clean(label),
        fec_amount(debit), fec_amount(credit), "", "", valid_date, "", ""]) + "\r\n"


def write_fec(rows, stream, *, valid_date):
    """``valid_date``: the day the entries become final in MEG (the export), YYYYMMDD."""
    stream.write(("\t".join(FEC_COLUMNS) + "\r\n").encode())
    for row in rows:
        stream.write(fec_line(row, valid_date).encode())
        yield row


def write_csv(rows, stream, **_options):
    """The preview's columns, French style: ``;`` separated, comma decimals, dd/mm/yyyy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    stream.write(buffer.getvalue().encode())
    for row in rows:
        (_code, _jl, _fy, _number, day, piece_ref, account, _al, aux_account, _aux_label,
         label, debit, credit, *_rest) = row
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([day.strftime("%d/%m/%Y"), piece_ref, label, aux_account or account,
                         fec_amount(debit) if debit else "", fec_amount(credit) if credit else ""])
        stream.write(buffer.getvalue().encode())
        yield row
