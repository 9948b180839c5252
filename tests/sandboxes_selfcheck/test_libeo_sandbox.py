"""The Libeo sandbox keeps its contract (DESIGN §6): its own end-to-end self-check."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_libeo_sandbox_selfcheck_passes():
    result = subprocess.run([sys.executable, "-m", "sandboxes.libeo.selfcheck"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "selfcheck: all checks passed" in result.stdout
