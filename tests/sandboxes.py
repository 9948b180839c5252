"""Start the partner sandboxes as real processes on free loopback ports, for tests."""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_PASSWORD = "progbat-demo-2026"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SandboxProcess:
    """A running sandbox: its URL, its process, and the lines it printed."""

    name: str
    url: str
    process: subprocess.Popen
    output: list = field(default_factory=list)

    def control(self, path, payload=None, method="POST"):
        response = requests.request(method, f"{self.url}/_sandbox/{path}", json=payload,
                                    timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self):
        return self.control("state", method="GET")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_sandbox(name, *, env, ready_timeout=90):
    """Run ``python -m sandboxes.<name> --port N`` and wait for its "ready" line."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"sandboxes.{name}", "--port", str(port)], cwd=ROOT,
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sandbox = SandboxProcess(name=name, url=f"http://127.0.0.1:{port}", process=process)
    ready = threading.Event()

    def pump():
        for line in process.stdout:
            sandbox.output.append(line)
            if "ready on" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + ready_timeout
    while not ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            sandbox.stop()
            raise RuntimeError(f"sandbox {name} did not start:\n{''.join(sandbox.output)}")
    return sandbox


def _follow(session, response, root):
    """Follow redirects inside the sandbox; stop at a page or at a redirect leaving it."""
    while response.status_code in (301, 302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if not location.startswith(root):
            return response, location
        response = session.get(location, allow_redirects=False, timeout=30)
    return response, None


def _csrf_token(html):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in ProGBat's login form"
    return match.group(1)


def progbat_login(authorize_url, *, username, password, session=None):
    """Play the user at ProGBat's login page; return the redirect back to MEG (with the code)."""
    parts = urlsplit(authorize_url)
    root = f"{parts.scheme}://{parts.netloc}"
    session = session or requests.Session()
    response, location = _follow(
        session, session.get(authorize_url, allow_redirects=False, timeout=30), root)
    if location:
        return location
    response = session.post(response.url, data={
        "username": username, "password": password,
        "csrfmiddlewaretoken": _csrf_token(response.text)},
        headers={"Referer": response.url}, allow_redirects=False, timeout=30)
    response, location = _follow(session, response, root)
    if location:
        return location
    raise AssertionError(f"ProGBat login failed: {response.status_code} {response.text[:300]}")


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
