"""The unlock dialog shows an integrity refusal (issue #13) as its message, not a traceback,
and does not hand out a workspace."""
from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.dialogs.vault import UnlockDialog
from privacy.vault.workspace import AUDIT_FILE, AUDIT_HEAD_FILE, Workspace
from tests.desktop.conftest import FAST_KDF, PASSPHRASE


def test_unlock_dialog_reports_a_deleted_audit_log(qtbot, tmp_path):
    root = tmp_path / "ws"
    ws = Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    ws.audit("dataset.imported", dataset="a")
    ws.lock()
    (root / AUDIT_FILE).unlink()
    (root / AUDIT_HEAD_FILE).unlink()
    dialog = UnlockDialog(root)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, PASSPHRASE)
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    text = dialog.error.text()
    # The refusal's own message, not the generic "unexpected error" text with a type name.
    assert text.startswith("the workspace failed its integrity check") and "2 were written" in text
    assert "Traceback" not in text and "IntegrityError" not in text
    assert dialog.workspace is None and dialog.isVisible()
