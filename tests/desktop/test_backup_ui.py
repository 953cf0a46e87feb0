"""File › Back up workspace…: the desktop's `cloister backup`, on a worker thread, with the
outcome said in the status bar (and a refusal shown)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from privacy.vault.workspace import Workspace
from tests.desktop.conftest import PASSPHRASE


def test_the_file_menu_backs_the_workspace_up(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    assert "&Back up workspace…" in [a.text() for a in file_menu.actions()]
    ws = window.context.workspace
    ws.write_bytes("datasets/a/table", b"rows")
    window.start_backup(Path(ws.root), tmp_path / "copy")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Backed up"), timeout=30_000)
    said = window.statusBar().currentMessage()
    assert said.startswith(f"Backed up the workspace to {(tmp_path / 'copy').resolve()}: ")
    assert "opens only with the passphrase" in said
    monkeypatch.setenv("CLOISTER_ANCHOR_DIR", str(tmp_path / "elsewhere"))  # as another computer
    assert Workspace.unlock(tmp_path / "copy", PASSPHRASE).read_bytes("datasets/a/table") == b"rows"

    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warned.append(args[2]))
    window.start_backup(Path(ws.root), tmp_path / "copy")  # there already: refused, said
    qtbot.waitUntil(lambda: bool(warned), timeout=30_000)
    assert "already exists and is not an empty folder" in warned[0]
    assert window.statusBar().currentMessage().startswith("The workspace was not backed up: ")
