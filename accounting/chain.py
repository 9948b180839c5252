"""Inalterability: exported entries are chained by SHA-256, each over its canonical form and
the previous entry's hash, per company. ``verify_chain`` recomputes the chain."""

import hashlib

from .models import Entry, EntryLine

GENESIS = "0" * 64


def canonical(company_siren, journal_code, entry_fields, lines):
    """A stable text of what an exported entry says; any change to it changes the hash."""
    fiscal_year, number, day, piece_ref, label = entry_fields
    head = "|".join([company_siren, journal_code, str(fiscal_year), str(number),
                     day.isoformat(), piece_ref, label])
    body = "\n".join("|".join([account, account_label, aux_account, aux_label, line_label,
                               f"{debit:.2f}", f"{credit:.2f}"])
                     for account, account_label, aux_account, aux_label, line_label, debit,
                     credit in lines)
    return f"{head}\n{body}"


def chain_hash(previous_hash, text):
    return hashlib.sha256(f"{previous_hash}\n{text}".encode()).hexdigest()


def verify_chain(company):
    """Problems found in the company's chain, as French sentences (empty: intact)."""
    problems = []
    previous = GENESIS
    entries = (Entry.objects.filter(company=company, state=Entry.State.EXPORTED)
               .select_related("journal").order_by("chain_position"))
    lines_by_entry = {}
    for entry_id, *line in (EntryLine.objects.filter(entry__company=company,
                                                     entry__state=Entry.State.EXPORTED)
                            .order_by("entry_id", "position")
                            .values_list("entry_id", "account", "account_label", "aux_account",
                                         "aux_label", "label", "debit", "credit")):
        lines_by_entry.setdefault(entry_id, []).append(line)
    for entry in entries:
        text = canonical(company.siren, entry.journal.code,
                         (entry.fiscal_year, entry.number, entry.date, entry.piece_ref,
                          entry.label), lines_by_entry.get(entry.pk, []))
        if entry.previous_hash != previous:
            problems.append(f"{entry.reference} : le chaînage avec l'écriture précédente est "
                            "rompu (écriture supprimée ou réordonnée ?)")
        if chain_hash(entry.previous_hash, text) != entry.chain_hash:
            problems.append(f"{entry.reference} : son contenu ne correspond plus à son "
                            "empreinte (écriture ou ligne modifiée après l'export)")
        previous = entry.chain_hash
    return problems
