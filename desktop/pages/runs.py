"""Runs page: the history of every run with status and key metrics; compare two or more runs
side by side (a metrics table and their curves overlaid)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton, QSplitter,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop.accessible import label_for, tab_leaves
from desktop.icons import icon
from desktop.keys import key_text, select_more_key
from desktop.pages.base import Page, section
from desktop.state import format_duration, format_metric, history_curves, local_time
from engine.runs import privacy_said
from desktop.widgets.curves import CurvePlot
from engine.evaluation.metrics import accuracy_interval_text, intervals_overlap
from engine.units import rate_text

if TYPE_CHECKING:
    from engine.vault import Vault

COLUMNS = ["Run", "Dataset", "Status", "Started", "Duration", "Accuracy", "Macro F1", "Device"]


def _status(record: Any) -> str:
    return record.status.value


COMPARE_HINT = f"Select two or more runs ({select_more_key()}+click) to compare them."
COMPARE_READY = "Compare selected shows the chosen runs side by side, with their curves."
STALE_MARK = "is recorded as running"
TRAINED_ELSEWHERE = "is being trained by another Cloister window or a `cloister` command"


class RunsPage(Page):
    title = "Runs"
    icon_name = "runs"

    def __init__(self, context, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(context, parent)
        self.records: list[Any] = []
        # Whether a "running" record may be deleted depends on whether this window trains: look
        # again once a started job is registered (busy_changed fires just before) or has ended.
        context.busy_changed.connect(lambda _busy: QTimer.singleShot(0, self._on_selection))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        # Enter opens it too (`activated` would also fire on the double-click, opening it twice,
        # and on a single click where the platform opens items so, defeating Ctrl+click).
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QShortcut(QKeySequence(key), self.table, self.open_selected,
                      context=Qt.ShortcutContext.WidgetShortcut)
        tab_leaves(self.table, "Runs")
        self.open_button = QPushButton(icon("results"), "Open results")
        self.open_button.clicked.connect(self.open_selected)
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.clicked.connect(self.compare_selected)
        self.resume_button = QPushButton(icon("train"), "Resume")
        self.resume_button.setToolTip("Continue a cancelled or failed run from its last checkpoint")
        self.resume_button.clicked.connect(self.resume_selected)
        self.export_button = QPushButton(icon("export"), "Export…")
        self.export_button.setToolTip(f"Export the selected run's model ({key_text('Ctrl+E')})")
        self.export_button.clicked.connect(self.export_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete the selected runs: their models, reports (which quote "
                                      "test rows) and checkpoints")
        self.delete_button.clicked.connect(self.delete_selected)
        # On a line of its own, wrapped: beside the buttons it made the page wider than the
        # window (and was cut off) once the longer hints came.
        self.hint = QLabel(COMPARE_HINT)
        self.hint.setWordWrap(True)
        # Runs whose record cannot be read: not in the table (nothing about them can be shown),
        # named here with a way to delete them (they may hold rows of any dataset).
        self.unreadable: list[tuple[str, str]] = []
        self.unreadable_note = QLabel("")
        self.unreadable_note.setWordWrap(True)
        self.delete_unreadable_button = QPushButton("Delete unreadable runs…")
        self.delete_unreadable_button.clicked.connect(self.delete_unreadable)
        unreadable_row = QHBoxLayout()
        unreadable_row.addWidget(self.unreadable_note, 1)
        unreadable_row.addWidget(self.delete_unreadable_button)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.compare_button, self.resume_button,
                       self.export_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.compare_table = QTableWidget(0, 0)
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        tab_leaves(self.compare_table, "Runs compared")
        self.curve_choice = QComboBox()
        self.curve_choice.currentTextChanged.connect(lambda _t: self._draw_curves())
        self.curves = CurvePlot(title="Curves", y_label="value",
                                empty_text="Select runs and press Compare selected to see their curves.",
                                smooth=lambda _name: self.curve_choice.currentText() == "loss")
        curves_box = QWidget()
        curves_layout = QVBoxLayout(curves_box)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        choice_row = QHBoxLayout()
        choice_row.addWidget(label_for("Curve:", self.curve_choice))
        choice_row.addWidget(self.curve_choice, 1)
        curves_layout.addLayout(choice_row)
        curves_layout.addWidget(self.curves, 1)
        compare = QSplitter(Qt.Orientation.Horizontal)
        compare.addWidget(self.compare_table)
        compare.addWidget(curves_box)
        compare.setSizes([560, 460])  # the settings table's run names need the width
        self.compared: list[Any] = []
        # Said when the best accuracy is within what the test splits can measure of another's.
        self.compare_note = QLabel("")
        self.compare_note.setWordWrap(True)

        self.layout_.addWidget(self.table, 3)
        self.layout_.addLayout(buttons)
        self.layout_.addWidget(self.hint)
        self.layout_.addLayout(unreadable_row)
        self.layout_.addWidget(section("Comparison"))
        self.layout_.addWidget(self.compare_note)
        self.layout_.addWidget(compare, 4)
        context.runs_changed.connect(self.refresh)
        self._say_unreadable()
        self._on_selection()

    def on_workspace(self, workspace: Vault | None) -> None:
        self.compared = []
        self.compare_table.setRowCount(0)
        self.compare_table.setColumnCount(0)
        self.compare_note.setText("")
        self.curves.clear()
        self.refresh()

    def on_shown(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.table.setRowCount(0)
        self.records, self.unreadable = [], []
        self._say_unreadable()
        if self.workspace is None:
            return
        from desktop.jobs import dataset_labels, runs_and_unreadable

        named: dict[str, str] = {}
        try:
            self.records, self.unreadable = runs_and_unreadable(self.workspace)
            named = dataset_labels(self.workspace, self.records)
        except Exception as exc:  # noqa: BLE001
            self.hint.setText(f"Could not read the run history: {exc}")
        self._say_unreadable()
        for record in self.records:
            row = self.table.rowCount()
            self.table.insertRow(row)
            values = [record.run_id, named.get(record.run_id, record.dataset), _status(record), local_time(record.created),
                      format_duration(record.duration_seconds) if record.duration_seconds else "—",
                      format_metric(record.metrics.get("accuracy")), format_metric(record.metrics.get("macro_f1")),
                      record.device or "—"]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column in (4, 5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 2 and record.error:
                    item.setToolTip(record.error)
                if column == 5 and record.test_rows and "accuracy" in record.metrics:
                    item.setToolTip(_list_tip(record))
                self.table.setItem(row, column, item)
        if not self.records and self.workspace is not None:
            self.hint.setText("No runs yet: each training you start on the Train page is listed "
                              "here, finished, failed or cancelled.")
        elif self.hint.text().startswith("No runs yet"):
            self.hint.setText(COMPARE_HINT)
        self._on_selection()

    def _say_unreadable(self) -> None:
        ids = [run_id for run_id, _ in self.unreadable]
        self.unreadable_note.setVisible(bool(ids))
        self.delete_unreadable_button.setVisible(bool(ids))
        if ids:
            self.unreadable_note.setText(
                f"⚠ {len(ids)} run{'s' * (len(ids) != 1)} cannot be read ({', '.join(ids[:3])}"
                f"{', …' if len(ids) > 3 else ''}): "
                + ("their records are damaged, so what they were trained on cannot be told, and "
                   "their models and reports may hold rows of any dataset. Delete them"
                   if len(ids) > 1 else "its record is damaged, so what it was trained on "
                   "cannot be told, and its model and report may hold rows of any dataset. "
                   "Delete it") + ", or restore the workspace from a backup.")
            self.unreadable_note.setToolTip("\n".join(f"{run_id}: {why}" for run_id, why in self.unreadable))

    def delete_unreadable(self) -> None:
        if not (ids := [run_id for run_id, _ in self.unreadable]) or self.workspace is None:
            return
        answer = QMessageBox.question(
            self, "Delete unreadable runs",
            f"Delete {len(ids)} run(s) whose records cannot be read: {', '.join(ids[:5])}"
            f"{' and more' if len(ids) > 5 else ''}?\n\nEverything stored for them (a model, a "
            "test report quoting rows, a checkpoint) is removed from the vault. This cannot be "
            "undone.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        from desktop.jobs import delete_unreadable_runs
        try:
            delete_unreadable_runs(self.workspace, ids)
        except Exception as exc:  # noqa: BLE001 - show the engine's message, keep the list
            QMessageBox.warning(self, "Cloister", str(exc))
        self.context.runs_changed.emit()

    def selected(self) -> list[Any]:
        return [self.records[index.row()] for index in self.table.selectionModel().selectedRows()]

    def _on_selection(self) -> None:
        chosen = self.selected()
        self.open_button.setEnabled(len(chosen) == 1 and chosen[0].has_model)
        self.export_button.setEnabled(len(chosen) == 1 and chosen[0].has_model)
        self.compare_button.setEnabled(len(chosen) >= 2)
        resumable = len(chosen) == 1 and chosen[0].resumable
        # A run stopped before its first checkpoint has nothing to continue from.
        saved = resumable and self._has_checkpoint(chosen[0].run_id)
        self.resume_button.setEnabled(saved)
        self.resume_button.setToolTip(
            "Continue a cancelled or failed run from its last checkpoint" if saved or not resumable
            else "This run stopped before its first checkpoint: start a new run instead")
        # A run shown as running is being trained, here or by another window or command (a run
        # whose process died shows as failed: ``engine.runs``): cancel it there first. Where
        # the lock files cannot be read, nobody can tell: the user is asked.
        stale = self._stale(chosen)
        elsewhere = [r for r in stale if self._trained_elsewhere(r)]
        blocked = bool(stale) and (self._training_here() or bool(elsewhere))
        self.delete_button.setEnabled(bool(chosen) and not blocked)
        if elsewhere and not self._training_here():
            self.hint.setText(f"Run {elsewhere[0].run_id} {TRAINED_ELSEWHERE}: cancel it there "
                              "to resume or delete it here.")
        elif stale and not self._training_here():
            self.hint.setText(f"Run {stale[0].run_id} {STALE_MARK}, but this window is "
                              "not training it: Cloister was closed or killed while it trained, "
                              "unless a `cloister train` command is training it now. Delete… "
                              "removes it.")
        elif len(chosen) >= 2 and self.hint.text() == COMPARE_HINT:
            self.hint.setText(COMPARE_READY)  # the hint no longer asks for what was done
        elif len(chosen) < 2 and self.hint.text() == COMPARE_READY or \
                STALE_MARK in self.hint.text() or TRAINED_ELSEWHERE in self.hint.text():
            self.hint.setText(COMPARE_HINT)

    def _has_checkpoint(self, run_id: str) -> bool:
        from engine.training.checkpoint import checkpoint_key

        return self.workspace is not None and self.workspace.has(checkpoint_key(run_id))

    def _training_here(self) -> bool:
        return self.context.jobs.busy("train")

    def _trained_elsewhere(self, record: Any) -> bool:
        from engine.run_claims import is_being_trained

        return self.workspace is not None and not self._training_here() \
            and bool(is_being_trained(self.workspace, record.run_id))

    @staticmethod
    def _stale(records: list[Any]) -> list[Any]:
        return [r for r in records if r.status.value == "running"]

    def delete_selected(self) -> None:
        chosen = self.selected()
        if not chosen or self.workspace is None:
            return
        names = ", ".join(r.run_id for r in chosen[:3]) + (f" and {len(chosen) - 3} more" if len(chosen) > 3 else "")
        stale = self._stale(chosen)
        if stale and self._training_here():
            return  # the button is disabled: this window may be training it
        caveat = (f"\n\n{', '.join(r.run_id for r in stale)} is recorded as running, but this "
                  "window is not training it: it was left so when Cloister was closed or killed. "
                  "If a `cloister train` command is training it right now, cancel that first."
                  if stale else "")
        answer = QMessageBox.question(
            self, "Delete runs",
            f"Delete {len(chosen)} run(s): {names}?\n\nTheir models, test reports (which quote test "
            f"rows) and checkpoints are removed from the vault. This cannot be undone.{caveat}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        from desktop.jobs import delete_runs

        try:
            delete_runs(self.workspace, [r.run_id for r in chosen], force=bool(stale),
                        seen={r.run_id: r.status.value for r in chosen})
        except Exception as exc:  # noqa: BLE001 - show the engine's message, keep the list
            QMessageBox.warning(self, "Cloister", str(exc))
        self.context.runs_changed.emit()
        if any(r in chosen for r in self.compared):
            self.compare([r for r in self.compared if r not in chosen])

    def resume_selected(self) -> None:
        chosen = self.selected()
        window = self.window()
        if len(chosen) == 1 and hasattr(window, "train_page"):
            window.show_page("train")
            window.train_page.resume(chosen[0].run_id)

    def open_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1 and chosen[0].has_model:
            self.context.run_selected.emit(chosen[0].run_id)

    def export_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1 or not chosen[0].has_model or self.workspace is None:
            self.context.status_message.emit(
                "Select one finished run to export." if len(chosen) != 1 else
                f"Run {chosen[0].run_id} has no model to export ({_status(chosen[0])}).")
            return
        from desktop.dialogs.export import export_run

        export_run(self.context, chosen[0].run_id, self)

    def select_runs(self, run_ids: list[str]) -> None:
        self.table.clearSelection()
        for row, record in enumerate(self.records):
            if record.run_id in run_ids:
                self.table.selectionModel().select(
                    self.table.model().index(row, 0),
                    self.table.selectionModel().SelectionFlag.Select | self.table.selectionModel().SelectionFlag.Rows,
                )

    def compare_selected(self) -> None:
        self.compare(self.selected())

    def compare(self, records: list[Any]) -> None:
        """Metrics in rows, runs in columns; then the chosen curve for each run, overlaid."""
        self.compared = list(records)
        from engine.evaluation.metrics import headline_metrics

        shown = [m for m in headline_metrics() if any(m.name in r.metrics for r in records)]
        metric_rows = [(m.name, m.title) for m in shown]
        extra = [("epochs", "Epochs"), ("learning_rate", "Learning rate"), ("batch_size", "Batch size"),
                 ("max_length", "Max length"), ("long_texts", "Long texts")]
        self.compare_table.setColumnCount(len(records))
        labels = compare_labels(records)
        for column, (record, label) in enumerate(zip(records, labels)):
            header = QTableWidgetItem(label)
            header.setToolTip(f"Run {record.run_id}")
            self.compare_table.setHorizontalHeaderItem(column, header)
        # Equal widths, but never narrower than a run's name: squeezed, "12-07 12:50:38" read
        # "l2-07 12:50:3"; the table scrolls instead.
        metrics = self.compare_table.horizontalHeader().fontMetrics()
        self.compare_table.horizontalHeader().setMinimumSectionSize(
            max((metrics.horizontalAdvance(label) for label in labels), default=0) + 24)
        # A DP run beside a plain one is not the same kind of model: said in its own row.
        privacy = [("privacy", "Privacy (DP)")] if any(r.privacy for r in records) else []
        rows = [("dataset", "Dataset")] + privacy + metric_rows + extra + [("duration", "Duration")]
        self.compare_table.setRowCount(len(rows))
        self.compare_table.setVerticalHeaderLabels([title for _, title in rows])
        # "Best" the right way round: the lowest calibration error, the highest accuracy.
        best = {m.name: m.best([r.metrics[m.name] for r in records if m.name in r.metrics]) for m in shown}
        measured = self._test_sizes(records)
        from dataclasses import fields

        from engine.training.config import TrainConfig

        defaults = {f.name: f.default for f in fields(TrainConfig)}
        for column, record in enumerate(records):
            for row, (key, _title) in enumerate(rows):
                if key == "dataset":
                    text = record.dataset
                elif key == "privacy":
                    dp = record.privacy or {}
                    text = (f"ε {dp['epsilon_spent']:.2f} of {dp['epsilon_target']:g}, "
                            + ("per person" if dp.get("person_column") else "per row")) if dp else "none"
                elif key == "duration":
                    text = format_duration(record.duration_seconds)
                elif key in record.metrics:
                    text = format_metric(record.metrics[key])
                elif key == "learning_rate" and isinstance((record.config or {}).get(key), float):
                    text = rate_text(record.config[key])
                else:  # a setting older runs did not record: the default they trained with
                    text = str((record.config or {}).get(key, defaults.get(key, "—")))
                item = QTableWidgetItem(text)
                if key in best and record.metrics.get(key) == best[key] and len(records) > 1:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    # Bold is not heard: a screen reader reads the cell's description.
                    item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, "the best of the runs compared")
                if key == "accuracy" and record.run_id in measured:
                    item.setToolTip(_interval_tip(measured[record.run_id]))
                if key == "privacy" and record.privacy:
                    item.setToolTip(privacy_said(record.privacy))
                self.compare_table.setItem(row, column, item)
        self.compare_note.setText(_too_close_to_call(list(measured.values())))
        names = sorted({name for r in records for name in history_curves(r.history)},
                       key=lambda n: (n != "loss", n))
        self.curve_choice.blockSignals(True)
        self.curve_choice.clear()
        self.curve_choice.addItems(names)
        self.curve_choice.blockSignals(False)
        self._draw_curves()

    def _test_sizes(self, records: list[Any]) -> dict[str, Measured]:
        """Each run's test accuracy and the number of test rows it was measured on."""
        from desktop.jobs import report

        measured = {}
        for record in records:
            if record.test_rows and "accuracy" in record.metrics and not _ungrouped(record):
                measured[record.run_id] = _recorded(record)  # recorded since 2026-12-05
                continue
            rep = report(self.workspace, record.run_id) if self.workspace is not None else None
            if rep is not None and rep.n > 0:
                measured[record.run_id] = Measured(rep.accuracy, rep.n, rep.interval_rows)
        return measured

    def _draw_curves(self) -> None:
        self.curves.clear()
        name = self.curve_choice.currentText()
        for record, label in zip(self.compared, compare_labels(self.compared)):
            curve = history_curves(record.history).get(name)
            if curve:
                self.curves.set_series(label, *curve)


def compare_labels(records: list[Any]) -> list[str]:
    """A short name for each compared run: the dataset and when it started, as the list shows
    it (a 24-character run id does not fit a column, and its cut ends look alike); the end of
    the id only where two would otherwise read the same. Runs of one dataset are named by
    their start alone: the dataset they share would only push the times out of a narrow
    column."""
    shared = len({r.dataset for r in records}) == 1

    def label(record: Any) -> str:
        started = local_time(record.created, "%m-%d %H:%M:%S")  # "12-05 20:36:27"
        if not started:
            return record.run_id
        return started if shared else f"{record.dataset} · {started}"

    labels = [label(r) for r in records]
    return [f"{text} · {r.run_id.rsplit('-', 1)[-1]}" if labels.count(text) > 1 else text
            for r, text in zip(records, labels)]


class Measured(NamedTuple):
    """A run's test accuracy, its test rows, and what they are worth as independent rows."""

    accuracy: float
    rows: int
    interval_rows: float


def _ungrouped(record: Any) -> bool:
    """A per-person run recorded before its effective test rows were kept."""
    return bool((record.privacy or {}).get("person_column")) and record.test_effective_rows is None


def _recorded(record: Any) -> Measured:
    return Measured(record.metrics["accuracy"], record.test_rows,
                    record.test_effective_rows or record.test_rows)


def _too_close_to_call(measured: list[Measured]) -> str:
    """A warning when the two best accuracies' 95% intervals overlap, else nothing."""
    if len(measured) < 2:
        return ""
    (best, _, n_best), (second, _, n_second) = sorted(measured, reverse=True)[:2]
    if not intervals_overlap(best, n_best, second, n_second):
        return ""
    return (f"The two best accuracies ({best:.3f} and {second:.3f}) are within what their test "
            "splits can measure (their 95% intervals overlap; hover over an accuracy to see its "
            "interval): this comparison cannot tell which run is better.")


def _interval_tip(measured: Measured) -> str:
    """Accuracy's 95% interval on the test rows; a run whose test split holds whole people
    (DP per person) counts them as the independent rows they are worth (``report.py``)."""
    tip = f"{accuracy_interval_text(measured.accuracy, measured.interval_rows)} on {measured.rows:,} test rows"
    if measured.interval_rows != measured.rows:
        tip += f" grouped by person, worth about {measured.interval_rows:,.0f} independent rows"
    return tip


def _list_tip(record: Any) -> str:
    """The run list's tooltip: the recorded interval; for a per-person run recorded before the
    effective rows were kept, the old caveat and how to measure it (`cloister evaluate`)."""
    tip = _interval_tip(_recorded(record))
    if _ungrouped(record):
        tip += (" (grouped by person: not independent, so the true interval is wider; "
                f"`cloister evaluate {record.run_id}` measures it)")
    return tip

