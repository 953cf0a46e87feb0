"""Datasets page: open or drop a file, preview it, choose columns, see problems, import into
the vault; the stored datasets with rename and delete. Reading and validating run in the worker
(a big file must not freeze the window); the preview is a virtual table over the Arrow table.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QMessageBox, QPushButton, QScrollArea, QSplitter, QStackedWidget,
    QVBoxLayout, QWidget,
)

from desktop.accessible import chain_tabs, label_for, say_aloud, tab_leaves
from desktop.icons import icon
from desktop.keys import key_text
from desktop.pages.base import Page, section
from desktop.pages.draft_check import (fill_problem_list, hint_click, lock_reading_options,
                                       problem_cell, problems_title, read_and_check)
from desktop.pages.fixes_panel import FixesPanel, fix_draft
from desktop.pages.stored import StoredDatasetsPanel
from desktop.state import ImportDraft
from desktop.widgets.arrow_table import ArrowTableModel, TextColumnWidth, preview_view
from desktop.widgets.charts import BarChart
from desktop.pages.reading_boxes import ReadingBoxes
from desktop.pages.work_bar import WorkBar
from engine.data.importing.legacy_encodings import LABELS
from desktop.widgets.column_scroll import ColumnScroll
from desktop.widgets.drop_zone import DropZone
from desktop.worker import Done, Job
from engine.events import Failed, Progress

if TYPE_CHECKING:
    from engine.vault import Vault

class DatasetsPage(Page):
    title = "Datasets"
    icon_name = "datasets"

    def subtitle_text(self) -> str:
        from desktop.jobs import file_suffixes

        keys = f"{key_text('Ctrl+O')}, {key_text('Ctrl+Shift+O')}"
        return (f"Drop a data file ({', '.join(file_suffixes())}) — or a folder with one sub-folder "
                f"per label — on this window, or open one ({keys}).")

    def __init__(self, context, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(context, parent)
        self.draft: ImportDraft | None = None
        self._job: Job | None = None
        self.model = ArrowTableModel(parent=self)

        self.stack = QStackedWidget()
        self.empty = DropZone()  # where to drop a file, and the one-click sample data
        self.sample_button = self.empty.sample_button
        self.sample_button.clicked.connect(self.open_sample)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_draft_view())
        top = self._build_top_bar()

        self.stored_panel = StoredDatasetsPanel(context)
        # The table and its buttons, named here too: the page's tests and screenshots use them.
        self.stored = self.stored_panel.table
        self.rename_button = self.stored_panel.rename_button
        self.delete_button = self.stored_panel.delete_button
        self.train_button = self.stored_panel.train_button

        # The file being read and the vault's list share the height; the user drags the line
        # between them (a long preview or a long list), and neither can be squeezed away.
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.stack)
        self.split.addWidget(self.stored_panel)  # with its "In the vault" title
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        self.layout_.addLayout(top)
        self.layout_.addWidget(self.split, 1)

    def _build_draft_view(self) -> QWidget:
        """A file read into memory: column roles, the preview, labels, problems and fixes."""
        draft = QWidget()
        draft_layout = QVBoxLayout(draft)
        draft_layout.setContentsMargins(0, 0, 0, 0)
        self.file_label = QLabel()
        self.file_label.setObjectName("fileLabel")
        self.text_combo = QComboBox()
        self.label_combo = QComboBox()
        self.skip_box = QCheckBox("Leave out rows with empty text, no label, or that cannot be read")
        for combo in (self.text_combo, self.label_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumWidth(140)
            combo.activated.connect(self._revalidate)
        self.skip_box.toggled.connect(self._revalidate)
        # Multi-label data ("billing|urgent"): the labels of a row are split on the delimiter.
        self.multi_box = QCheckBox("Several labels per row, separated by")
        self.delimiter_edit = QLineEdit("|")
        self.delimiter_edit.setMaximumWidth(36)
        self.delimiter_edit.setMaxLength(3)
        self.delimiter_edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.delimiter_edit.setToolTip("What separates the labels of one row, such as | or ;")
        self.delimiter_edit.setAccessibleName("Label separator")
        self.multi_box.toggled.connect(self._revalidate)
        self.delimiter_edit.editingFinished.connect(
            lambda: self._revalidate() if self.multi_box.isChecked() else None)
        # An Excel workbook's sheet, a legacy CSV's encoding: read again as the user chooses.
        self.reading = ReadingBoxes()
        self.sheet_combo, self.encoding_combo = self.reading.sheet, self.reading.encoding
        self.reading.reread.connect(self._reread)
        roles = QHBoxLayout()
        roles.addWidget(self.reading)
        roles.addWidget(label_for("Text column:", self.text_combo))
        roles.addWidget(self.text_combo)
        roles.addSpacing(16)
        roles.addWidget(label_for("Label column:", self.label_combo))
        roles.addWidget(self.label_combo)
        roles.addStretch(1)
        reading = QHBoxLayout()  # how the rows are read: on a line of their own, so none is cut
        reading.addWidget(self.skip_box)
        reading.addSpacing(16)
        reading.addWidget(self.multi_box)
        reading.addWidget(self.delimiter_edit)
        reading.addStretch(1)

        split = self._build_preview_split()

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Dataset name")
        self.name_edit.setMaximumWidth(280)
        self.name_edit.returnPressed.connect(lambda: self.import_button.click())  # Enter imports
        self.import_button = QPushButton(icon("datasets"), "Import into vault")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.import_draft)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.clear_draft)
        actions = QHBoxLayout()
        actions.addWidget(label_for("Name:", self.name_edit))
        actions.addWidget(self.name_edit)
        actions.addWidget(self.import_button)
        actions.addWidget(self.discard_button)
        actions.addStretch(1)
        draft_layout.addWidget(self.file_label)
        draft_layout.addLayout(roles)
        draft_layout.addLayout(reading)
        draft_layout.addWidget(split, 1)
        draft_layout.addLayout(actions)
        return draft

    def _build_preview_split(self) -> QSplitter:
        self.table = preview_view(self.model)
        self._text_width: TextColumnWidth | None = None
        self.chart = BarChart(max_bars=500)
        self.chart.setAccessibleName("Rows per label")
        self.chart_scroll = chart_scroll = QScrollArea()
        chart_scroll.setAccessibleName("Rows per label")
        chart_scroll.setWidgetResizable(True)
        chart_scroll.setWidget(self.chart)
        chart_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.problems = tab_leaves(QListWidget(), "Problems")
        self.problems.setWordWrap(True)
        self.problems.itemClicked.connect(self._on_problem_clicked)
        self.problems.itemActivated.connect(self._on_problem_clicked)
        side = QWidget()
        self.side_layout = side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        # The problems and their Fix buttons first: they are what must be acted on, and on a
        # 1024x640 screen, below the labels, they were out of sight.
        self.problems_title = section("Problems")
        side_layout.addWidget(self.problems_title)
        # One "Fix" button per problem group (desktop.pages.fixes_panel).
        self.fixes_panel = FixesPanel()
        self.fixes_panel.fix_chosen.connect(self.apply_fix)
        self.fixes_panel.after_fix = self.problems
        side_layout.addWidget(self.fixes_panel)
        side_layout.addWidget(self.problems, 3)
        self.labels_title = section("Labels")
        side_layout.addWidget(self.labels_title)
        side_layout.addWidget(chart_scroll, 2)
        # On a small screen the labels, fixes and problems need more height than there is: the
        # column scrolls instead of squeezing the Fix buttons into unreadable slivers.
        chart_scroll.setMinimumHeight(72)
        self.problems.setMinimumHeight(72)
        self.side_scroll = side_scroll = ColumnScroll(side)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(side_scroll)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([640, 400])
        return split

    def _build_top_bar(self) -> WorkBar:
        self.bar = WorkBar(self._open_dialog, self._cancel_job)
        self.open_button, self.progress, self.status = self.bar.open_button, self.bar.progress, self.bar.status
        return self.bar

    def _cancel_job(self) -> None:
        """Cancel (shown while a file is read): it stops at its next step, its rows dropped."""
        if self._job is not None and self._job.is_running():
            self._job.cancel()
            self.bar.cancel_button.setEnabled(False)
            self._say("Stopping…")

    # --- lifecycle ---------------------------------------------------------------------------
    def on_workspace(self, workspace: Vault | None) -> None:
        self.clear_draft()
        self.refresh_stored()

    def on_shown(self) -> None:
        self.refresh_stored()

    def clear_draft(self) -> None:
        self.draft = None
        self.model.set_table(None)
        self.chart.set_values([])
        self.problems.clear()
        self.fixes_panel.set_options([], [])
        self.stack.setCurrentWidget(self.empty)
        self.status.clear()
        self.stored_panel.fit_in(self.split)

    # --- opening and validating --------------------------------------------------------------
    def _open_dialog(self) -> None:
        window = self.window()
        if hasattr(window, "open_file_dialog"):
            window.open_file_dialog()

    def open_path(self, path: Path) -> None:
        """Read, infer columns and validate in the worker; the preview appears when done."""
        self._run(lambda c: read_and_check(Path(path), cancel=c), name="read", message=f"Reading {Path(path).name}…")

    def _reread(self, option: dict) -> None:
        """The same file with another sheet or encoding (``ReadingBoxes``)."""
        now = {"sheet": self.draft.imported.sheet, "encoding": self.draft.imported.encoding} if self.draft else {}
        if not now or all(now[key] == value for key, value in option.items()):
            return
        path, what = self.draft.imported.source, " ".join(f"{k} {v!r}" for k, v in option.items())
        self._run(lambda _c: read_and_check(path, **option), name="read", message=f"Reading {path.name}, {what}…")

    def open_sample(self) -> None:
        from resources.paths import resource

        self.open_path(resource("sample_data", "sms_spam_sample.csv"))

    def _revalidate(self) -> None:
        if self.draft is None:
            return
        label = self.label_combo.currentData()
        imported, text, skip = self.draft.imported, self.text_combo.currentText(), self.skip_box.isChecked()
        history = self.draft.history
        delimiter = self._wanted_delimiter()
        typed = self.delimiter_edit.text()
        if self.multi_box.isChecked() and (not typed or any(c.isalnum() for c in typed)):
            # Empty, it was ignored without a word; a letter split "ham" into "h" and "m".
            self._say("Type the character that separates a row's labels, such as | or ; (not a "
                      "letter or digit, which would split the labels themselves).", error=True)
            return
        self._run(lambda _c: read_and_check(imported.source, text_column=text, label_column=label,
                                            skip_incomplete=skip, imported=imported,
                                            history=history, label_delimiter=delimiter,
                                            label_columns=self.draft.label_columns),
                  name="validate", message="Checking…")

    def _run(self, body, *, name: str, message: str) -> None:  # noqa: ANN001
        if self._job is not None and self._job.is_running():
            self.context.status_message.emit("Still working on the previous file; one moment.")
            return
        self.bar.start(steps=False)
        self.status.setText(message)
        self._set_editable(False)
        job = Job.call(body, name=name, parent=self)
        job.ended.connect(self._on_checked)
        self._job = job
        self.context.start(job)

    def _on_checked(self, terminal: object) -> None:
        self.bar.stop()
        self._set_editable(True)
        if self._job is not None and self._job.cancel_token.cancelled:
            self._say("Stopped: " + ("nothing was read in." if self._job.name == "read" else "nothing changed."))
            return
        if isinstance(terminal, Failed):
            self._say(terminal.message, error=True)
            self.fixes_panel.fix_failed(terminal.message)  # a refused fix: back on its button
            if self.draft is not None:  # a sheet or encoding that could not be read: as shown
                self.reading.show_for(self.draft.imported)
            return
        if isinstance(terminal, Done):
            self._say("")
            self.show_draft(terminal.value)

    def _roles_first(self, draft: ImportDraft) -> None:
        """Show the text and label columns first (on screen only: the model's columns, which the
        problems name, keep the file's order), so a wide export opens on what will be trained."""
        header = self.table.horizontalHeader()
        for logical in range(header.count()):  # the file's order, then the two moved to the front
            header.moveSection(header.visualIndex(logical), logical)
        wanted = [draft.text_column, *([draft.label_column] if draft.label_column else [])]
        for place, column in enumerate(wanted):
            if column in draft.columns:
                header.moveSection(header.visualIndex(draft.columns.index(column)), place)
        self.table.horizontalScrollBar().setValue(0)
        if draft.text_column in draft.columns:  # texts read best wide: 3/5 of the view, kept so
            self._text_width = TextColumnWidth.keep(self.table, draft.columns.index(draft.text_column),
                                                    self._text_width)

    def _say(self, text: str, *, error: bool = False) -> None:
        """The status line, in the error style when it reports a failure, and said aloud."""
        self.status.setText(text)
        say_aloud(text, on=self.status)
        self.status.setProperty("error", error)
        self.status.style().polish(self.status)

    def _set_editable(self, enabled: bool) -> None:
        for widget in (self.sheet_combo, self.encoding_combo, self.text_combo, self.label_combo, self.skip_box, self.multi_box,
                       self.delimiter_edit, self.import_button, self.open_button):
            widget.setEnabled(enabled)
        self.fixes_panel.set_busy(not enabled)
        if enabled and self.draft is not None:
            self.import_button.setEnabled(not self.draft.blocking())
            self._sync_reading_options()  # a refused change leaves the draft, and its options, as they were

    def show_draft(self, draft: ImportDraft) -> None:
        new_file = self.draft is None or self.draft.imported is not draft.imported
        self.draft = draft
        if new_file:
            self.model.set_table(draft.imported.table)
            if not draft.history:  # a fixed draft keeps the name the user may have typed
                self.name_edit.setText(draft.suggested_name())
        self.model.set_roles({draft.text_column: "text", **({draft.label_column: "label"} if draft.label_column else {})})
        self._roles_first(draft)
        imported = draft.imported
        details = [f"{draft.rows:,} rows", f"{len(draft.columns)} column{'s' * (len(draft.columns) != 1)}", imported.format.upper()]
        if imported.encoding:  # as the problem line names it: "Windows-1250 (Central European…)"
            details.append(LABELS.get(imported.encoding, imported.encoding).split(" (")[0])
        self.file_label.setText(f"<b>{html.escape(imported.source.name)}</b> — " + " · ".join(details))
        self.reading.show_for(imported)
        self.text_combo.blockSignals(True)
        self.label_combo.blockSignals(True)
        self.text_combo.clear()
        self.text_combo.addItems(draft.columns)
        self.text_combo.setCurrentText(draft.text_column)
        self.label_combo.clear()
        self.label_combo.addItem("(none: choose the column of labels)", None)
        for column in draft.columns:
            self.label_combo.addItem(column, column)
        self.label_combo.setCurrentIndex(max(0, self.label_combo.findData(draft.label_column)) if draft.label_column else 0)
        self._sync_reading_options(new_file=new_file)
        self.text_combo.blockSignals(False)
        self.label_combo.blockSignals(False)
        counts = draft.label_counts()
        self.labels_title.setText(f"Labels ({draft.classes})" if counts else "Labels")
        self.chart.set_values(counts)
        # A few labels need little room: give the rest to the problems list.
        limit = 320 if draft.problems else 16_777_215  # no problems: the labels may take the room
        self.chart_scroll.setMaximumHeight(min(self.chart.sizeHint().height() + 12, limit))
        self.side_layout.setStretch(self.side_layout.indexOf(self.chart_scroll), 2 if draft.problems else 6)
        self._show_problems(draft.problems)
        self.fixes_panel.set_options(draft.fix_options, draft.history)
        # Tab reads the page as it is laid out: the rows, the side column, then Name and Import.
        chain_tabs(self.table, *self.fixes_panel.buttons, self.problems, self.chart_scroll,
                   self.name_edit, self.import_button)
        self.stack.setCurrentIndex(1)
        # A file being read gets the height; the vault's list keeps what its buttons need.
        vault = self.split.widget(1).minimumSizeHint().height()
        self.split.setSizes([max(1, sum(self.split.sizes()) - vault), vault])
        blocking = draft.blocking()
        self.import_button.setEnabled(not blocking)
        # "click one to see its row" only where an error has a row to show ("no label column
        # was found" has none, and clicking it did nothing).
        with_rows = any(p.blocking and p.row is not None for p in draft.problems)
        self.status.setText(("Fix the errors (✖) before importing"
                             + (": click one to see its row." if with_rows else ".")) if blocking
                            else "Ready to import. Nothing is stored until you import.")

    def _sync_reading_options(self, *, new_file: bool = False) -> None:
        """The multi-label box and delimiter as the draft was read (no revalidation). Without a
        label column they do not apply: greyed, they keep the user's choice for when one returns
        (a new file starts afresh)."""
        if self.draft is None:
            return
        labelled = self.draft.label_column is not None
        if labelled or new_file:
            self.multi_box.blockSignals(True)
            self.multi_box.setChecked(self.draft.label_delimiter is not None)
            self.multi_box.blockSignals(False)
            if self.draft.label_delimiter:
                self.delimiter_edit.setText(self.draft.label_delimiter)
        lock_reading_options(self, labelled)  # locked, saying why, for labels read from 0/1 columns

    def _wanted_delimiter(self) -> str | None:
        return (self.delimiter_edit.text() or None) if self.multi_box.isChecked() else None

    def _show_problems(self, problems: list[Any]) -> None:
        self.problems_title.setText(problems_title(problems))
        fill_problem_list(self.problems, problems)

    def _on_problem_clicked(self, item: QListWidgetItem) -> None:
        """Select the offending row (and column) in the preview and scroll to it."""
        problem = item.data(Qt.ItemDataRole.UserRole)
        if hint_click(self, problem):  # a hint that says how to read the labels reads them so
            return
        cell = problem_cell(self.draft, problem, self.model.rowCount())
        if cell is None:
            return
        index = self.model.index(*cell)
        self.table.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def apply_fix(self, option: Any) -> None:
        """Apply a fix to the draft in memory (worker); a refusal is shown and changes nothing."""
        if self.draft is None:
            return
        draft, skip = self.draft, self.skip_box.isChecked()
        self._run(lambda _c: fix_draft(draft, option.fix, skip_incomplete=skip), name="fix",
                  message=f"{option.label}…")

    # --- importing ---------------------------------------------------------------------------
    def import_draft(self) -> None:
        if self.draft is None or self.workspace is None or self.draft.blocking():
            return
        if self.draft.label_column and self._wanted_delimiter() != self.draft.label_delimiter:
            # A delimiter typed but not yet checked (the field's edit ends only when it loses
            # focus, which a click on a button does not take on every platform): check first.
            self._revalidate()
            return
        name = self.name_edit.text().strip()
        if not name:
            self._say("Give the dataset a name first.", error=True)
            return
        from desktop.jobs import save_draft
        from engine.data.store import dataset_exists
        from engine.errors import InputError

        # Before anything is encrypted: a bad or taken name is said at once.
        try:
            replace = dataset_exists(self.workspace, name)
        except InputError as exc:
            self._say(f"{str(exc)[:1].upper()}{str(exc)[1:]}", error=True)
            return
        if replace and QMessageBox.question(
                self, "Replace dataset?",
                f"A dataset named “{name}” is already in the vault.\n\nReplace it with this file? "
                "Runs trained on it keep their models, but can no longer be resumed or "
                "re-evaluated on it. Cancel to choose another name.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Yes:
            self._say(f"Not imported: “{name}” is taken. Choose another name.", error=True)
            self.name_edit.setFocus()
            self.name_edit.selectAll()
            return
        draft, workspace, skip = self.draft, self.workspace, self.skip_box.isChecked()
        self.bar.start(steps=True)
        self._say(f"Encrypting and storing {name}…")
        self._set_editable(False)
        job = Job(lambda cancel: save_draft(workspace, name, draft, skip_incomplete=skip, cancel=cancel,
                                            overwrite=replace), name="import", parent=self)
        job.events.connect(self._on_import_progress)
        job.ended.connect(self._on_imported)
        self._job = job
        self.context.start(job)

    def _on_import_progress(self, events: list[object]) -> None:
        for event in events:
            if isinstance(event, Progress) and event.total:
                self.progress.setValue(int(100 * event.done / event.total))

    def _on_imported(self, terminal: object) -> None:
        self.bar.stop()
        self._set_editable(True)
        if isinstance(terminal, Done):
            info = terminal.value
            self.clear_draft()
            self._say(f"Imported {info.name} into the vault. The original file was not copied.")
            self.refresh_stored()
            self.context.datasets_changed.emit()
            self.select_stored(info.name)  # its Train on it, Privacy… buttons ready at once
            self.stored_panel.train_button.setFocus()  # not "Use the sample data", Qt's pick
        elif isinstance(terminal, Failed):
            self._say(f"Not imported: {terminal.message}", error=True)

    # --- stored datasets (desktop.pages.stored) -----------------------------------------------
    def refresh_stored(self) -> None:
        self.stored_panel.refresh(self.workspace)
        if self.draft is None:  # no file open: the list gets the height its rows need
            self.stored_panel.fit_in(self.split)

    def select_stored(self, name: str) -> bool:
        return self.stored_panel.select(name)

    def sizeHint(self) -> QSize:
        return QSize(1000, 700)
