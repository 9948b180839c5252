"""`python -m benchmarks.run [--only NAME] [--quick] [--verbose]`: the benchmarks of DESIGN §10.

Every benchmark runs against its own PostgreSQL database, ``meg_bench`` (or the name in
``MEG_BENCH_DATABASE``, so that two runs on one server do not drop each other's), on the server
named by ``DATABASE_URL`` (default: the one ``make test`` uses). That database is dropped and
recreated, then migrated, before each benchmark; the database named in ``DATABASE_URL`` is never
opened.
"""

import argparse
import os
import platform
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from benchmarks import closing, dashboard, export, fec, ingest, pay

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/meg"
BENCH_DATABASE = os.environ.get("MEG_BENCH_DATABASE") or "meg_bench"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}

# name → function(*, quick, verbose) that builds its data, measures and prints its figures.
BENCHMARKS = {
    "ingest": ingest.run,
    "fec": fec.run,
    "export": export.run,
    "closing": closing.run,
    "dashboard": dashboard.run,
    "pay": pay.run,
}


def with_database(url, name):
    """``url`` with its database name replaced by ``name`` (credentials, host, options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def configure():
    """Point Django at the bench database and set it up. Returns its URL."""
    source = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if urlsplit(source).scheme not in POSTGRES_SCHEMES:
        sys.exit(f"benchmarks: DATABASE_URL must name a PostgreSQL server, not {source!r}")
    bench_url = with_database(source, BENCH_DATABASE)
    os.environ["DATABASE_URL"] = bench_url
    # django.test.Client talks to the host "testserver".
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # Keep the connection between requests, as production does (meg.settings: 60 s there), so
    # that the timings measure the page and not a new PostgreSQL connection per request.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meg.settings")

    import django

    django.setup()
    return bench_url


def fresh_database(bench_url):
    """Drop and recreate the bench database, then migrate it."""
    import psycopg
    from django.core.management import call_command
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    maintenance_url = with_database(bench_url, "postgres")
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        name = sql.Identifier(BENCH_DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return time.perf_counter() - started


def describe_environment():
    import django
    from django.conf import settings
    from django.db import connection

    connection.ensure_connection()
    server = connection.cursor().connection.info.server_version
    db = settings.DATABASES["default"]
    print(f"MEG benchmarks — Django {django.get_version()}, Python {platform.python_version()}, "
          f"PostgreSQL {server // 10000}.{server % 10000}, {os.cpu_count()} CPU(s)")
    print(f"database {db['NAME']} on {db['HOST'] or 'localhost'}:{db['PORT'] or 5432}; "
          f"DEBUG={settings.DEBUG}; CONN_MAX_AGE={db['CONN_MAX_AGE']}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                     description="Print the figures of DESIGN §10 (not a test: "
                                                 "nothing fails on speed).")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), metavar="NAME",
                        help="run only this benchmark (choices: %(choices)s)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller workloads, for a smoke run")
    parser.add_argument("--verbose", action="store_true",
                        help="also print the SQL of the measured requests")
    args = parser.parse_args(argv)

    bench_url = configure()
    names = [args.only] if args.only else list(BENCHMARKS)
    started = time.perf_counter()
    for name in names:
        migrate_seconds = fresh_database(bench_url)
        if name == names[0]:
            describe_environment()
        print(f"\n(fresh database {BENCH_DATABASE}, migrated in {migrate_seconds:.1f} s)")
        BENCHMARKS[name](quick=args.quick, verbose=args.verbose)
    print(f"\nbenchmarks done in {time.perf_counter() - started:.0f} s"
          + (" (--quick: reduced workloads, not the DESIGN §10 ones)" if args.quick else ""))


if __name__ == "__main__":
    main()
