"""The Export dialog when the chosen place cannot be written: the path named, in the error style."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

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
    assert text.endswith("choose a folder you can write to, on a disk with free space. Nothing was written")
    assert dialog.message.property("error") is True and dialog.export_button.isEnabled()
    assert blocker.read_text() == "not a folder"  # what was there is untouched


def test_a_second_export_of_a_run_is_offered_a_free_name_and_says_how_to_open_it(
        qtbot, context, trained, tmp_path: Path, monkeypatch):
    """The default name already existed after one export: Export then failed with "already
    exists". It now starts at a free name; done, it says how the recipient opens it."""
    from desktop.dialogs.export import ExportDialog

    ws, run_id, _ = trained
    context.set_workspace(ws)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / f"cloister-{run_id}.cloister-export").write_bytes(b"yesterday's export")
    dialog = ExportDialog(context, run_id)
    qtbot.addWidget(dialog)
    assert dialog.folder.text() == str(tmp_path / f"cloister-{run_id}-2.cloister-export")
    dialog.passphrase.setText("a long recipient passphrase 123")
    dialog.repeat.setText("a long recipient passphrase 123")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.exported_to == tmp_path / f"cloister-{run_id}-2.cloister-export"
    assert "cloister open-export FILE --out NEW_FOLDER" in dialog.message.text()
    assert (tmp_path / f"cloister-{run_id}.cloister-export").read_bytes() == b"yesterday's export"
    # The focus goes to Close, which says the result (its description was empty).
    close = dialog.buttons.button(QDialogButtonBox.StandardButton.Close)
    assert dialog.focusWidget() is close and close.accessibleDescription() == dialog.message.text()


def test_ctrl_e_on_the_runs_page_exports_the_run_chosen_there(qtbot, window, trained) -> None:
    """It exported the run last shown on Results, whichever run was selected on Runs."""
    from desktop.dialogs.export import ExportDialog
    from tests.desktop.helpers import when_modal_opens

    ws, run_id, _ = trained
    window.context.set_workspace(ws)
    window.results_page.run_id = "some-other-run"  # what Results showed last
    window.show_page("runs")
    runs = window.runs_page
    runs.select_runs([run_id])
    assert runs.export_button.isEnabled()
    seen: list[str] = []
    when_modal_opens(ExportDialog, lambda dialog: (seen.append(dialog.run_id), dialog.reject()))
    window.export_action.trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert seen == [run_id]


def test_the_vaults_own_passphrase_is_refused_for_an_export_and_nothing_is_written(
        qtbot, context, trained, tmp_path: Path):
    """`cloister export` refused it; the app sealed the export with it, so whoever was given the
    passphrase to open the export could unlock the whole vault."""
    import unicodedata

    from desktop.dialogs.export import ExportDialog
    from tests.engine.tiny_model import TEST_PASSPHRASE

    ws, run_id, _ = trained
    context.set_workspace(ws)
    out = tmp_path / "model.cloister-export"
    locked_before = ws.locked
    dialog = ExportDialog(context, run_id)
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(out))
    same = unicodedata.normalize("NFD", TEST_PASSPHRASE)  # the same passphrase, as a Mac may type it
    dialog.passphrase.setText(same)
    dialog.repeat.setText(same)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.message.text() == ("✖ the export passphrase is the vault's own: whoever is given it to "
                                     "open the export could unlock the whole vault; choose another "
                                     "(nothing was written)")
    assert dialog.message.property("error") is True and not out.exists()
    assert ws.locked == locked_before  # the check unwraps a copy of the key: the vault is as it was
