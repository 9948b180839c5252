"""Inalterability: exported entries are chained by SHA-256, each over its canonical form and
the previous entry's hash, per company. ``verify_chain`` recomputes the chain."""

import hashlib

from .models import ChainSeal, Entry, EntryLine

GENESIS = "0" * 64


CHAIN_VERSION = 2


def canonical(company_siren, journal_code, entry_fields, lines, *, journal_label=None,
              state=None, piece_date=None, version=CHAIN_VERSION):
    """A stable text of what a final entry says; any change to it changes the hash.

    Version 2 (2026-11-30) adds the journal's label, the entry's state and its document date
    (when it differs from the entry's); entries chained
    before keep their version-1 text."""
    fiscal_year, number, day, piece_ref, label = entry_fields
    head = [company_siren, journal_code, str(fiscal_year), str(number), day.isoformat(),
            piece_ref, label]
    if version >= 2:
        head += [journal_label or "", state or "", piece_date.isoformat() if piece_date else ""]
    body = "\n".join("|".join([account, account_label, aux_account, aux_label, line_label,
                               f"{debit:.2f}", f"{credit:.2f}"])
                     for account, account_label, aux_account, aux_label, line_label, debit,
                     credit in lines)
    return "|".join(head) + "\n" + body


def chain_hash(previous_hash, text):
    return hashlib.sha256(f"{previous_hash}\n{text}".encode()).hexdigest()


def verify_chain(company):
    """Problems found in the company's chain, as French sentences (empty: intact)."""
    problems = []
    previous, position, count = GENESIS, 0, 0
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
        version = entry.chain_version
        text = canonical(company.siren, entry.journal_code if version >= 2
                         else entry.journal.code,
                         (entry.fiscal_year, entry.number, entry.date, entry.piece_ref,
                          entry.label), lines_by_entry.get(entry.pk, []),
                         journal_label=entry.journal_label, state=entry.state,
                         piece_date=entry.piece_date, version=version)
        if entry.previous_hash != previous:
            problems.append(f"{entry.reference} : le chaînage avec l'écriture précédente est "
                            "rompu (écriture supprimée, remise en brouillon ou réordonnée ?)")
        if chain_hash(entry.previous_hash, text) != entry.chain_hash:
            problems.append(f"{entry.reference} : son contenu ne correspond plus à son "
                            "empreinte (écriture, ligne ou libellé de journal modifié après "
                            "l'export)")
        previous, position, count = entry.chain_hash, entry.chain_position, count + 1
    for entry in (Entry.objects.filter(company=company, state=Entry.State.DRAFT)
                  .exclude(chain_hash="").select_related("journal")):
        problems.append(f"{entry.reference} : écriture exportée remise en brouillon")
    seal = ChainSeal.objects.filter(company=company).first()
    if seal is not None and (seal.head_hash, seal.last_position, seal.entry_count) != (
            previous, position, count):
        problems.append(
            f"Sceau : la chaîne devrait finir au rang {seal.last_position} "
            f"({seal.entry_count} écritures), elle finit au rang {position} ({count}) : "
            "dernière(s) écriture(s) supprimée(s) ou remise(s) en brouillon")
    return problems


def seal_update(company, position, head_hash, count_added):
    """Move the company's seal to the new head of its chain (caller's transaction)."""
    seal, _created = ChainSeal.objects.select_for_update().get_or_create(
        company=company, defaults={"head_hash": GENESIS})
    seal.last_position, seal.head_hash = position, head_hash
    seal.entry_count += count_added
    seal.save()
