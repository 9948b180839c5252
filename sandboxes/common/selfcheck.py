"""What the sandboxes' self-checks stand on: ``check``, an HTTP session that never waits
forever, the sandbox as a process, and the run that stops at the first failure.

Each check prints one line; the first failure prints ``FAIL`` and the sandbox's log, and the
run exits non-zero (``tests/sandboxes_selfcheck`` runs both self-checks in the suite).
"""

import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path

import requests

from devtools import procs


class CheckFailed(Exception):
    pass


def check(condition, what, details=None):
    if not condition:
        raise CheckFailed(f"{what}{f' — got {details!r}' if details is not None else ''}")
    print(f"ok    {what}", flush=True)


def times_out(call):
    """Whether ``call()`` (a request with a short ``timeout``) gets no answer in time."""
    try:
        call()
    except requests.Timeout:
        return True
    return False


class Session(requests.Session):
    """A requests session that never waits forever."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(*args, **kwargs)


def _log_of(database):
    return Path(f"{database}.log")


@contextmanager
def sandbox(name, database, env):
    """Run ``python -m sandboxes.<name> --port 0`` on ``database`` with ``env`` over this
    environment (``None`` removes a variable); yield its base URL."""
    try:
        process = procs.start_sandbox(name, env={f"{name.upper()}_SANDBOX_DB": str(database),
                                                 **env}, log_path=_log_of(database))
    except procs.WaitFailed as failure:
        raise CheckFailed(f"sandbox did not start: {failure}") from None
    with process:
        print(f"--    {process.ready_line}", flush=True)
        yield process.url


def run(name, play):
    """``play(database)`` against sandboxes on a fresh temporary database; the exit status."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-selfcheck-") as folder:
        database = Path(folder) / f"{name}.sqlite3"
        try:
            play(database)
        except Exception as failure:  # a check, or the sandbox answering something unexpected
            if not isinstance(failure, CheckFailed):
                traceback.print_exc()
            print(f"FAIL  {failure}", flush=True)
            if _log_of(database).exists():
                print("---- sandbox log ----\n" + _log_of(database).read_text()[-5000:])
            return 1
    print("selfcheck: all checks passed", flush=True)
    return 0
