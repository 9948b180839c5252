"""Runnable benchmarks that print the figures of DESIGN §10 (``make bench``); not tests.

They never assert on speed: each prints its measurements next to its targets and says whether
the targets are met. They run against a dedicated PostgreSQL database (``meg_bench``, derived
from ``DATABASE_URL``; ``MEG_BENCH_DATABASE`` names another), dropped and recreated at each run;
the database named in ``DATABASE_URL`` itself is never touched. Their Celery broker is a Redis
database they flush (``MEG_BENCH_BROKER_URL``, default db 14). Entry point:
``python -m benchmarks.run``.
"""

import os

BROKER_URL = os.environ.get("MEG_BENCH_BROKER_URL") or "redis://127.0.0.1:6379/14"


def percentile(values, fraction):
    """The ``fraction`` (0–1) percentile of ``values``, linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def yes_no(met):
    """The "met" column of a targets table."""
    return "yes" if met else "NO"


def format_table(headers, rows):
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        first, *rest = row
        return "  ".join([first.ljust(widths[0]),
                          *(cell.rjust(width) for cell, width in zip(rest, widths[1:],
                                                                      strict=True))]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])
