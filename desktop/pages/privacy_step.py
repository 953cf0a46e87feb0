"""The Privacy step for a stored dataset: scan for personal data, choose an action per entity
type, preview sample rows before and after with the changed spans highlighted, and create the
anonymized copy as a new dataset.

All engine work (scan, preview, anonymize) runs through ``desktop.worker.Job``; this module
only builds widgets and a ``privacy.pii.policy.Policy`` from the choices. Examples in the
findings table are masked by the engine ("M**** L****"); the preview shows real text, as the
dataset's own preview does, and only while the dialog is open.
"""
from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
    QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget,
)

from desktop.accessible import chain_tabs, label_for, tab_leaves
from desktop.pages.privacy_columns import ColumnActions, choose_action, fill_actions
from desktop.worker import Done, Job
from engine.events import Failed
from engine.units import count_of
from privacy.pii.operators import APP_ACTIONS as ACTIONS  # what the actions' registry offers here

# Who finds names (the policy's ``names``): the model finds brands and names in no list, at
# ~90 rows a second on a 2-core CPU instead of thousands (bench/RESULTS.md).
NAME_MODES = (("Names: rules (fast)", "rules"), ("Names: rules + model (thorough, slower)", "both"),
              ("Names: model only", "model"))
DEFAULT_ACTION = {"PERSON": "pseudonym", "EMAIL": "pseudonym", "CREDIT_CARD": "mask",
                  "IBAN": "mask", "PHONE": "mask", "DATE": "generalize_date",
                  "DATE_TIME": "generalize_date", "ORGANIZATION": "keep"}


def _locale_writes_day_first() -> bool:
    from PySide6.QtCore import QLocale

    system = QLocale.system()
    if system.language() == QLocale.Language.C:  # no locale set (a bare server, CI): US order
        return False
    return system.dateFormat(QLocale.FormatType.ShortFormat).lower().lstrip().startswith("d")


def _highlight(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in spans:
        out.append(html.escape(text[pos:start]))
        out.append(f"<span style='background-color: palette(highlight); color: "
                   f"palette(highlighted-text)'><b>{html.escape(text[start:end])}</b></span>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


OTHER_COLUMNS = "Other columns (not read by the model; kept in the copy unless you choose otherwise):"

class PrivacyPanel(QWidget):
    """Scan -> findings with actions -> preview -> create. ``report`` and ``created`` are set
    when the corresponding job ends (tests wait on them)."""

    COLUMNS = ("Type", "Found", "By column", "Examples (masked)", "Action")

    def __init__(self, context: Any, dataset: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.dataset = context, dataset
        self.report: Any = None
        self.created: Any = None
        self._coverage = ""  # said after the scan's counts: text in scripts the detectors miss
        self._job: Job | None = None
        self.status = QLabel(f"Scan <b>{html.escape(dataset)}</b> for personal data before "
                             "training on it.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        # A scan with the name model reads ~90 rows a second: minutes on a big dataset.
        self.stop_button = QPushButton("Stop")
        self.stop_button.hide()
        self.stop_button.clicked.connect(self.stop)
        self.scan_button = QPushButton("Scan")
        self.scan_button.clicked.connect(self.scan)
        self.names = QComboBox()
        for label, mode in NAME_MODES:
            self.names.addItem(label, mode)
        self.names.setAccessibleName("How names are found")
        self.names.setToolTip("The name model (MiniLM fine-tuned for names) also finds companies "
                              "and names in no list, but reads ~90 rows a second on a CPU")
        # 05/03/2024 is 5 March in most of Europe and 3 May in the US: the computer's own date
        # format gives the first guess.
        self.day_first = QCheckBox("Dates day first (05/03 = 5 March)")
        self.day_first.setChecked(_locale_writes_day_first())
        self.day_first.setToolTip("How dates written with numbers only are read before they are "
                                  "generalised to their month")
        # Rows done, from the worker thread; a timer on the UI thread shows it.
        self._rows_done: tuple[int, int] | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._show_progress)
        self.table = QTableWidget(0, len(self.COLUMNS))
        tab_leaves(self.table, "Personal data found")  # Tab leaves it (cell by cell trapped it)
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # The type ("STREET_ADDRESS") read "STREET_ADD…" at the default width.
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.show_preview)
        self._text_columns: set[str] = set()
        self.preview = QTextBrowser()
        self.preview.setAccessibleName("Before and after")
        self.preview.setPlaceholderText("Scan, then press Preview: the first rows are shown here "
                                        "before and after, with what changes highlighted.")
        self.name_edit = QLineEdit(f"{dataset}-anonymized")
        # The whole suggested name, not its tail ("…s-anonymized"), up to a long one's width;
        # whole in the tooltip in any case.
        wide = self.name_edit.fontMetrics().horizontalAdvance(self.name_edit.text()) + 24
        self.name_edit.setMinimumWidth(min(max(260, wide), 520))
        self.name_edit.setToolTip(self.name_edit.text())
        self.name_edit.textChanged.connect(self.name_edit.setToolTip)
        self.create_button = QPushButton("Create anonymized dataset")
        self.create_button.clicked.connect(self.create)
        # Enter (in the name field) creates; it pressed Scan, the first button of the dialog.
        for button in (self.scan_button, self.stop_button, self.preview_button):
            button.setAutoDefault(False)
        self.create_button.setDefault(True)
        # Once created, the name is taken: creating again needs another name.
        self.name_edit.textEdited.connect(lambda _t: self.create_button.setEnabled(
            self._ready() and not self._job_running()))
        # Whole columns the model does not read (ids, names, phone numbers of their own).
        self.columns = ColumnActions()
        self.columns.setAccessibleName("Other columns")
        self.columns.changed.connect(self._update_ready)
        for button in (self.preview_button, self.create_button):
            button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.scan_button)
        top.addWidget(self.names)
        top.addWidget(self.day_first)
        top.addWidget(self.progress)
        top.addWidget(self.stop_button)
        top.addWidget(self.status, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.preview_button)
        bottom.addStretch(1)
        bottom.addWidget(label_for("New dataset:", self.name_edit))
        bottom.addWidget(self.name_edit)
        bottom.addWidget(self.create_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 2)
        self.columns_label = QLabel(OTHER_COLUMNS)
        layout.addWidget(self.columns_label)
        layout.addWidget(self.columns, 1)
        layout.addWidget(QLabel("Before and after (changed spans highlighted):"))
        layout.addWidget(self.preview, 2)
        layout.addLayout(bottom)

    # --- the policy the choices make -------------------------------------------------------
    def actions(self) -> dict[str, str]:
        chosen = {}
        for row in range(self.table.rowCount()):
            combo = self.table.cellWidget(row, 4)
            chosen[self.table.item(row, 0).text()] = combo.currentData()
        return chosen

    def set_action(self, entity: str, action: str) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == entity:
                choose_action(self.table.cellWidget(row, 4), action)

    def policy(self) -> Any:
        """The choices written as a policy file and read by the policy parser: the text the
        audit log records is, by construction, the policy applied."""
        from privacy.pii.policy import parse_policy

        column_lines = self.columns.policy_lines(day_first=self.day_first.isChecked())
        def rule(entity: str, action: str) -> str:
            if action == "generalize_date" and self.day_first.isChecked():
                return f'{entity} = {{ action = "{action}", day_first = true }}'
            return f'{entity} = "{action}"'

        text = "\n".join(["# chosen in the desktop Privacy step", f'names = "{self.names_mode()}"',
                          "[entities]", *(rule(t, a) for t, a in self.actions().items()),
                          *(["[columns]", *column_lines] if column_lines else [])])
        return parse_policy(text + "\n", source="desktop Privacy step")

    def _ready(self) -> bool:
        """Something to preview or create: findings in the text, or a column not kept."""
        return self.report is not None and (bool(self.report.counts)
                                            or self.columns.changes_anything())

    def _update_ready(self) -> None:
        if not self._job_running():
            self.preview_button.setEnabled(self._ready())
            # A copy made under this name takes it: creating again waits for another name.
            taken = self.created is not None and self.created.name == self.name_edit.text().strip()
            self.create_button.setEnabled(self._ready() and not taken)

    def names_mode(self) -> str:
        return str(self.names.currentData())

    def _rows_progress(self, done: int, total: int) -> None:  # called on the worker thread
        self._rows_done = (done, total)
        job = self._job
        if job is not None and job.cancel_token.cancelled:
            raise _Stopped  # out of the scan (or the copy, before anything is stored)

    def stop(self) -> None:
        if self._job is not None and self._job.is_running():
            self._job.cancel()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping…")

    def _show_progress(self) -> None:
        if self._rows_done is not None:
            done, total = self._rows_done
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    # --- jobs ------------------------------------------------------------------------------
    def _run(self, body, message: str, done) -> None:  # noqa: ANN001
        if self._job is not None and self._job.is_running():
            return
        workspace = self.context.workspace
        self.progress.setRange(0, 0)  # busy until the first rows are done
        self.progress.show()
        self._rows_done = None
        self._progress_timer.start()
        self.status.setText(message)
        for button in (self.scan_button, self.preview_button, self.create_button):
            button.setEnabled(False)
        # The name model is the ML stack: imported as every desktop job imports it (one thread
        # at a time: transformers' lazy names are not thread-safe, see desktop.jobs).
        model = self.names_mode() != "rules"
        job = Job.call(lambda _cancel: _stoppable(body, workspace, model), name="privacy", parent=self)
        job.ended.connect(lambda terminal: self._ended(terminal, done))
        self._job = job
        self.stop_button.setEnabled(True)
        self.stop_button.show()
        self.context.start(job)

    def _ended(self, terminal: object, done) -> None:  # noqa: ANN001
        self._progress_timer.stop()
        self._show_progress()
        self.progress.hide()
        self.stop_button.hide()
        self.scan_button.setEnabled(True)
        self.preview_button.setEnabled(self._ready())
        self.create_button.setEnabled(self._ready())
        if isinstance(terminal, Failed):
            self.status.setText(terminal.message)
        elif isinstance(terminal, Done) and terminal.value is _STOPPED:
            self.status.setText("Stopped; nothing was stored or changed.")
        elif isinstance(terminal, Done):
            done(terminal.value)

    def scan(self) -> None:
        from engine.data.anonymize import scan_dataset
        from privacy.pii.policy import Policy

        name, policy, progress = self.dataset, Policy(names=self.names_mode()), self._rows_progress
        self._run(lambda ws: scan_dataset(ws, name, policy, progress=progress), "Scanning…",
                  self._show_report)

    def _show_report(self, report: Any) -> None:
        self.report = report
        self.table.setRowCount(0)
        for entity, count in report.counts.most_common():
            row = self.table.rowCount()
            self.table.insertRow(row)
            columns = ", ".join(f"{c} {n[entity]}" for c, n in report.by_column.items() if n.get(entity))
            for col, value in enumerate((entity, str(count), columns,
                                         " | ".join(report.examples.get(entity, [])))):
                self.table.setItem(row, col, QTableWidgetItem(value))
            combo = QComboBox()
            combo.setAccessibleName(f"Action for {entity}")
            fill_actions(combo, ACTIONS, DEFAULT_ACTION.get(entity, "tag"), entity=entity)
            self.table.setCellWidget(row, 4, combo)
            # The longest choice must read whole, not cut off.
            self.table.setColumnWidth(4, max(self.table.columnWidth(4), combo.sizeHint().width() + 8))
        if not self._show_columns(report):
            return
        # The choices in the order they are read, top to bottom, before what is below them.
        chain_tabs(self.table, *(self.table.cellWidget(r, 4) for r in range(self.table.rowCount())),
                   self.columns, *self.columns.combos(), self.preview)
        self.preview_button.setEnabled(self._ready())
        self.create_button.setEnabled(self._ready())
        found = (f"{sum(report.counts.values()):,} findings in {report.rows:,} rows; "
                 f"{report.share_changed:.1%} of the text would change."
                 if report.counts else "No personal data found in the text by the detectors.")
        if report.proposals:
            found += (f" {count_of(len(report.proposals), 'other column')} "
                      f"{'looks' if len(report.proposals) == 1 else 'look'} like identifiers: "
                      "the proposed actions are set below.")
        warning = report.coverage_warning()
        self._coverage = f" ⚠ {warning}." if warning else ""
        self.status.setText(found + self._coverage)

    def _show_columns(self, report: Any) -> bool:
        """The other columns, with the scan's proposals; False (said, nothing offered) when the
        dataset was renamed or deleted during the scan, by another window or a command."""
        from engine.data.store import dataset_info
        from engine.errors import InputError

        try:
            info = dataset_info(self.context.workspace, self.dataset)
        except InputError:  # it raised here, on the UI thread: "Scanning…" for good
            self.preview_button.setEnabled(False)
            self.create_button.setEnabled(False)
            self.status.setText(f"✖ Dataset {self.dataset!r} was renamed or deleted while it was "
                                "scanned (by another window or a command): close this and scan "
                                "the dataset again as it is now.")
            return False
        self._text_columns = set(info.mapping.text_columns)  # what the model reads: previewed first
        read = {*info.mapping.text_columns, info.mapping.label_column}
        others = [c for c in info.columns if c not in read]
        self.columns.show_columns(others, report.proposals)
        # No other column: said, not an empty table left to puzzle over.
        self.columns.setVisible(bool(others))
        self.columns_label.setText(OTHER_COLUMNS if others else
                                   "Other columns: none (the dataset holds only the columns the "
                                   "model reads).")
        return True

    def show_preview(self) -> None:
        from engine.data.anonymize import preview

        name, policy = self.dataset, self.policy()
        self._run(lambda ws: preview(ws, name, policy), "Preparing the preview…", self._show_preview)

    def _show_preview(self, rows: list) -> None:
        parts = []
        # The texts the model reads first: what changes there is what the user came to check
        # (an id column's pseudonyms came first and pushed the texts out of view).
        rows = sorted(rows, key=lambda row: row[0] not in self._text_columns)
        for column, before, found, after, changed in rows:
            shown = _highlight(after, changed) if after else "<i>(emptied)</i>"  # redact: nothing
            parts.append(f"<p><i>{html.escape(column)}</i><br>{_highlight(before, found)}<br>"
                         f"→ {shown}</p>")
        from engine.data.anonymize import PREVIEW_SCAN_ROWS

        # The preview reads the first rows only; the scan's counts cover the whole dataset.
        self.preview.setHtml("".join(parts) or f"<p>Nothing would change in the first "
                             f"{PREVIEW_SCAN_ROWS:,} rows (the counts above cover every row).</p>")
        self.status.setText("Preview ready: nothing is stored until you create the dataset."
                            + self._coverage)

    def create(self) -> None:
        from engine.data.anonymize import anonymize_dataset

        name, new, policy = self.dataset, self.name_edit.text().strip(), self.policy()
        progress = self._rows_progress
        self._run(lambda ws: anonymize_dataset(ws, name, new, policy, progress=progress),
                  f"Creating {new}…",
                  self._created)

    def _job_running(self) -> bool:
        return self._job is not None and self._job.is_running()

    def _created(self, value: Any) -> None:
        info, report = value
        self.created = info
        self.create_button.setEnabled(False)  # until another name is typed
        left = ", ".join(f"{c} ({n:,} row{'s' * (n != 1)})"
                         for c, n in sorted(report.values_left_in_text.items()))
        unread = report.unread_warning()  # "unknown" in a date column: tagged, said by row
        self.status.setText(f"Created {info.name} ({info.rows:,} rows); {self.dataset} is "
                            "unchanged. The audit log records the choices applied." + (
                                f" ⚠ The texts still hold values of columns replaced here, as "
                                f"written: {left}. Beside the pseudonyms they link them back: add "
                                "their format as a pattern in a policy file (cloister anonymize) "
                                "before training on this copy." if left else "")
                            + (f" ⚠ {unread[:1].upper()}{unread[1:]}." if unread else ""))
        self.context.datasets_changed.emit()


class PrivacyDialog(QDialog):
    def __init__(self, context: Any, dataset: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Privacy — {dataset}")
        self.panel = PrivacyPanel(context, dataset, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(buttons)
        self.resize(900, 680)  # the findings, the other columns and the preview


class _Stopped(Exception):
    """Raised from the progress callback on the worker thread when the user pressed Stop."""


_STOPPED = object()  # what a stopped job ends with


def _stoppable(body: Any, workspace: Any, model: bool) -> Any:
    if model:
        from desktop.jobs import import_ml_stack

        import_ml_stack()
    try:
        return body(workspace)
    except _Stopped:
        return _STOPPED
