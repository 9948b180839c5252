"""``fec``: exporting 1,000,000 entry lines as a FEC, against PostgreSQL's own COPY.

DESIGN §10: export of 1,000,000 entry lines — query + writer ≤ 1.5 × the time of PostgreSQL
``COPY … TO STDOUT`` of the same rows (raised 2026-11-30 from 2 ×); peak RSS < 150 MB
(streamed).

The lines (one company, journal VT, one fiscal year; entries of 3 balanced lines 411 / 706 /
4457, a few of 2) are generated inside PostgreSQL (``INSERT … SELECT generate_series``), with
every constraint of the models checked. Then two measurements, each in a fresh subprocess
(``python -m benchmarks.fec MODE``) reporting its wall time and its peak RSS (``VmHWM``, see
``rss_mb``):

(a) ``COPY (<all the export's lines>) TO STDOUT`` through psycopg 3 ``cursor.copy`` into
    /dev/null: one statement, the SQL Django generates for ``exports.export_lines`` — the rows
    of the file with the same columns (lettering included), joins and order;
(a') ``COPY`` of the very statements (b) runs (its slices), one after the other — the stricter
    comparison, printed beside the target's;
(b) what the export runs: ``exports.export_rows`` (the same rows, read in slices of entries,
    PostgreSQL reading the next slice while this one is written) streamed through
    ``accounting.formats.write_fec`` into a file.

The whole export (numbers, file, chain, seal, ProGBat locks) is ``benchmarks.export``.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import BROKER_URL, cpu, format_table, yes_no
from devtools import procs

LINES = 1_000_000
QUICK_LINES = 100_000
RATIO_TARGET = 1.5
RSS_TARGET_MB = 150.0
FISCAL_YEAR = 2025
ORDER = ("journal__code", "fiscal_year", "number")  # as in exports._export
CHILD_TIMEOUT = 1_800


# --------------------------------------------------------------------------------------------
# Data


def build(lines, *, numbered=True):
    """One firm, user, company and VT journal (ProGBat sales); ``lines`` entry lines generated
    by SQL. ``numbered``: the entries carry their numbers (as the old ingestion gave them: what
    the writer's measure needs); else they are drafts as ingestion leaves them now, without a
    number (what an export or a closing numbers)."""
    from django.db import connection, transaction
    from django_scopes import scopes_disabled

    from accounting.chart import nearest_pcg_label
    from accounting.models import Journal, JournalSequence
    from benchmarks.dashboard import luhn_complete, siret_for
    from companies.models import Company
    from firms.models import Firm
    from users.models import User

    entries = -(-lines // 3)
    two_line_entries = entries * 3 - lines  # 0, 1 or 2 entries without VAT line
    first_day = datetime.date(FISCAL_YEAR, 1, 1)
    labels = {account: nearest_pcg_label(account) for account in ("411000", "706000", "445710")}
    with scopes_disabled(), transaction.atomic():
        firm = Firm.objects.create(name="Cabinet Bench FEC",
                                   siren=luhn_complete(f"{97_000_000:08d}"))
        user = User.objects.create(email="export@fec.bench.meg.test", first_name="Export",
                                   last_name="FEC")
        company = Company.objects.create(firm=firm, name="Entreprise FEC",
                                          siret=siret_for(7, 0), state=Company.State.ACTIVATED)
        journal = Journal.objects.create(firm=firm, company=company, code="VT",
                                         label="Ventes ProGBat", source=Journal.Source.PROGBAT)
        if numbered:
            JournalSequence.objects.create(journal=journal, fiscal_year=FISCAL_YEAR,
                                           last_number=entries)
        with connection.cursor() as cursor:
            # Numbers follow the dates, as ingestion gives them; 365 days of the fiscal year.
            cursor.execute("""
                INSERT INTO accounting_entry
                    (firm_id, company_id, journal_id, fiscal_year, number, date, piece_ref,
                     label, source_ref, source_version, validated_at, state, previous_hash,
                     chain_hash, created_at, updated_at, note, journal_code, journal_label,
                     chain_version)
                SELECT %(firm)s, %(company)s, %(journal)s, %(year)s,
                       CASE WHEN %(numbered)s THEN n END,
                       %(first)s::date + ((n - 1)::bigint * 365 / %(entries)s)::int,
                       'F' || lpad(n::text, 8, '0'),
                       'F' || lpad(n::text, 8, '0') || ' CLIENT ' || (n %% 500),
                       'inv_' || n, 1,
                       ((%(first)s::date + ((n - 1)::bigint * 365 / %(entries)s)::int)
                        + time '18:00') AT TIME ZONE 'Europe/Paris',
                       'draft', '', '', now(), now(), '', '', '', 1
                FROM generate_series(1, %(entries)s) AS n
            """, {"firm": firm.pk, "company": company.pk, "journal": journal.pk,
                  "year": FISCAL_YEAR, "first": first_day, "entries": entries,
                  "numbered": numbered})
            cursor.execute("""
                INSERT INTO accounting_entryline
                    (firm_id, entry_id, position, account, account_label, aux_account,
                     aux_label, label, debit, credit)
                SELECT e.firm_id, e.id, p,
                       CASE p WHEN 1 THEN '411000' WHEN 2 THEN '706000' ELSE '445710' END,
                       CASE p WHEN 1 THEN %(l411)s WHEN 2 THEN %(l706)s ELSE %(l445)s END,
                       CASE p WHEN 1 THEN 'C' || lpad((a.n %% 500)::text, 4, '0')
                            ELSE '' END,
                       CASE p WHEN 1 THEN 'CLIENT ' || (a.n %% 500) ELSE '' END,
                       e.label,
                       CASE p WHEN 1 THEN a.ht + CASE WHEN a.vat THEN a.tva ELSE 0 END
                            ELSE 0 END,
                       CASE p WHEN 2 THEN a.ht WHEN 3 THEN a.tva ELSE 0 END
                FROM accounting_entry e
                CROSS JOIN LATERAL (
                    SELECT n, ht, round(ht * 0.20, 2) AS tva, n > %(two)s AS vat
                    FROM (SELECT n, (100 + n %% 900 + (n %% 100) / 100.0)::numeric(15, 2) AS ht
                          FROM (SELECT substr(e.source_ref, 5)::int AS n) AS k) AS base) AS a
                CROSS JOIN generate_series(1, 3) AS p
                WHERE e.journal_id = %(journal)s AND (p < 3 OR a.vat)
                ORDER BY e.id, p
            """, {"journal": journal.pk, "two": two_line_entries, "l411": labels["411000"],
                  "l706": labels["706000"], "l445": labels["445710"]})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounting_entry")
        cursor.execute("VACUUM ANALYZE accounting_entryline")
        cursor.execute("SELECT count(*), sum(debit), sum(credit) FROM accounting_entryline "
                       "WHERE firm_id = %s", [firm.pk])
        count, debit, credit = cursor.fetchone()
    if count != lines or debit != credit:
        raise RuntimeError(f"generated {count} lines (wanted {lines}), Σdebit {debit} ≠ "
                           f"Σcredit {credit}")
    return {"company": company.pk, "firm": firm.pk, "user": user.pk, "entries": entries,
            "lines": count,
            "date_from": first_day.isoformat(),
            "date_to": datetime.date(FISCAL_YEAR, 12, 31).isoformat()}


# --------------------------------------------------------------------------------------------
# Children (one measurement each, in a fresh process)


def rss_mb(field="VmRSS"):
    """This process's resident set size (MB): now (``VmRSS``) or its peak (``VmHWM``).

    The peak is read from /proc rather than ``getrusage().ru_maxrss``: Linux carries the
    parent's high-water mark into a child across fork + exec, so a child of this 130 MB
    benchmark process reports at least 130 MB there whatever it does (checked: a child using
    11 MB of a 311 MB parent reports ru_maxrss 311 MB, VmHWM 11 MB).
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def export_entries(data):
    """The entries ``exports._export`` writes (same filters)."""
    from accounting.services.exports import exportable_entries
    from companies.models import Company

    company = Company.objects.get(pk=data["company"])
    return exportable_entries(company=company, journal_codes=["VT"],
                              date_from=datetime.date.fromisoformat(data["date_from"]),
                              date_to=datetime.date.fromisoformat(data["date_to"]))


def export_query(data):
    """All the lines of the export in one ordered query: the rows of the file, in its order
    (same columns, joins and order as ``exports.export_rows`` reads slice by slice)."""
    from accounting.services.exports import export_lines

    return export_lines(export_entries(data))


def child_copy(data, _output):
    from django.db import connection

    sql, params = export_query(data).query.sql_with_params()
    connection.ensure_connection()
    rows = size = 0
    started = time.perf_counter()
    with (connection.connection.cursor() as cursor, open(os.devnull, "wb") as sink,
          cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy):
        for block in copy:
            sink.write(block)
            size += len(block)
            rows += bytes(block).count(b"\n")
    return {"seconds": time.perf_counter() - started, "rows": rows, "bytes": size}


def child_copy_slices(data, _output):
    """COPY of the very statements ``exports.export_rows`` runs (its slices), one after the
    other: PostgreSQL's own time for the export's reads (the stricter comparison)."""
    from django.db import connection, transaction

    from accounting.services.exports import SLICE_ENTRIES, _slices

    rows = size = 0
    started = time.perf_counter()
    with transaction.atomic(), open(os.devnull, "wb") as sink:
        connection.ensure_connection()
        for lines in _slices(export_entries(data), SLICE_ENTRIES):
            sql, params = lines.query.sql_with_params()
            with (connection.connection.cursor() as cursor,
                  cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy):
                for block in copy:
                    sink.write(block)
                    size += len(block)
                    rows += bytes(block).count(b"\n")
    return {"seconds": time.perf_counter() - started, "rows": rows, "bytes": size}


def child_fec(data, output):
    from django.db import transaction
    from django.utils import timezone

    from accounting.formats import write_fec
    from accounting.services.exports import export_rows

    valid_date = timezone.localdate().strftime("%Y%m%d")
    rows = 0
    started = time.perf_counter()
    with transaction.atomic(), open(output, "wb") as stream:  # exports runs in a transaction
        for _row in write_fec(export_rows(export_entries(data)), stream, valid_date=valid_date):
            rows += 1
    return {"seconds": time.perf_counter() - started, "rows": rows,
            "bytes": Path(output).stat().st_size}


CHILDREN = {"copy": child_copy, "copy_slices": child_copy_slices, "fec": child_fec}


def child_main(mode, data_json, output, children=None):
    import resource

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meg.settings")
    import django

    django.setup()
    from django_scopes import scopes_disabled

    baseline = rss_mb()
    with scopes_disabled():
        result = (children or CHILDREN)[mode](json.loads(data_json), output)
    result["baseline_mb"] = baseline
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_mb"] = rss_mb("VmHWM")
    result["ru_maxrss_mb"] = usage.ru_maxrss / 1024
    result["cpu"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(result))


# --------------------------------------------------------------------------------------------
# Parent


def measure(mode, data, workdir, *, module="benchmarks.fec", **env):
    """Run one child (``python -m <module> <mode> …``); returns its result dict."""
    output = workdir / f"{mode}.txt"
    env = procs.child_env(**{"MEG_MEDIA_ROOT": workdir / "media",
                             "CELERY_BROKER_URL": BROKER_URL, "DJANGO_DEBUG": "0",
                             "REDIS_URL": None, "LOG_LEVEL": "WARNING", **env})
    before = cpu.role_cpu({})
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", module, mode, json.dumps(data), str(output)],
        cwd=procs.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, text=True)
    try:
        stdout, stderr = process.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"fec child {mode} failed ({process.returncode}):\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    # The child has ended: what "other" processes used meanwhile is the machine's other load.
    others = cpu.cpu_delta(before, cpu.role_cpu({}), {})["other"]
    result["others"] = others / (cpu.CORES * (time.perf_counter() - started))
    if output.exists():
        output.unlink()
    return result


def build_drafts(lines, *, suffix=""):
    """Print the machine's load, then generate ``lines`` draft lines (for the export and
    closing benchmarks). Returns ``(data, load_before)``."""
    load_before = os.getloadavg()
    print("load average before: {:.2f} {:.2f} {:.2f} (the figures below are only as good as "
          "the machine is quiet: see 'other processes')".format(*load_before))
    started = time.perf_counter()
    print("generating the drafts in PostgreSQL (INSERT … SELECT generate_series) …", flush=True)
    data = build(lines, numbered=False)
    print(f"data built in {time.perf_counter() - started:.1f} s: {data['entries']:,} entries, "
          f"{data['lines']:,} lines{suffix} (+ VACUUM ANALYZE)")
    return data, load_before


def flush_broker():
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()



def run(*, quick=False, verbose=False):
    lines = QUICK_LINES if quick else LINES
    print(f"\n== fec — export of {lines:,} entry lines (one company, journal VT, one fiscal "
          f"year) vs PostgreSQL COPY of the same rows; each measure in a fresh subprocess")
    load_before = os.getloadavg()
    print("load average before: {:.2f} {:.2f} {:.2f} (the figures below are only as good as "
          "the machine is quiet: see 'other processes')".format(*load_before))
    started = time.perf_counter()
    print("generating the lines in PostgreSQL (INSERT … SELECT generate_series) …", flush=True)
    data = build(lines)
    print(f"data built in {time.perf_counter() - started:.1f} s: {data['entries']:,} entries, "
          f"{data['lines']:,} lines (+ VACUUM ANALYZE)")

    workdir = Path(tempfile.mkdtemp(prefix="meg-bench-fec-"))
    results = {}
    try:
        print("(a) COPY … TO STDOUT: one untimed warm-up run, then the measured one …",
              flush=True)
        measure("copy", data, workdir)
        results["copy"] = measure("copy", data, workdir)
        print("(a') COPY of the export's own statements (its slices) …", flush=True)
        results["copy_slices"] = measure("copy_slices", data, workdir)
        print("(b) export query → write_fec → file …", flush=True)
        results["fec"] = measure("fec", data, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    copy, fec = results["copy"], results["fec"]
    print()
    print(format_table(
        ["", "(a) COPY TO STDOUT", "(b) query + write_fec"],
        [
            ["rows", *(f"{r['rows']:,}" for r in (copy, fec))],
            ["bytes out", *(f"{r['bytes'] / 1e6:,.1f} MB" for r in (copy, fec))],
            ["wall time (s)", *(f"{r['seconds']:.2f}" for r in (copy, fec))],
            ["lines / s", *(f"{r['rows'] / r['seconds']:,.0f}" for r in (copy, fec))],
            ["child CPU, whole process (s)", *(f"{r['cpu']:.1f}" for r in (copy, fec))],
            ["RSS after Django setup (MB)", *(f"{r['baseline_mb']:.0f}" for r in (copy, fec))],
            ["peak RSS, VmHWM (MB)", *(f"{r['peak_mb']:.0f}" for r in (copy, fec))],
            ["ru_maxrss, parent's included (MB)",
             *(f"{r['ru_maxrss_mb']:.0f}" for r in (copy, fec))],
            [f"other processes (% of {cpu.CORES} cores)",
             *(f"{100 * r['others']:.0f}" for r in (copy, fec))],
        ]))
    ratio = fec["seconds"] / copy["seconds"]
    slices = results["copy_slices"]
    strict = fec["seconds"] / slices["seconds"]
    print()
    print(format_table(
        ["target (DESIGN §10, raised)", "measured", "target", "met"],
        [
            ["query + writer vs COPY TO STDOUT",
             f"{fec['seconds']:.2f} s vs {copy['seconds']:.2f} s = {ratio:.2f} ×",
             f"≤ {RATIO_TARGET} ×", yes_no(ratio <= RATIO_TARGET)],
            ["  (informative) vs COPY of the export's own statements",
             f"{fec['seconds']:.2f} s vs {slices['seconds']:.2f} s = {strict:.2f} ×",
             f"≤ {RATIO_TARGET} ×", yes_no(strict <= RATIO_TARGET)],
            ["peak RSS (streamed)", f"{fec['peak_mb']:.0f} MB", f"< {RSS_TARGET_MB:.0f} MB",
             yes_no(fec["peak_mb"] < RSS_TARGET_MB)],
        ]))
    print("load average before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
        *load_before, *os.getloadavg()))
    if lines != LINES:
        print(f"workload: {lines:,} lines (--quick; DESIGN §10 asks for {LINES:,})")


if __name__ == "__main__":
    child_main(*sys.argv[1:4])
