"""``closing``: closing a fiscal year of 1,000,000 entry lines.

DESIGN §10 (raised 2026-11-30): closing a fiscal year of 1,000,000 lines (numbering, legal FEC,
seal) < 120 s, RSS < 200 MB.

The year's entries are generated in PostgreSQL as drafts without a number (as ingestion leaves
them; see ``benchmarks.fec.build``). In a fresh subprocess (its wall time and peak RSS,
``VmHWM``, are the closing's): ``fiscal_year_close`` (« Clôturer l'exercice »: the year marked
closing, its legal-FEC batch recorded and queued), then the queued task's work, ``export_run``,
run there as the Celery task would, with stopwatches on its phases. The ProGBat lock messages
the closing writes are counted, not delivered (``benchmarks.export`` delivers them).
"""

import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import cpu, export, fec, format_table, yes_no

LINES = 1_000_000
QUICK_LINES = 100_000
SECONDS_TARGET = 120.0
RSS_TARGET_MB = 200.0


def child_closing(data, _output):
    """« Clôturer l'exercice », then the closing export the task would run."""
    from django.db import connection

    from accounting.models import FiscalYear
    from accounting.services.fiscal_years import fiscal_year_close
    from companies.models import Company
    from users.models import User

    company = Company.objects.get(pk=data["company"])
    started = time.perf_counter()
    year = fiscal_year_close(company=company, end=datetime.date.fromisoformat(data["date_to"]),
                             actor=User.objects.get(pk=data["user"]))
    requested = time.perf_counter() - started
    result = export.timed_export(year.fec_export_id)
    result["seconds"] += requested
    result["phases"]["request"] = requested
    year = FiscalYear.objects.get(pk=year.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT number), min(number), max(number), "
                       "count(*) FILTER (WHERE state = 'exported'), max(chain_position) "
                       "FROM accounting_entry WHERE company_id = %s", [company.pk])
        entries, numbers, low, high, final, last_position = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM partners_common_outboxmessage "
                       "WHERE company_id = %s", [company.pk])
        locks = cursor.fetchone()[0]
        cursor.execute("SELECT last_position, entry_count FROM accounting_chainseal "
                       "WHERE company_id = %s", [company.pk])
        seal = cursor.fetchone()
    result.update(year_state=year.state, entries_total=entries, locks=locks,
                  gapless=(numbers, low, high) == (entries, 1, entries), final=final,
                  sealed=seal == (last_position, entries))
    return result


CHILDREN = {"closing": child_closing}



def run(*, quick=False, verbose=False):
    lines = QUICK_LINES if quick else LINES
    print(f"\n== closing — « Clôturer l'exercice » on a fiscal year of {lines:,} draft entry "
          f"lines (numbering, legal FEC, chain, seal); in a fresh subprocess")
    data, load_before = fec.build_drafts(lines, suffix=f" of {fec.FISCAL_YEAR}")
    workdir = Path(tempfile.mkdtemp(prefix="meg-bench-closing-"))
    try:
        fec.flush_broker()
        print("fiscal_year_close + the closing export …", flush=True)
        result = fec.measure("closing", data, workdir, module="benchmarks.closing")
    finally:
        fec.flush_broker()  # the lock messages' relay task, not run here
        shutil.rmtree(workdir, ignore_errors=True)
    if result["status"] != "done":
        raise RuntimeError(f"closing export {result['status']}: {result['error']}")

    print()
    print(export.phases_table(result, f"closing of {result['rows']:,} lines, "
                                      f"{result['entries']:,} entries"))
    print(f"(« Clôturer l'exercice » itself, before the task: "
          f"{result['phases']['request']:.2f} s, in « the rest »)")
    print(f"\nlegal FEC {result['bytes'] / 1e6:,.1f} MB; child peak RSS (VmHWM) "
          f"{result['peak_mb']:.0f} MB, after Django setup {result['baseline_mb']:.0f} MB; "
          f"child CPU {result['cpu']:.1f} s; other processes {100 * result['others']:.0f} % of "
          f"{cpu.CORES} cores")
    print(f"year {result['year_state']}; entries final {result['final']:,} of "
          f"{result['entries_total']:,}, numbers 1..N without gaps: "
          f"{yes_no(result['gapless'])}; seal at the chain's head: {yes_no(result['sealed'])}; "
          f"ProGBat lock messages written: {result['locks']:,} (not delivered here)")
    intact = (result["year_state"] == "closed" and result["gapless"] and result["sealed"]
              and result["final"] == result["entries_total"])
    print()
    print(format_table(
        ["target (DESIGN §10, raised)", "measured", "target", "met"],
        [
            ["closing (numbering, legal FEC, seal)", f"{result['seconds']:.1f} s",
             f"< {SECONDS_TARGET:.0f} s", yes_no(result["seconds"] < SECONDS_TARGET)],
            ["peak RSS", f"{result['peak_mb']:.0f} MB", f"< {RSS_TARGET_MB:.0f} MB",
             yes_no(result["peak_mb"] < RSS_TARGET_MB)],
            ["  (the year closed, every entry final, gapless, sealed)",
             "yes" if intact else "no", "yes", yes_no(intact)],
        ]))
    print("load average before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
        *load_before, *os.getloadavg()))
    if lines != LINES:
        print(f"workload: {lines:,} lines (--quick; DESIGN §10 asks for {LINES:,})")


if __name__ == "__main__":
    fec.child_main(*sys.argv[1:4], children=CHILDREN)
