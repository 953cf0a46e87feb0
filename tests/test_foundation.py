"""Checks on the suite's own guards and on the layering rules of DESIGN.md."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.network_guard import NetworkBlocked, attempts_expected

REPO = Path(__file__).resolve().parents[1]


def test_non_loopback_connection_is_refused() -> None:
    with attempts_expected() as made, socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkBlocked, match="93.184.216.34"):
            sock.connect(("93.184.216.34", 80))
    assert len(made) == 1


def test_host_name_lookup_is_refused() -> None:
    with attempts_expected() as made, pytest.raises(NetworkBlocked, match="huggingface.co"):
        socket.getaddrinfo("huggingface.co", 443)
    assert len(made) == 1


def test_loopback_connection_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            conn, _ = server.accept()
            client.sendall(b"ping")
            assert conn.recv(4) == b"ping"
            conn.close()


def test_caches_point_into_tmp_path(tmp_path: Path, isolated_dirs: dict[str, Path]) -> None:
    for variable in ("HF_HOME", "HF_DATASETS_CACHE", "CLOISTER_WORKSPACE", "TMPDIR"):
        assert Path(os.environ[variable]).is_relative_to(tmp_path), variable
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["HF_DATASETS_OFFLINE"] == "1"


_BLOCK_QT = r"""
import importlib.abc, sys
class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'}:
            raise ImportError('Qt is blocked in this process: ' + name)
        return None
sys.meta_path.insert(0, BlockQt())
import pkgutil, importlib
for package in ('engine', 'privacy'):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + '.'):
        if not info.name.endswith('__main__'):
            importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6', 'shiboken6', 'pyqtgraph'})
print('QT_LOADED', loaded)
"""


def test_engine_and_privacy_import_without_qt() -> None:
    """Every module of the Qt-free layers imports in a process where Qt cannot be imported."""
    result = subprocess.run(
        [sys.executable, "-c", _BLOCK_QT], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "QT_LOADED []" in result.stdout


def test_privacy_never_imports_engine() -> None:
    offenders = []
    for path in (REPO / "privacy").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import engine", "from engine")):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {stripped}")
    assert offenders == []


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "pyproject.toml"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken" in result.stdout
    assert {c["name"] for c in contracts} >= {"Qt-free core", "Data layers: problems is the leaf"}


def test_desktop_modules_do_not_import_torch_at_module_level() -> None:
    code = (
        "import sys, pkgutil, importlib, desktop\n"
        "for info in pkgutil.walk_packages(desktop.__path__, 'desktop.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'opacus', 'datasets') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HEAVY []" in result.stdout


def test_cli_help_lists_commands_without_qt() -> None:
    result = subprocess.run([sys.executable, "-m", "engine.cli", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "usage: cloister" in result.stdout
    for command in ("inspect", "init", "import", "datasets", "show", "rename", "rm", "passwd",
                    "audit", "train", "runs", "resume", "demo", "evaluate", "predict", "export",
                    "open-export"):
        assert f"\n    {command} " in result.stdout, command


def test_every_command_and_option_says_what_it_is_for() -> None:
    import argparse

    from engine.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        assert command.description, f"`cloister {name} --help` has no description"
        for action in command._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"`cloister {name} {action.option_strings[0]}` has no help"


@pytest.fixture(scope="module")
def seen_by_a_module_fixture() -> dict[str, str]:
    import os

    return {v: os.environ.get(v, "") for v in ("CLOISTER_ANCHOR_DIR", "XDG_CONFIG_HOME",
                                               "CLOISTER_WORKSPACE", "HF_HOME")}


def test_fixtures_wider_than_a_test_write_nowhere_real(seen_by_a_module_fixture) -> None:
    # A module-scoped fixture runs before the per-test folders are set: the vaults it made put
    # their rollback anchors in the real ~/.config/Cloister/anchors.
    from pathlib import Path

    home = str(Path.home())
    for variable, value in seen_by_a_module_fixture.items():
        assert value and "cloister-tests-" in value and not value.startswith(home + "/.config"), variable
