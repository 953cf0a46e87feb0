"""File › Audit log…: the workspace's hash-chained audit log, verified, for whoever answers for
the data (a DPO, an auditor) without the command line (`cloister audit --verify`).

Each entry says when, which account, what was done and its details (names and counts, never
rows). The log is read and its chain checked on a worker thread; the verdict comes first: a
log that fails its check is listed all the same, under what is wrong with it."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QLabel, QLineEdit, QTableView, QVBoxLayout,
    QWidget,
)

from desktop.accessible import announce, label_for, tab_leaves
from desktop.context import AppContext
from desktop.text_breaks import wrappable
from desktop.worker import Done, Job
from engine.events import Failed
from engine.units import count_of

COLUMNS = ("#", "When (UTC)", "Account", "Action", "Details")


class AuditEntriesModel(QAbstractTableModel):
    """The shown entries, newest first, as the view asks for them: a year's log (50,000
    entries) took 4 s to fill as one widget per cell, and as long again at every key typed in
    the filter; here a cell's text is made only when it scrolls into view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown: list[Any] = []

    def show_entries(self, entries: list[Any]) -> None:
        self.beginResetModel()
        self._shown = entries[::-1]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def text(self, row: int, column: int) -> str:
        """A cell as the log has it (the tooltip; `cloister audit` prints the same)."""
        entry = self._shown[row]
        if column == 4:
            return str(entry.details_line())
        return str((entry.seq, entry.time, entry.user, entry.action)[column])

    def shown(self, row: int, column: int) -> str:
        """A cell as the table shows it: the time without its 'T' and '+00:00' (the column says
        UTC: the stamp took a third of a narrow dialog), and a hash or a path with places to
        wrap (it was cut with an ellipsis though the column wraps)."""
        value = self.text(row, column)
        if column == 1:
            return value[:19].replace("T", " ")
        return wrappable(value) if column == 4 else value

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.shown(index.row(), index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.text(index.row(), index.column())  # whole, as the log has it
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


def read_audit(workspace: Any) -> tuple[list[Any], list[str], Any]:
    """Worker thread: the log's entries, every problem (the chain's, and the workspace's
    freshness against this computer's record, which unlock also checks), and where a last entry
    was cut off while being written (None when none was). Read under the writers' lock."""
    report, stale = workspace.checked_audit()
    return list(report.entries), [*report.problems, *stale], report.cut_off_at


class AuditDialog(QDialog):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.entries: list[Any] = []
        self._closed = False  # a read that ends after the close (or a lock) is dropped
        self._fitting = False
        self._at_end = False  # the view was at the end of the list when rows were last fitted
        self.setWindowTitle("Audit log")
        self.resize(900, 560)
        self.setMinimumSize(560, 320)  # shrunk further, it showed one cut row
        self.verdict = QLabel("Reading and checking the audit log…")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("dataset.  run.  person.  export")
        self.filter.textChanged.connect(lambda _t: self._fill())
        self.model = AuditEntriesModel(self)
        self.table = tab_leaves(QTableView(), "Audit entries")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)  # the details take what is left
        self.table.setWordWrap(True)
        # Only the rows in view are fitted to their wrapped details (fitting all 50,000 took
        # seconds); the others are fitted as they scroll in, or the view is resized.
        self.table.verticalScrollBar().valueChanged.connect(lambda _v: self._fit_rows_in_view())
        self.table.verticalScrollBar().rangeChanged.connect(self._range_grew)
        self.table.horizontalHeader().sectionResized.connect(lambda *_a: self._fit_rows_later())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(label_for("Show the actions that start with:", self.filter))
        layout.addWidget(self.filter)
        self.none_shown = QLabel("")  # a filter that matches nothing says so, not a blank table
        self.none_shown.hide()
        layout.addWidget(self.none_shown)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self._read()

    def _read(self) -> None:
        workspace = self.context.workspace
        if workspace is None:
            return
        job = Job.call(lambda _cancel: read_audit(workspace), name="audit", parent=self)
        job.ended.connect(self._on_read)
        self.context.start(job)

    def done(self, result: int) -> None:  # noqa: D102 - QDialog's: closed for good
        """The log's entries (decrypted: names of datasets and files) are let go at once, also
        when a lock closes the dialog; a read still running is dropped when it ends."""
        self._closed = True
        self.entries = []
        self.model.show_entries([])
        super().done(result)

    def _on_read(self, terminal: object) -> None:
        if self._closed:
            return
        if isinstance(terminal, Failed):
            self.verdict.setText(f"✖ The audit log could not be read: {terminal.message}")
        elif isinstance(terminal, Done):
            self.entries, problems, cut_off = terminal.value
            cut = (" Its last entry was cut off while being written (a full disk or a killed "
                   "process): it was never recorded as written, so no entry is missing, and the "
                   "next change removes it; the change it was recording may have been made."
                   if cut_off is not None else "")
            if problems:
                self.verdict.setText(f"✖ {count_of(len(problems), 'problem')}: the log or the "
                                     "workspace was altered or damaged. " + " ".join(
                                         f"{p[:1].upper()}{p[1:]}." for p in problems) + cut)
                self.verdict.setProperty("error", True)
                self.verdict.style().polish(self.verdict)
            else:
                self.verdict.setText(f"✔ {count_of(len(self.entries), 'entry', 'entries')}, chain intact: "
                                     "nothing was taken out, changed or put back." + cut)
            self._fill()
        announce(self.verdict.text(), on=self.filter)  # where the focus is: the verdict said

    def _fill(self) -> None:
        wanted = self.filter.text().strip()
        shown = [e for e in self.entries if e.action.startswith(wanted)]
        self.model.show_entries(shown)
        self.table.scrollToTop()  # the newest matches first, wherever the view was
        self.none_shown.setText(f"No entry's action starts with “{wanted}”." if self.entries
                                and not shown else "")
        self.none_shown.setVisible(bool(self.none_shown.text()))
        # The details take the width left, wrapped: sized to their longest line, they pushed the
        # column, its header included, out of view to the right. (Qt sizes a column from the
        # rows in view and a sample of the others.)
        for column in range(len(COLUMNS) - 1):
            self.table.resizeColumnToContents(column)
        self._fit_rows_in_view()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's: a taller view shows more rows
        super().resizeEvent(event)
        self._fit_rows_later()

    def _fit_rows_later(self) -> None:
        QTimer.singleShot(0, self, self._fit_rows_in_view)  # once the resize is laid out

    def _fit_rows_in_view(self) -> None:
        if self._closed or self._fitting:
            return
        self._fitting = True
        try:
            bar = self.table.verticalScrollBar()
            # The rows at the end, fitted, grow the list past its end: the oldest entry (the
            # vault's creation) fell out of view. At the end, the view stays there as the range
            # grows (``_range_grew``), which fits the rows then in view, until nothing grows.
            self._at_end = bar.maximum() > 0 and bar.value() == bar.maximum()
            row, bottom = max(self.table.rowAt(0), 0), self.table.viewport().height()
            # Fitting a row moves the ones below it: go on until the view's bottom is passed.
            while row < self.model.rowCount() and self.table.rowViewportPosition(row) < bottom:
                self.table.resizeRowToContents(row)
                row += 1
        finally:
            self._fitting = False

    def _range_grew(self, _low: int, high: int) -> None:
        if self._at_end and not self._closed:
            self.table.verticalScrollBar().setValue(high)


def show_audit_log(context: AppContext, parent: QWidget, shown: AuditDialog | None) -> AuditDialog:
    """One at a time: the open one comes up again; a closed one is deleted (it held nothing
    once closed), and a new one reads the log as it is now."""
    try:
        if shown is not None and shown.isVisible():
            shown.raise_()
            shown.activateWindow()
            return shown
        if shown is not None:
            shown.deleteLater()
    except RuntimeError:  # already deleted with a lock
        pass
    dialog = AuditDialog(context, parent)
    dialog.show()
    return dialog
