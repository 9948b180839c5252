"""Child processes of the benchmarks (gunicorn, Celery, measuring subprocesses).

Each child runs in its own session (process group), so that stopping it also stops the workers
it forked; ``stop`` is always called from a ``finally``.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/: gunicorn, celery


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(**overrides):
    """This process's environment (DATABASE_URL already points at meg_bench) plus overrides;
    an override of ``None`` removes the variable."""
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def start(command, *, env, log_path):
    """Start ``command`` in its own process group, its output in ``log_path``."""
    log = open(log_path, "ab")  # noqa: SIM115 (closed by stop)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_file, process.log_path = log, Path(log_path)
    return process


def log_tail(process, lines=15):
    try:
        text = process.log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop(process, *, grace=15.0, sig=signal.SIGTERM):
    """Stop the process and its group: ``sig``, then SIGKILL after ``grace`` seconds."""
    if process is None:
        return
    try:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        # Whatever is left of the group (forked workers included) is killed.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    finally:
        process.log_file.close()


def wait_http(port, process, *, timeout=60.0):
    """Wait until something answers HTTP on 127.0.0.1:``port`` (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_tail(process)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if sock.recv(16).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no HTTP answer on port {port} after {timeout:.0f} s:\n"
                       f"{log_tail(process)}")


def wait_log(process, marker, *, timeout=60.0):
    """Wait until ``marker`` appears in the process's log; returns the time it was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}:\n"
                               f"{log_tail(process)}")
        try:
            if marker in process.log_path.read_text(errors="replace"):
                return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{marker!r} not logged after {timeout:.0f} s:\n{log_tail(process)}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def role_cpu(groups):
    """CPU seconds used so far by each process of a role: ``{pid: (role, seconds)}``.

    ``groups`` maps a role to the process group of a child started here (gunicorn master and
    workers, Celery worker); "PostgreSQL" is every postgres process of the machine (the server
    is shared: other sessions' queries count too); "other" is every other process but this one.
    """
    roles = {pgid: role for role, pgid in groups.items() if pgid}
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        role = roles.get(int(fields[2])) or ("PostgreSQL" if comm == "postgres" else "other")
        found[int(entry.name)] = (role, seconds)
    return found


def cpu_delta(before, after, groups):
    """CPU seconds used by role between two ``role_cpu`` snapshots (processes that ended in
    between are not counted)."""
    totals = dict.fromkeys([*groups, "PostgreSQL", "other"], 0.0)
    for pid, (role, seconds) in after.items():
        previous = before.get(pid)
        totals[role] += seconds - (previous[1] if previous and previous[0] == role else 0.0)
    return totals
