"""Export formats: FEC (article A47 A-1 of the LPF) and the CSV that accounting software imports
(DESIGN §7.1), plus MEG's own FEC self-check.

Writers take rows from one query (``exports.ExportLine``) and write bytes as they go, so that a
million lines never sit in memory. Every text field is cleaned (no control character, tab or
line break; trimmed) and never empty where A47 A-1 requires a value; auxiliary accounts appear
only on third-party lines, number and label together.
"""

import csv
import datetime
import io
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils.translation import gettext as _

from .drafts import clean_text, is_third_party

FEC_COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum",
               "CompteLib", "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib",
               "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise",
               "Idevise"]
FEC_REQUIRED = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum",
                "CompteLib", "PieceRef", "PieceDate", "EcritureLib", "ValidDate"]
CSV_COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "PieceRef",
               "PieceDate", "CompteNum", "CompteLib", "CompAuxNum", "CompAuxLib", "EcritureLib",
               "Debit", "Credit", "EcheanceDate", "Analytique"]
CSV_ENCODINGS = ("utf-8-sig", "iso-8859-15")
FORMULA_STARTS = ("=", "+", "-", "@")
FIELD_MAX = 200


@lru_cache(maxsize=8192)  # amounts repeat (0,00 on every other line)
def fec_amount(value):
    return f"{value:.2f}".replace(".", ",")


@lru_cache(maxsize=4096)  # a year has 366 days: strftime once per day, not per line
def fec_date(day):
    return day.strftime("%Y%m%d")


def _text(value, *fallbacks):
    return clean_text(value, FIELD_MAX, *fallbacks)


def entry_number(row):
    return f"{row.journal_code}-{row.fiscal_year}-{row.number:06d}"


def line_fields(row):
    """The cleaned values of one export row, by FEC column name (ValidDate aside)."""
    number = entry_number(row)
    aux_account = _text(row.aux_account) if is_third_party(row.account) else ""
    return {
        "JournalCode": row.journal_code,
        "JournalLib": _text(row.journal_label, row.journal_code),
        "EcritureNum": number,
        "EcritureDate": row.date,
        "CompteNum": row.account,
        "CompteLib": _text(row.account_label, row.account),
        "CompAuxNum": aux_account,
        "CompAuxLib": _text(row.aux_label, aux_account) if aux_account else "",
        "PieceRef": _text(row.piece_ref, number),
        "PieceDate": row.piece_date or row.date,
        "EcritureLib": _text(row.label, row.entry_label, row.piece_ref, number),
        "Debit": row.debit,
        "Credit": row.credit,
        # Lettering lives outside the entry (``models.Lettering``): read, never sealed.
        "EcritureLet": getattr(row, "lettering_code", None) or "",
        "DateLet": row.lettering_date.strftime("%Y%m%d") if getattr(row, "lettering_code", None)
        else "",
    }


def _lettering(row):
    """(EcritureLet, DateLet) of a line: its lettering code and date, both or neither."""
    code = getattr(row, "lettering_code", None)
    return (code, fec_date(row.lettering_date)) if code else ("", "")


def fec_line(row, valid_date):
    """One FEC line: the fields of ``line_fields``, without building its dict (a million
    lines per export)."""
    number = f"{row.journal_code}-{row.fiscal_year}-{row.number:06d}"
    aux_account = _text(row.aux_account) if is_third_party(row.account) else ""
    return "\t".join([
        row.journal_code, _text(row.journal_label, row.journal_code), number,
        fec_date(row.date), row.account, _text(row.account_label, row.account),
        aux_account, _text(row.aux_label, aux_account) if aux_account else "",
        _text(row.piece_ref, number), fec_date(row.piece_date or row.date),
        _text(row.label, row.entry_label, row.piece_ref, number), fec_amount(row.debit),
        fec_amount(row.credit), *_lettering(row), valid_date, "", ""]) + "\r\n"


WRITE_EVERY = 512  # lines written (and hashed) together
MEMO_MAX = 10_000  # cleaned labels kept (accounts, third parties) before starting afresh


def write_fec(rows, stream, *, valid_date, **_options):
    """``valid_date``: the day the entries become final in MEG (the export), YYYYMMDD. Yields
    each row once its line is formatted; the bytes go out in blocks of ``WRITE_EVERY`` lines,
    the last once ``rows`` is exhausted.

    Byte for byte the lines of ``fec_line``, several times faster (a million lines per
    export): what depends only on the entry (journal, number, dates, piece) is cleaned and
    formatted once per entry (its lines come together, see ``exports.ENTRY_ORDER``), account
    and third-party labels once per distinct value."""
    stream.write(("\t".join(FEC_COLUMNS) + "\r\n").encode())
    tail = f"\t{valid_date}\t\t\r\n"
    unlettered_tail = "\t\t" + tail  # EcritureLet and DateLet empty
    entry_id = head = piece = number = None
    label_key = label_text = None
    accounts, third_parties, amounts = {}, {}, {}
    block = []
    for row in rows:
        (journal_code, journal_label, fiscal_year, entry_number, date, piece_ref, account,
         account_label, aux_account, aux_label, label, debit, credit, entry_label, _state,
         piece_date, row_entry_id, letter, letter_date) = row
        if row_entry_id != entry_id or entry_id is None:
            entry_id = row_entry_id
            number = f"{journal_code}-{fiscal_year}-{entry_number:06d}"
            head = (f"{journal_code}\t{_text(journal_label, journal_code)}\t"
                    f"{number}\t{fec_date(date)}\t")
            piece = f"{_text(piece_ref, number)}\t{fec_date(piece_date or date)}\t"
            label_key = None
        known = accounts.get((account, account_label))
        if known is None:
            if len(accounts) >= MEMO_MAX:
                accounts.clear()
            known = accounts[account, account_label] = (
                f"{account}\t{_text(account_label, account)}\t", is_third_party(account))
        account_text, third_party = known
        if third_party:
            aux = third_parties.get((aux_account, aux_label))
            if aux is None:
                if len(third_parties) >= MEMO_MAX:
                    third_parties.clear()
                aux_text = _text(aux_account)
                aux = third_parties[aux_account, aux_label] = (
                    f"{aux_text}\t{_text(aux_label, aux_text) if aux_text else ''}\t")
        else:
            aux = "\t\t"
        if label != label_key:
            label_key = label
            label_text = _text(label, entry_label, piece_ref, number)
        debit_text = amounts.get(debit)
        if debit_text is None:
            if len(amounts) >= MEMO_MAX:
                amounts.clear()
            debit_text = amounts[debit] = fec_amount(debit)
        credit_text = amounts.get(credit)
        if credit_text is None:
            if len(amounts) >= MEMO_MAX:
                amounts.clear()
            credit_text = amounts[credit] = fec_amount(credit)
        if letter:  # lettering: both columns, or neither (see ``_lettering``)
            block.append(f"{head}{account_text}{aux}{piece}{label_text}\t{debit_text}\t"
                         f"{credit_text}\t{letter}\t{fec_date(letter_date)}{tail}")
        else:
            block.append(f"{head}{account_text}{aux}{piece}{label_text}\t{debit_text}\t"
                         f"{credit_text}{unlettered_tail}")
        if len(block) == WRITE_EVERY:
            stream.write("".join(block).encode())
            block.clear()
        yield row
    if block:
        stream.write("".join(block).encode())


def csv_cell(value):
    """No line break inside a field; a cell that a spreadsheet would run as a formula is
    neutralised with a leading apostrophe (CSV injection)."""
    text = _text(value) if isinstance(value, str) else value
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def encode_for(encoding):
    """Text → bytes in ``encoding``; characters it lacks are transliterated (é stays é in
    ISO-8859-15, œ too; “ ” become ", ≠ becomes ?)."""
    if encoding == "utf-8-sig":
        return lambda text: text.encode("utf-8")

    def encode(text):
        try:
            return text.encode(encoding)
        except UnicodeEncodeError:
            folded = "".join(char if _encodable(char, encoding) else _fold(char)
                             for char in text)
            return folded.encode(encoding, errors="replace")

    return encode


def _encodable(char, encoding):
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                        "…": "...", "\u00a0": " ", "\u202f": " "})


def _fold(char):
    char = char.translate(QUOTES)
    return unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?"


def write_csv(rows, stream, *, encoding="utf-8-sig", **_options):
    """One line per entry line, the columns accounting software imports (DESIGN §7.1)."""
    encode = encode_for(encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    if encoding == "utf-8-sig":
        stream.write("\ufeff".encode())
    writer.writerow(CSV_COLUMNS)
    stream.write(encode(buffer.getvalue()))
    for row in rows:
        fields = line_fields(row)
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(fields[name]) for name in CSV_COLUMNS[:3]] + [
            row.date.strftime("%d/%m/%Y"), csv_cell(fields["PieceRef"]),
            fields["PieceDate"].strftime("%d/%m/%Y"),
            *(csv_cell(fields[name]) for name in CSV_COLUMNS[6:11]),
            fec_amount(row.debit), fec_amount(row.credit), "", ""])
        stream.write(encode(buffer.getvalue()))
        yield row


class FecInvalid(Exception):
    """MEG's FEC self-check failed: ``line`` (1 = header) and the reason, in French."""

    def __init__(self, line, reason):
        self.line, self.reason = line, reason
        super().__init__(_("FEC refusé par l'autocontrôle de MEG, ligne %(line)d : %(reason)s")
                         % {"line": line, "reason": reason})


def _amount(text):
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def fec_check(lines, *, period=None):
    """Check a FEC file (an iterable of its raw byte lines) as an administration would: one
    encoding (UTF-8), the 18 columns in order, mandatory fields, amounts, each entry and the
    whole file balanced, dates inside ``period`` (start, end) when given.

    Streamed: only the entries whose lines seen so far do not balance are remembered (a FEC
    lists an entry's lines together, so that is one at a time), and each distinct date is
    parsed once; a million lines are checked in constant memory."""
    totals = [Decimal(0), Decimal(0)]
    unbalanced_so_far = {}  # entry → [debit, credit] of its lines read, while they differ
    current, current_totals = None, None
    required = [FEC_COLUMNS.index(name) for name in FEC_REQUIRED]
    aux_num, aux_lib = FEC_COLUMNS.index("CompAuxNum"), FEC_COLUMNS.index("CompAuxLib")
    lettering_code, lettering_date = FEC_COLUMNS.index("EcritureLet"), FEC_COLUMNS.index("DateLet")
    date_columns = [(FEC_COLUMNS.index(name), name)
                    for name in ("EcritureDate", "PieceDate", "ValidDate", "DateLet")]
    journal, number = FEC_COLUMNS.index("JournalCode"), FEC_COLUMNS.index("EcritureNum")
    debit_column, credit_column = FEC_COLUMNS.index("Debit"), FEC_COLUMNS.index("Credit")
    days = {}
    count = 0
    for index, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FecInvalid(index, _("octets qui ne sont pas de l'UTF-8.")) from None
        if not text.endswith("\r\n"):
            raise FecInvalid(index, _("ligne sans fin de ligne CRLF."))
        fields = text[:-2].split("\t")
        if len(fields) != len(FEC_COLUMNS):
            raise FecInvalid(index, _("%(n)d champs au lieu de 18.") % {"n": len(fields)})
        if index == 1:
            if fields != FEC_COLUMNS:
                raise FecInvalid(index, _("en-tête différent de l'article A47 A-1."))
            continue
        for column in required:
            if not fields[column].strip():
                raise FecInvalid(index, _("%(field)s est vide.")
                                 % {"field": FEC_COLUMNS[column]})
        if bool(fields[aux_num]) != bool(fields[aux_lib]):
            raise FecInvalid(index, _("CompAuxNum et CompAuxLib vont ensemble."))
        if bool(fields[lettering_code]) != bool(fields[lettering_date]):
            raise FecInvalid(index, _("EcritureLet et DateLet vont ensemble."))
        for column, name in date_columns:
            if name == "DateLet" and not fields[column]:
                continue
            day = days.get(fields[column])
            if day is None:
                try:
                    day = datetime.datetime.strptime(fields[column], "%Y%m%d").date()
                except ValueError:
                    raise FecInvalid(index, _("%(field)s n'est pas une date AAAAMMJJ.")
                                     % {"field": name}) from None
                if len(days) < 10_000:
                    days[fields[column]] = day
            if name == "EcritureDate" and period and not period[0] <= day <= period[1]:
                raise FecInvalid(index, _("date hors de l'exercice."))
        debit, credit = _amount(fields[debit_column]), _amount(fields[credit_column])
        if debit is None or credit is None or debit < 0 or credit < 0:
            raise FecInvalid(index, _("montant illisible."))
        key = (fields[journal], fields[number])
        if key != current:
            if current_totals is not None and current_totals[0] != current_totals[1]:
                unbalanced_so_far[current] = current_totals
            current = key
            current_totals = unbalanced_so_far.pop(key, None) or [Decimal(0), Decimal(0)]
        current_totals[0] += debit
        current_totals[1] += credit
        totals[0] += debit
        totals[1] += credit
        count += 1
    if current_totals is not None and current_totals[0] != current_totals[1]:
        unbalanced_so_far[current] = current_totals
    unbalanced = next(iter(unbalanced_so_far), None)
    if unbalanced:
        raise FecInvalid(count + 1, _("l'écriture %(n)s n'est pas équilibrée.")
                         % {"n": unbalanced[1]})
    if totals[0] != totals[1]:
        raise FecInvalid(count + 1, _("le fichier n'est pas équilibré."))
    return count
