"""Child processes for tests, benchmarks and self-checks: start, wait until ready, stop.

Each child runs in its own session (process group), so that stopping it, or killing it with
SIGKILL, also reaches whatever it forked (gunicorn and Celery workers). Its output goes to a log
file that failure messages quote. Whatever is still running when this process exits is stopped.
"""

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/: gunicorn, celery

_running = set()


class WaitFailed(AssertionError):
    """What was awaited did not come: the child exited first, or the time ran out. An
    ``AssertionError``, so that a test reports it as the failed expectation it is."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(**overrides):
    """This process's environment plus ``overrides``; an override of ``None`` removes it."""
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def wait_until(predicate, *, timeout, message, interval=0.2):
    """Poll ``predicate`` until it returns something truthy; return it, or fail with a reason.

    ``message`` may be a callable, evaluated only on failure (e.g. to quote a log)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise WaitFailed(f"after {timeout:.0f} s: "
                             f"{message() if callable(message) else message}")
        time.sleep(interval)


class Child:
    """One child process in its own process group, its output (stdout and stderr) in
    ``log_path``, or in a temporary file removed when it stops."""

    def __init__(self, name, command, *, env, log_path=None):
        self.name, self.command = name, command
        self._temporary = log_path is None
        if self._temporary:
            handle, log_path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
            os.close(handle)
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed by stop)
        self.spawned_at = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 (the callers' own commands)
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        _running.add(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines=40):
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(
            self.log().splitlines()[-lines:])

    def _still_alive(self):
        if not self.alive():
            raise WaitFailed(f"{self.name} exited with {self.process.returncode}:\n"
                             f"{self.tail()}")
        return True

    def wait_log(self, pattern, *, timeout=60, after=0, interval=0.2):
        """Wait until ``pattern`` (a regex) appears in the log past offset ``after``; return
        the match."""
        regex = re.compile(pattern)
        return wait_until(lambda: self._still_alive() and regex.search(self.log()[after:]),
                          timeout=timeout, interval=interval,
                          message=lambda: f"{pattern!r} not logged:\n{self.tail()}")

    def wait_http(self, port, *, timeout=60):
        """Wait until something answers HTTP on 127.0.0.1:``port`` (any status)."""

        def answers():
            self._still_alive()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    return sock.recv(16).startswith(b"HTTP/1.")
            except OSError:
                return False

        wait_until(answers, timeout=timeout, interval=0.1,
                   message=lambda: f"no HTTP answer on port {port}:\n{self.tail()}")

    def signal_group(self, sig):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def kill(self):
        """SIGKILL the whole group: no handler runs, nothing is acknowledged or rolled back
        by the child itself."""
        self.signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, *, grace=10.0):
        """SIGTERM, then SIGKILL whatever is left of the group after ``grace`` seconds."""
        try:
            if self.alive():
                self.signal_group(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=grace)
            self.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        finally:
            _running.discard(self)
            self._log.close()
            if self._temporary:
                self.log_path.unlink(missing_ok=True)


@atexit.register
def _stop_leftovers():
    """A run interrupted (Ctrl-C, a failed fixture) leaves no sandbox or worker behind."""
    for child in list(_running):
        child.stop(grace=2.0)


@contextlib.contextmanager
def _stopped_on_failure(child):
    """A child that never gets ready is not left behind."""
    try:
        yield
    except BaseException:
        child.stop()
        raise


def start_gunicorn(app, *, port, env, log_path, args=()):
    """``gunicorn <app>`` on 127.0.0.1:``port``, returned once it answers HTTP."""
    web = Child("gunicorn", [str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}",
                             # not the shared default socket of every gunicorn of this user
                             "--no-control-socket", *args], env=env, log_path=log_path)
    with _stopped_on_failure(web):
        web.wait_http(port)
    return web


def start_celery_worker(args, *, env, log_path):
    """``celery -A meg <args>``, returned once it is ready; ``ready_at`` (``perf_counter``)
    says when it said so."""
    worker = Child("celery-worker", [str(BIN / "celery"), "-A", "meg", *args], env=env,
                   log_path=log_path)
    with _stopped_on_failure(worker):
        worker.wait_log(r" ready\.", interval=0.02)
    worker.ready_at = time.perf_counter()
    return worker


class Sandbox(Child):
    """A partner sandbox (``python -m sandboxes.<name>``), with its ``/_sandbox/`` controls."""

    url = ready_line = None

    def control(self, path, payload=None, method="POST"):
        response = requests.request(method, f"{self.url}/_sandbox/{path}", json=payload,
                                    timeout=60)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self):
        return self.control("state", method="GET")


def start_sandbox(name, *, env, log_path=None, port=0, timeout=90):
    """Run ``python -m sandboxes.<name> --port <port>`` (0: a port it picks, so no race for
    it) with ``env`` over this environment (``None`` removes a variable), and wait for the
    "… sandbox ready on <url>" line it prints."""
    sandbox = Sandbox(name, [sys.executable, "-m", f"sandboxes.{name}", "--port", str(port)],
                      env=child_env(**env), log_path=log_path)
    with _stopped_on_failure(sandbox):
        ready = sandbox.wait_log(r"(?m)^.* ready on (http://\S+)$", timeout=timeout)
    sandbox.ready_line, sandbox.url = ready[0], ready[1]
    return sandbox
