"""File › Audit log…: the log, verified, for whoever answers for the data without the command
line: every entry, newest first, under the verdict of its hash chain."""
from __future__ import annotations

from PySide6.QtCore import Qt

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
    assert dialog.model.rowCount() == len(entries)
    newest = [dialog.model.text(0, c) for c in range(5)]
    assert newest[0] == str(entries[-1].seq) and newest[3] == "dataset.imported"
    assert 'dataset="more"' in newest[4] and "rows=" in newest[4]
    # The details column stays in view, within the table's width, however long a line (a
    # hash and a path): sized to it, the column and its header went off to the right.
    table = dialog.table
    assert table.columnViewportPosition(4) + table.columnWidth(4) <= table.viewport().width() + 1
    assert table.horizontalScrollBar().maximum() == 0
    dialog.filter.setText("vault.")
    assert dialog.model.rowCount() == 1 and dialog.model.text(0, 3) == "vault.created"
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
    assert dialog.model.rowCount() >= 1  # the entries that still read


def test_one_dialog_at_a_time_and_nothing_kept_once_closed_or_locked(qtbot, window, spam_csv) -> None:
    _store(window, spam_csv, "jane_doe_messages")
    dialog = _opened(qtbot, window)
    assert dialog.entries
    window.audit_action.trigger()
    assert window.audit_dialog is dialog  # the open one comes up again
    dialog.close()
    assert dialog.entries == [] and dialog.model.rowCount() == 0  # decrypted names let go
    again = _opened(qtbot, window)
    assert again is not dialog and again.entries
    # A read that ends after the dialog closed (a lock closes it) fills nothing.
    again.close()
    from desktop.worker import Done

    again._on_read(Done(([object()], [], None)))
    assert again.entries == [] and again.model.rowCount() == 0


def test_the_audit_log_is_out_of_reach_while_locked(window) -> None:
    window.context.set_workspace(None)
    assert not window.audit_action.isEnabled()


def test_a_year_of_entries_is_shown_at_once_and_rows_fit_their_details_as_they_scroll_in(
        qtbot, window) -> None:
    """50,000 entries took 4 s to fill as one widget per cell, and again at every key typed in
    the filter. The view now asks for the rows it shows; each row in view is as tall as its
    wrapped details, also after a scroll."""
    from desktop.dialogs.audit import AuditDialog
    from privacy.vault.audit import AuditEntry

    dialog = AuditDialog(window.context, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.verdict.text().startswith("Reading"), timeout=30_000)
    long = {"path": "/" + "folder " * 60, "rows": 3, "sha256": "ab" * 32}  # wraps over lines
    dialog.entries = [AuditEntry(seq=i, time="2026-12-07T12:00:00Z", user="alice",
                                 action="dataset.imported" if i % 2 else "run.finished",
                                 details=long) for i in range(50_000)]
    dialog._fill()
    assert dialog.model.rowCount() == 50_000
    assert dialog.model.text(0, 0) == "49999"  # the newest first
    table = dialog.table
    one_line = table.fontMetrics().height()
    assert table.rowHeight(0) > 2 * one_line  # fitted to its wrapped details
    table.scrollToBottom()
    qtbot.waitUntil(lambda: table.rowHeight(49_999) > 2 * one_line, timeout=5_000)
    assert table.rowHeight(25_000) < 2 * one_line + 10  # never in view: never measured
    # The oldest entry is in view at the end of the list: the rows fitted there grew, and
    # pushed it below the view.
    def oldest_in_view() -> bool:
        last = table.rowViewportPosition(49_999) + table.rowHeight(49_999)
        return 0 < last <= table.viewport().height() + 1

    qtbot.waitUntil(oldest_in_view, timeout=5_000)
    dialog.filter.setText("run.")
    assert dialog.model.rowCount() == 25_000 and dialog.model.text(0, 3) == "run.finished"
    assert table.verticalScrollBar().value() == 0  # the newest matches first
    dialog.filter.setText("nothing.")
    assert dialog.model.rowCount() == 0 and "No entry's action starts with “nothing.”" in \
        dialog.none_shown.text() and not dialog.none_shown.isHidden()
    dialog.filter.setText("run.")
    assert dialog.none_shown.isHidden()
    assert table.model().data(table.model().index(0, 4), Qt.ItemDataRole.ToolTipRole) == \
        dialog.model.text(0, 4)  # a cut detail reads whole in its tip
    # A hash has places to wrap where it is shown (it was cut with an ellipsis), not in its tip.
    shown = table.model().data(table.model().index(0, 4), Qt.ItemDataRole.DisplayRole)
    assert "\u200b" in shown and shown.replace("\u200b", "") == dialog.model.text(0, 4)
    assert table.model().data(table.model().index(0, 1)) == "2026-12-07 12:00:00"  # under "(UTC)"
