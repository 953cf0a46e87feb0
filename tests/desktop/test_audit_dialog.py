"""File › Audit log…: the log, verified, for whoever answers for the data without the command
line: every entry, newest first, under the verdict of its hash chain."""
from __future__ import annotations

from privacy.vault.workspace import AUDIT_FILE
from tests.desktop.test_training_ui import _store


def _opened(qtbot, window):  # noqa: ANN001, ANN202
    assert window.audit_action.isEnabled()
    window.audit_action.trigger()
    dialog = window.audit_dialog
    qtbot.waitUntil(lambda: not dialog.verdict.text().startswith("Reading"), timeout=30_000)
    return dialog


def test_the_audit_log_is_listed_newest_first_under_its_verdict(qtbot, window, spam_csv) -> None:
    _store(window, spam_csv, "messages")
    window.context.workspace.audit("model.exported", run="r1", sha256="ab" * 32, path="/" + "x" * 120)
    _store(window, spam_csv, "more")
    dialog = _opened(qtbot, window)
    dialog.show()
    qtbot.waitExposed(dialog)
    entries = window.context.workspace.verify_audit().entries
    assert dialog.verdict.text().startswith(f"✔ {len(entries)} entries, chain intact")
    assert dialog.table.rowCount() == len(entries)
    newest = [dialog.table.item(0, c).text() for c in range(5)]
    assert newest[0] == str(entries[-1].seq) and newest[3] == "dataset.imported"
    assert 'dataset="more"' in newest[4] and "rows=" in newest[4]
    # The details column stays in view, within the table's width, however long a line (a
    # hash and a path): sized to it, the column and its header went off to the right.
    table = dialog.table
    assert table.columnViewportPosition(4) + table.columnWidth(4) <= table.viewport().width() + 1
    assert table.horizontalScrollBar().maximum() == 0
    dialog.filter.setText("vault.")
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 3).text() == "vault.created"
    assert dialog.filter.accessibleDescription() == dialog.verdict.text()  # said where the focus is
    dialog.resize(100, 100)  # it shrank to one cut row: a floor keeps a few rows readable
    assert dialog.width() >= 560 and dialog.height() >= 320


def test_an_altered_log_is_said_first_and_still_listed(qtbot, window, spam_csv) -> None:
    _store(window, spam_csv, "messages")
    path = window.context.workspace.root / AUDIT_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1  # inside an entry
    path.write_bytes(bytes(data))
    dialog = _opened(qtbot, window)
    assert dialog.verdict.text().startswith("✖") and "altered or damaged" in dialog.verdict.text()
    assert dialog.table.rowCount() >= 1  # the entries that still read


def test_one_dialog_at_a_time_and_nothing_kept_once_closed_or_locked(qtbot, window, spam_csv) -> None:
    _store(window, spam_csv, "jane_doe_messages")
    dialog = _opened(qtbot, window)
    assert dialog.entries
    window.audit_action.trigger()
    assert window.audit_dialog is dialog  # the open one comes up again
    dialog.close()
    assert dialog.entries == [] and dialog.table.rowCount() == 0  # decrypted names let go
    again = _opened(qtbot, window)
    assert again is not dialog and again.entries
    # A read that ends after the dialog closed (a lock closes it) fills nothing.
    again.close()
    from desktop.worker import Done

    again._on_read(Done(([object()], [], None)))
    assert again.entries == [] and again.table.rowCount() == 0


def test_the_audit_log_is_out_of_reach_while_locked(window) -> None:
    window.context.set_workspace(None)
    assert not window.audit_action.isEnabled()
