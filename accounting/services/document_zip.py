"""An export with its pièces: one ZIP holding the export's file and, under ``pieces/``, the
PDF of each exported entry's document, named by its PieceRef (DESIGN §7.2, API
``include_documents``).

Built in constant memory: the entries are read in chunks, each PDF is streamed from the
documents storage into the archive (itself a temporary file on disk, ZIP64 when large), then
the archive is saved through the storage API. The export's file inside is the very file that
was self-checked and sealed; the archive has its own SHA-256.
"""

import hashlib
import re
import shutil
import tempfile
import unicodedata
import zipfile

from django.core.files import File
from django.utils.translation import gettext as _

from ..models import Entry, EntryDocument
from .documents import document_source_ref

CHUNK = 2000
PIECES_DIR = "pieces"
MISSING_LIST = "pieces/pieces-manquantes.txt"


def piece_file_stem(piece_ref):
    """A PieceRef as a file name: ASCII letters, digits, ``.``, ``_`` and ``-`` (others
    become ``_``), at most 80 characters, never empty nor hidden."""
    ascii_ref = unicodedata.normalize("NFKD", piece_ref or "").encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_ref).strip("._-")[:80]
    return stem or "piece"


def _exported_entries(batch):
    """The entries of the export's file, in its order, once they are marked exported."""
    from .exports import ENTRY_ORDER, exportable_entries

    if batch.include_exported:  # the file held every entry of the period
        entries = exportable_entries(company=batch.company, journal_codes=batch.journal_codes,
                                     date_from=batch.date_from, date_to=batch.date_to,
                                     include_exported=True)
    else:
        entries = Entry.objects.filter(export=batch)
    return (entries.order_by(*ENTRY_ORDER)
            .values_list("journal_id", "source_ref", "piece_ref").iterator(chunk_size=CHUNK))


def _documents_in_order(batch):
    """``(piece_ref, EntryDocument)`` for each document of the export with a pièce, once,
    in the file's order."""
    rows = _exported_entries(batch)
    seen = set()  # (journal, source_ref) of documents already given
    while True:
        chunk = [row for _index, row in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            return
        keys = {(journal, document_source_ref(ref)) for journal, ref, _piece in chunk}
        documents = {(doc.journal_id, doc.source_ref): doc for doc in EntryDocument.objects
                     .filter(journal_id__in={key[0] for key in keys},
                             source_ref__in={key[1] for key in keys})}
        for journal, ref, piece_ref in chunk:
            key = (journal, document_source_ref(ref))
            if key in documents and key not in seen:
                seen.add(key)
                yield piece_ref, documents[key]


def export_archive_build(batch):
    """Write the archive of ``batch`` (its file already written and sealed); sets
    ``batch.archive``, ``archive_name`` and ``archive_sha256`` (the caller saves the batch)."""
    used, missing = set(), []
    with tempfile.TemporaryFile() as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED,
                             allowZip64=True) as archive:
            with batch.file.open("rb") as source, \
                    archive.open(batch.file_name, "w", force_zip64=True) as target:
                shutil.copyfileobj(source, target, 1 << 20)
            for piece_ref, document in _documents_in_order(batch):
                stem = piece_file_stem(piece_ref)
                name, number = f"{PIECES_DIR}/{stem}.pdf", 1
                while name in used:
                    number += 1
                    name = f"{PIECES_DIR}/{stem}-{number}.pdf"
                try:
                    handle = document.file.open("rb")
                except (FileNotFoundError, ValueError):
                    missing.append(piece_ref)
                    continue
                used.add(name)
                with handle, archive.open(name, "w", force_zip64=True) as target:
                    shutil.copyfileobj(handle, target, 1 << 20)
            if missing:
                archive.writestr(MISSING_LIST, "\n".join(
                    [_("Pièces introuvables dans le stockage (PieceRef) :"), *missing]) + "\n")
        raw.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
        raw.seek(0)
        batch.archive_sha256 = digest.hexdigest()
        batch.archive.save(batch.served_file_name, File(raw), save=False)
    return len(used)

