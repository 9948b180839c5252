"""Each sandbox keeps its contract (DESIGN §5 ProGBat, §6 Libeo): its own end-to-end self-check,
``python -m sandboxes.<name>.selfcheck``, run as a whole."""

import subprocess
import sys

import pytest

from devtools.procs import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["progbat", "libeo"])
def test_sandbox_selfcheck_passes(name):
    result = subprocess.run([sys.executable, "-m", f"sandboxes.{name}.selfcheck"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "selfcheck: all checks passed" in result.stdout
