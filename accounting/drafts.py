"""What a partner hands to accounting: an entry draft, checked and cleaned by accounting.

A partner package turns its own payload into an ``EntryDraft`` (its words → ours); accounting
decides at the door whether the draft can become an entry (DESIGN §5.3 "202 means it will be
journalised"): amounts the database can hold, one side per line, a balanced entry, PCG account
numbers. Text is made safe rather than refused: control characters become spaces, whitespace
collapses, long labels are cut with "…", and empty labels fall back; a lone surrogate (which
no database encoding can hold) becomes U+FFFD.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10") ** 13  # DecimalField(max_digits=15, decimal_places=2)
ACCOUNT = re.compile(r"^[1-9][0-9]{2,19}$")
AUX_ACCOUNT_MAX = 40
LABEL_MAX = 200
PIECE_REF_MAX = 60
SOURCE_REF_MAX = 100
MAX_VERSION = 2**31 - 1
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
# Dates the books hold: a year's arithmetic (fiscal years, UTC offsets) never leaves Python's.
FIRST_DAY, LAST_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
THIRD_PARTY_PREFIXES = ("401", "411", "419", "467")


def clean_text(value, max_length, *fallbacks):
    """One line of safe text: control characters → space, whitespace collapsed, trimmed, cut
    to ``max_length`` with "…"; if nothing is left, the first fallback that has text."""
    for candidate in (value, *fallbacks):
        if (isinstance(candidate, str) and 0 < len(candidate) <= max_length
                and candidate.isprintable() and "  " not in candidate
                and candidate[0] != " " and candidate[-1] != " "):
            # Already clean, the common case (a million times per export): printable means
            # no control character and no whitespace but the plain space.
            return candidate
        text = " ".join(CONTROL.sub(" ", encodable(str(candidate or ""))).split())
        if text:
            return text if len(text) <= max_length else text[:max_length - 1].rstrip() + "…"
    return ""


def encodable(text):
    """``text`` as UTF-8 can hold it: a lone surrogate (``"\\ud800"`` in JSON) → U+FFFD."""
    return SURROGATE.sub("\ufffd", text)


def parse_day(value):
    """An ISO date (``AAAA-MM-JJ``) between 1900 and 2999; else None."""
    try:
        day = parse_date(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def parse_moment(value):
    """An ISO date-time with its UTC offset, between 1900 and 2999; else None."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment if FIRST_DAY <= moment.date() <= LAST_DAY else None


def parse_amount(value):
    """A decimal string ≥ 0 with at most 2 decimals that the books can hold; else None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        return None
    if amount != amount.quantize(CENT):
        return None
    return amount.quantize(CENT)


def is_third_party(account):
    return account.startswith(THIRD_PARTY_PREFIXES)


@dataclass(frozen=True)
class LineDraft:
    account: str
    debit: str
    credit: str
    account_label: str = ""
    aux_account: str = ""
    aux_label: str = ""


@dataclass(frozen=True)
class EntryDraft:
    """An entry as a partner proposes it; amounts are the partner's decimal strings."""

    source: str
    source_ref: str
    source_version: int
    date: str  # ISO date of the document (PieceDate)
    validated_at: str  # ISO date-time when the partner made it final
    piece_ref: str
    label: str
    lines: tuple[LineDraft, ...] = field(default_factory=tuple)
    third_party_name: str = ""  # fallback for labels (the customer's or supplier's name)
    third_party_code: str = ""  # fallback auxiliary account for a third-party line

    def as_json(self):
        # Not dataclasses.asdict (it deep-copies, slowly): this runs for every webhook.
        data = dict(self.__dict__)
        data["lines"] = [dict(line.__dict__) for line in self.lines]
        return data

    @classmethod
    def from_json(cls, data):
        return cls(**{**data, "lines": tuple(LineDraft(**line) for line in data["lines"])})


class DraftRefused(Exception):
    """The draft cannot become an entry. ``malformed``: field errors (400); ``invalid``:
    amount or balance errors (422). Keys are paths inside the draft (``lines[1].account``)."""

    def __init__(self, malformed=None, invalid=None):
        self.malformed, self.invalid = malformed or {}, invalid or {}
        super().__init__({**self.malformed, **self.invalid})


def draft_clean(draft, *, known_account=None):
    """Check ``draft`` and return it cleaned, or raise ``DraftRefused``.

    ``known_account(number) -> bool`` says whether an account number has a PCG parent (it is
    asked only for well-formed numbers); an account without one is refused (422), never
    given an invented label.
    """
    cleaned, malformed, invalid = draft_problems(draft, known_account=known_account)
    if malformed or invalid:
        raise DraftRefused(malformed, invalid)
    return cleaned


def draft_problems(draft, *, known_account=None):
    """(cleaned draft, field errors, amount errors): see ``draft_clean``."""
    malformed, invalid = {}, {}
    if parse_day(draft.date) is None:
        malformed["date"] = _("Date AAAA-MM-JJ attendue (années 1900 à 2999).")
    if parse_moment(draft.validated_at) is None:
        malformed["validated_at"] = _(
            "Date et heure ISO 8601 avec fuseau attendues (années 1900 à 2999).")
    if not 1 <= draft.source_version <= MAX_VERSION:
        malformed["source_version"] = _("Entier positif attendu (au plus %(max)d).") % {
            "max": MAX_VERSION}
    source_ref = clean_text(draft.source_ref, SOURCE_REF_MAX + 1)
    if not source_ref or len(source_ref) > SOURCE_REF_MAX:
        malformed["source_ref"] = _("Identifiant de %(n)d caractères au plus attendu.") % {
            "n": SOURCE_REF_MAX}
    name = clean_text(draft.third_party_name, LABEL_MAX)
    piece_ref = clean_text(draft.piece_ref, PIECE_REF_MAX, source_ref)
    label = clean_text(draft.label, LABEL_MAX, f"{piece_ref} {name}".strip())
    code = clean_text(draft.third_party_code, AUX_ACCOUNT_MAX + 1)
    if len(code) > AUX_ACCOUNT_MAX:
        code = ""  # only a fallback: a line's own aux_account is checked below
    lines, debit_total, credit_total = [], Decimal(0), Decimal(0)
    if len(draft.lines) < 2:
        malformed["lines"] = _("Au moins deux lignes attendues.")
    for index, line in enumerate(draft.lines):
        path = f"lines[{index}]."
        account = line.account.strip() if isinstance(line.account, str) else ""
        if not ACCOUNT.match(account):
            malformed[path + "account"] = _(
                "Numéro de compte du PCG attendu (3 à 20 chiffres).")
        elif known_account is not None and not known_account(account):
            invalid[path + "account"] = _(
                "Le compte %(account)s n'a pas de compte parent dans le plan comptable "
                "général.") % {"account": account}
        third_party = bool(account) and is_third_party(account)
        aux_account = clean_text(line.aux_account, AUX_ACCOUNT_MAX + 1,
                                 code if third_party else "")
        if len(aux_account) > AUX_ACCOUNT_MAX:
            malformed[path + "aux_account"] = _(
                "Compte auxiliaire de %(n)d caractères au plus attendu.") % {
                "n": AUX_ACCOUNT_MAX}
        if not third_party:
            aux_account = ""  # CompAuxNum/CompAuxLib only on third-party lines
        aux_label = clean_text(line.aux_label, LABEL_MAX, name, aux_account) \
            if aux_account else ""
        debit, credit = parse_amount(line.debit), parse_amount(line.credit)
        if debit is None or credit is None:
            invalid[path + "amounts"] = _(
                "Montants attendus en chaînes décimales positives à 2 décimales au plus, "
                "inférieurs à 10 000 milliards.")
            continue
        if (debit > 0) == (credit > 0):
            invalid[path + "amounts"] = _("Une ligne porte soit un débit, soit un crédit.")
        debit_total += debit
        credit_total += credit
        lines.append(LineDraft(account=account, debit=f"{debit:.2f}", credit=f"{credit:.2f}",
                               account_label=clean_text(line.account_label, LABEL_MAX),
                               aux_account=aux_account, aux_label=aux_label))
    if not invalid and not malformed.get("lines") and (
            debit_total != credit_total or debit_total <= 0):
        invalid["entry"] = _("Écriture déséquilibrée : débit %(d)s ≠ crédit %(c)s.") % {
            "d": debit_total, "c": credit_total}
    return EntryDraft(source=draft.source, source_ref=source_ref,
                      source_version=draft.source_version, date=draft.date,
                      validated_at=draft.validated_at, piece_ref=piece_ref, label=label,
                      lines=tuple(lines), third_party_name=name,
                      third_party_code=code), malformed, invalid
