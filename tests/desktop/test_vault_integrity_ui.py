"""The unlock dialog shows an integrity refusal (issue #13) in words, not a traceback, and
does not hand out a workspace, unless the user accepts the copy (a backup put back on
purpose, as the README advises): then it records that and opens it."""
from __future__ import annotations

import shutil

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.dialogs.vault import UnlockDialog
from privacy.vault.workspace import AUDIT_FILE, AUDIT_HEAD_FILE, Workspace
from tests.desktop.conftest import FAST_KDF, PASSPHRASE
from tests.desktop.helpers import answer_next_message_box


def _typed_in(qtbot, root):  # noqa: ANN001, ANN202
    """The unlock dialog of ``root``, open, with the (right) passphrase typed."""
    dialog = UnlockDialog(root)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, PASSPHRASE)
    return dialog


def test_unlock_dialog_reports_a_deleted_audit_log(qtbot, tmp_path):
    root = tmp_path / "ws"
    ws = Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    ws.audit("dataset.imported", dataset="a")
    ws.lock()
    (root / AUDIT_FILE).unlink()
    (root / AUDIT_HEAD_FILE).unlink()
    dialog = _typed_in(qtbot, root)
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    text = dialog.error.text()
    # The refusal in words, with what was found; not the generic text with a type name.
    assert text.startswith("This workspace is not as Cloister last left it") and "2 were written" in text
    assert "Traceback" not in text and "IntegrityError" not in text
    assert dialog.workspace is None and dialog.isVisible()
    assert dialog.accept_copy_button.isVisible()
    assert dialog.passphrase.text() == PASSPHRASE  # it was right: not cleared as if wrong


def test_accept_is_not_offered_for_a_missing_index_nor_taken_by_enter(qtbot, tmp_path):
    """An index deleted is damage, not an older copy: accepting it could only fail (and then
    cleared the right passphrase). Where it is offered, Enter does not press it."""
    from privacy.vault.workspace import INDEX_BACKUP_FILE, INDEX_FILE

    root = tmp_path / "ws"
    ws = Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    ws.write_bytes("datasets/a/meta.json", b"{}")
    ws.lock()
    for name in (INDEX_FILE, INDEX_BACKUP_FILE):
        (root / name).unlink(missing_ok=True)
    dialog = _typed_in(qtbot, root)
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.error.isVisible, timeout=10_000)
    assert not dialog.accept_copy_button.isVisible()
    assert "missing or damaged" in dialog.error.text() and dialog.workspace is None
    assert dialog.passphrase.text() == PASSPHRASE


def test_a_backup_put_back_is_accepted_from_the_unlock_dialog(qtbot, tmp_path):
    from privacy.vault.audit import RESTORE_ACTION

    root, backup = tmp_path / "ws", tmp_path / "backup"
    ws = Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    ws.audit("dataset.imported", dataset="a")
    ws.lock()
    shutil.copytree(root, backup)  # yesterday's backup
    ws = Workspace.unlock(root, PASSPHRASE)
    ws.audit("dataset.imported", dataset="b")  # today's work, which the backup lacks
    ws.lock()
    shutil.rmtree(root)
    shutil.copytree(backup, root)  # the user puts the backup back
    dialog = _typed_in(qtbot, root)
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.accept_copy_button.isVisible, timeout=10_000)
    assert "If you put back a backup on purpose, press Accept this copy" in dialog.error.text()
    assert not dialog.passphrase.isEnabled()  # what Accept accepts is what was opened
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter: unlocks again (refused again), no accept
    qtbot.waitUntil(lambda: not dialog.busy.isVisible() and dialog.accept_copy_button.isVisible(),
                    timeout=10_000)
    assert dialog.workspace is None
    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
    qtbot.mouseClick(dialog.accept_copy_button, Qt.MouseButton.LeftButton)  # asked first: no
    assert "cannot be undone" in seen[0] and dialog.workspace is None
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.accept_copy_button, Qt.MouseButton.LeftButton)
    opened = dialog.workspace
    assert opened is not None and not opened.locked
    report = opened.verify_audit()
    assert report.ok and report.entries[-1].action == RESTORE_ACTION
    assert [e.details.get("dataset") for e in report.entries if e.action == "dataset.imported"] == ["a"]
    opened.lock()
