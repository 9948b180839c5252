"""CPU used by role while a benchmark runs: its child process groups (started with
``devtools.procs``: gunicorn master and workers, Celery worker), PostgreSQL, everything else."""

import os

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
