"""The Export dialog when the chosen place cannot be written: the path named, in the error style."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.engine.test_prediction import train_tiny_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    return train_tiny_run(tmp_path_factory.mktemp("export-errors"))


def test_an_export_to_a_place_that_cannot_be_written_names_it(qtbot, context, trained, tmp_path: Path):
    from desktop.dialogs.export import ExportDialog

    ws, run_id, _ = trained
    context.set_workspace(ws)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "model.cloister-export"  # a path inside a regular file: no folder to write in
    dialog = ExportDialog(context, run_id)
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(out))
    dialog.passphrase.setText("a long recipient passphrase 123")
    dialog.repeat.setText("a long recipient passphrase 123")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    text = dialog.message.text()
    assert text.startswith(f"✖ could not write the export to {out}: "), text
    assert text.endswith("choose a folder you can write to, on a disk with free space")
    assert dialog.message.property("error") is True and dialog.export_button.isEnabled()
    assert blocker.read_text() == "not a folder"  # what was there is untouched
