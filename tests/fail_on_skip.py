"""A pytest plugin (loaded by tests/conftest.py): with CLOISTER_FAIL_ON_SKIP set, as
``.ci/run`` sets it, a skipped test fails the run instead of being counted with the passes (a
machine without Xvfb, root or a core-dump limit would otherwise skip checks and go green)."""
from __future__ import annotations

import os

import pytest

FAIL_ON_SKIP = "CLOISTER_FAIL_ON_SKIP"
_skipped: list[str] = []


def _note(report: pytest.TestReport | pytest.CollectReport) -> None:
    # An expected failure (xfail) reports as skipped too: it ran, and is not a skip.
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A whole module skipped (``importorskip``, ``skip(allow_module_level=True)``)."""
    _note(report)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if os.environ.get(FAIL_ON_SKIP) and _skipped:
        terminalreporter.write_line(f"{FAIL_ON_SKIP} is set and {len(_skipped)} test(s) were "
                                    "skipped; a skipped check is not a pass:", red=True)
        for line in _skipped:
            terminalreporter.write_line(f"  {line}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(FAIL_ON_SKIP) and _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
