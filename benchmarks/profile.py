"""Sampling profiles of the processes a benchmark starts (py-spy), on request.

``BENCH_PROFILE=<dir>``: a benchmark that supports it records the phase it names with
``py-spy record --subprocesses --format raw`` (collapsed stacks, one file per phase in ``dir``)
and prints the top frames: by own time (the function on top of the stack) and by inclusive
time (anywhere on the stack). By default a sample is taken from every thread that is not idle,
waiting on PostgreSQL or Redis included (where the request's time goes);
``BENCH_PROFILE_GIL=1`` keeps only the threads holding the GIL (where the CPU goes). py-spy is
not a dependency of MEG: ``pip install py-spy``. Sampling costs the profiled process a little
CPU, so a profiled run's figures are not the benchmark's figures.
"""

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

RATE = 200
TOP = 15


def directory():
    value = os.environ.get("BENCH_PROFILE", "")
    return Path(value) if value else None


class Recording:
    """``py-spy record`` attached to ``pid`` and its children until ``stop()``."""

    def __init__(self, name, pid):
        self.name, self.output = name, directory() / f"{name}.txt"
        self.output.parent.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.process = subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--subprocesses",
             "--rate", str(RATE), "--format", "raw", "--output", str(self.output),
             *(["--gil"] if os.environ.get("BENCH_PROFILE_GIL") == "1" else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return summary(self.output, title=self.name)


def start(name, pid):
    """A recording of ``pid`` if ``BENCH_PROFILE`` is set and py-spy is there, else None."""
    if directory() is None:
        return None
    try:
        return Recording(name, pid)
    except OSError as error:
        print(f"(profile {name}: py-spy not started: {error})")
        return None


IDLE = ("select (selectors.py", "poll (selectors.py", "wait (threading.py",
        "accept (socket.py", "_wait_for_tstate_lock", "sleep (", "readinto (socket.py",
        "recv_into (socket.py", "read (ssl.py", "get (queue.py", "run_for_one",
        "wait_for (threading.py",
        # time.sleep is C: py-spy shows the sleeping function itself (the inbox wake-up thread)
        "_Waker._run (")


def summary(path, *, title, top=TOP):
    """The top frames of a collapsed-stacks file, as printable text."""
    if not path.exists():
        return f"(profile {title}: nothing recorded in {path})"
    own, inclusive, total, idle = Counter(), Counter(), 0, 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame for frame in stack.split(";") if not frame.startswith(("process ",
                                                                               "thread "))]
        if not frames:
            continue
        samples = int(count)
        if any(marker in frames[-1] for marker in IDLE):
            idle += samples
            continue
        total += samples
        own[_short(frames[-1])] += samples
        for frame in set(map(_short, frames)):
            inclusive[frame] += samples
    if not total:
        return f"(profile {title}: no busy samples in {path})"
    lines = [f"profile {title}: {total:,} busy samples ({idle:,} idle left out), "
             f"{RATE}/s; collapsed stacks in {path}",
             "  own time (top of the stack):"]
    lines += [f"    {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    lines.append("  inclusive time (anywhere on the stack):")
    lines += [f"    {100 * n / total:5.1f} %  {frame}" for frame, n in
              inclusive.most_common(top + 10)]
    return "\n".join(lines)


def _short(frame):
    """``function (path/to/module.py:123)`` → ``function (module.py)``: lines differ per
    sample, the function is what the summary is about."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file_part = where.rsplit(":", 1)[0]
    parts = file_part.split("/")
    return f"{name} ({'/'.join(parts[-2:])})"
