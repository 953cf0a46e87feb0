"""CI's rule (tests/fail_on_skip.py): a skipped test fails the run where CLOISTER_FAIL_ON_SKIP
is set, and only there."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CLOISTER_FAIL_ON_SKIP"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.fail_on_skip",
                           "-p", "no:cacheprovider", str(folder)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**base, **env})


def test_a_skip_fails_a_ci_run_and_says_which(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\ndef test_runs():\n    assert True\n\n"
        "def test_needs_xvfb():\n    pytest.skip('Xvfb is not installed')\n", encoding="utf-8")
    assert _run(tmp_path).returncode == 0  # by hand: a skip is a skip
    ci = _run(tmp_path, CLOISTER_FAIL_ON_SKIP="1")
    assert ci.returncode == 1, ci.stdout
    assert "1 test(s) were skipped" in ci.stdout and "Xvfb is not installed" in ci.stdout
    (tmp_path / "test_probe.py").write_text("def test_runs():\n    assert True\n", encoding="utf-8")
    assert _run(tmp_path, CLOISTER_FAIL_ON_SKIP="1").returncode == 0  # nothing skipped: green
    # A module skipped whole is a skip; an expected failure is not.
    (tmp_path / "test_gone.py").write_text(
        "import pytest\npytest.importorskip('no_such_module_here')\n", encoding="utf-8")
    gone = _run(tmp_path, CLOISTER_FAIL_ON_SKIP="1")
    assert gone.returncode == 1 and "no_such_module_here" in gone.stdout
    (tmp_path / "test_gone.py").write_text(
        "import pytest\n\n@pytest.mark.xfail(strict=True)\ndef test_known():\n    assert False\n",
        encoding="utf-8")
    assert _run(tmp_path, CLOISTER_FAIL_ON_SKIP="1").returncode == 0
