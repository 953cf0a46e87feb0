"""Results page: headline metrics, per-class table, confusion heat map, misclassified browser,
and the run's training curves. Everything shown comes decrypted from the vault into memory."""
from __future__ import annotations

import html
from typing import Any, TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QPushButton,
    QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from desktop.accessible import label_for, tab_leaves
from desktop.icons import icon
from desktop.pages.base import Page, run_choice
from desktop.state import format_metric, headline, history_curves
from desktop.widgets.charts import HeatMap, scrolled_heat_map
from desktop.widgets.curves import CurvePlot
from desktop.worker import Done, Job
from engine.evaluation.report import UNTESTED_NOTE
from engine.events import Failed
from engine.runs import privacy_said
from engine.units import count_of

if TYPE_CHECKING:
    from engine.vault import Vault


CURVES_SHOWN = ("loss", "val loss", "val accuracy", "val macro_f1")


def _cell(value: Any, *, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(str(value))
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.setSortingEnabled(False)
    return table


class MetricCard(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.value = QLabel("—")
        self.value.setObjectName("metricValue")
        self.caption = QLabel(title)
        self.caption.setObjectName("metricCaption")
        self.title = title
        layout.addWidget(self.value)
        layout.addWidget(self.caption)


class ResultsPage(Page):
    title = "Results"
    icon_name = "results"

    def __init__(self, context, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(context, parent)
        self.run_id: str | None = None
        self._before_lock: str | None = None  # the run shown when the vault was locked
        self.report: Any = None
        self.record: Any = None
        self.scored: str | None = None  # the dataset the report shown scores, None: the test split
        self._digests: dict[str, str] = {}  # each dataset's contents as last listed
        self._scored_digest: str | None = None  # the scored dataset's, when it was scored
        # The run's model on other labelled data of the vault (this month's rows, another
        # team's): `cloister evaluate RUN --data NAME`, here.
        self.scored_on = QComboBox()
        # Sized to its items whenever they change: sized once, on a first show before any run
        # existed, it cut "its test split" to "its test s".
        self.scored_on.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.scored_on.setToolTip("Score the run's model on another dataset of the vault (its "
                                  "labels must be among the run's); the run's own report stays")
        self.scored_on.activated.connect(lambda _i: self.score_on(self.scored_on.currentData()))
        self._asked = 0  # bumped by each run shown or scoring asked: a late answer is dropped
        self.run_combo = run_choice()
        self.run_combo.activated.connect(lambda _i: self.show_run(self.run_combo.currentData()))
        self.export_button = QPushButton(icon("export"), "Export…")
        self.export_button.clicked.connect(self.export_current)
        self.try_button = QPushButton(icon("tryit"), "Try it")
        self.try_button.clicked.connect(self._try_it)
        # Two rows: in one, at 1024 px the two pickers and buttons squeezed the run's name
        # until its accuracy was cut off.
        picked = QHBoxLayout()
        picked.addWidget(label_for("Run:", self.run_combo))
        picked.addWidget(self.run_combo)
        picked.addStretch(1)
        picked.addWidget(self.try_button)
        picked.addWidget(self.export_button)
        scored = QHBoxLayout()
        scored.addWidget(label_for("Scored on:", self.scored_on))
        scored.addWidget(self.scored_on)
        scored.addStretch(1)
        top = QVBoxLayout()
        top.addLayout(picked)
        top.addLayout(scored)

        self.cards = {key: MetricCard(title) for key, title in headline()}
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        cards = QHBoxLayout()
        for card in self.cards.values():
            cards.addWidget(card)
        cards.addStretch(1)

        self.per_class = tab_leaves(_table(["Label", "Precision", "Recall", "F1", "Support"]),
                                    "Scores per class")
        self.per_class.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Long labels: one line, cut in the middle (wrapped, two labels sharing a long start
        # were cut at their ends and read the same).
        self.per_class.setWordWrap(False)
        self.per_class.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.heatmap = HeatMap()
        self.heatmap.cell_clicked.connect(self._filter_misclassified)
        overview = QSplitter(Qt.Orientation.Horizontal)
        overview.addWidget(self.per_class)
        overview.addWidget(scrolled_heat_map(self.heatmap))
        overview.setChildrenCollapsible(False)  # the scores are never dragged out of reach
        overview.setSizes([480, 520])

        self.misclassified = tab_leaves(_table(["Text", "True label", "Predicted", "Confidence"]),
                                        "Misclassified test rows")
        self.misclassified.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.misclassified.setWordWrap(True)
        self.misclassified.setSortingEnabled(True)
        self.filter_label = QLabel("")
        self.clear_filter = QPushButton("Show all")
        self.clear_filter.clicked.connect(lambda: self._fill_misclassified(None))
        wrong = QWidget()
        wrong_layout = QVBoxLayout(wrong)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.filter_label, 1)
        filter_row.addWidget(self.clear_filter)
        wrong_layout.addLayout(filter_row)
        wrong_layout.addWidget(self.misclassified)

        self.curves = CurvePlot(title="Training curves", y_label="value",
                                empty_text="The chosen run's training curves appear here.",
                                smooth=lambda name: name == "loss")
        self.tabs = QTabWidget()
        self.tabs.addTab(overview, "Per class and confusion")
        self.tabs.addTab(wrong, "Misclassified")
        self.tabs.addTab(self.curves, "Curves")

        self.empty = QLabel("No finished run yet. Train a model on the Train page.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_.addLayout(top)
        self.layout_.addLayout(cards)
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.tabs, 1)
        self.layout_.addWidget(self.empty, 1)
        context.runs_changed.connect(self.refresh_runs)
        # An erasure (the Forget dialog) takes quoted rows out of stored reports.
        context.datasets_changed.connect(self._datasets_changed)
        self._set_empty(True)

    # --- lifecycle ---------------------------------------------------------------------------
    def on_workspace(self, workspace: Vault | None) -> None:
        if workspace is None and self.run_id:  # an id, not data: unlocking shows it again
            self._before_lock = self.run_id
        self.run_id, self.report, self.record, self.scored = None, None, None, None
        self.scored_on.clear()
        self.refresh_runs()
        if workspace is None:
            # Locked: forget everything decrypted (metrics, labels, misclassified texts).
            self.per_class.setRowCount(0)
            self.misclassified.setRowCount(0)
            self.heatmap.set_matrix([], [])
            self.curves.clear()
            self.summary.clear()
            self._set_empty(True)

    def on_shown(self) -> None:
        self.refresh_runs()
        if self.run_id is None and not self.run_combo.count():
            # "No finished run yet. Train a model" read as if nothing had started.
            self.empty.setText(
                "A run is training: its results appear here when it finishes (the Train page "
                "shows its progress)." if self.context.jobs.busy("train")
                else "No finished run yet. Train a model on the Train page.")
        if self.run_id is None and self.run_combo.count():
            before = self.run_combo.findData(self._before_lock)
            self._before_lock = None  # used once, on the first showing after the unlock
            self.show_run(self.run_combo.itemData(max(0, before)))
        elif self.run_id is not None:
            self._fill_scored_on()  # datasets imported, renamed or deleted meanwhile
            self._reload_shown()

    def _datasets_changed(self) -> None:
        if self.run_id is not None:
            self._fill_scored_on()
            self._reload_shown()

    def _reload_shown(self) -> None:
        """The report shown, read again: an erasure here or by a `cloister forget` takes the
        person's quoted rows out of stored reports (this page kept showing them), and a dataset
        the run was scored on may have been stored again since (then its own report again)."""
        if self.run_id is None or self.workspace is None:
            return
        if self.scored is not None:
            if self._digests.get(self.scored) != self._scored_digest:
                self.score_on(None)
            return
        from desktop.jobs import report

        try:
            self.report = report(self.workspace, self.run_id)
        except Exception:  # noqa: BLE001 - deleted meanwhile: refresh_runs says so
            return
        self._render()

    def refresh_runs(self) -> None:
        self.run_combo.clear()
        if self.workspace is None:
            return
        from desktop.jobs import dataset_labels, runs

        try:
            records = [r for r in runs(self.workspace) if r.has_model]
            named = dataset_labels(self.workspace, records)
        except Exception:  # noqa: BLE001 - an unreadable history leaves the list empty
            records, named = [], {}
        for record in records:
            accuracy = format_metric(record.metrics.get("accuracy"))
            self.run_combo.addItem(f"{record.run_id} — {named[record.run_id]} — accuracy {accuracy}",
                                   record.run_id)
        if self.run_id is not None and self.run_combo.findData(self.run_id) < 0:
            # Deleted (the Runs page): its report, which quotes test rows, goes off the screen.
            gone, self.run_id, self.record, self.report = self.run_id, None, None, None
            self.summary.setText("")
            self.empty.setText(f"Run {gone} was deleted. Choose another run.")
            self._set_empty(True)
        if self.run_id is not None:
            self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(self.run_id)))

    def _set_empty(self, empty: bool) -> None:
        self.tabs.setVisible(not empty)
        self.empty.setVisible(empty)
        for card in self.cards.values():
            card.setVisible(not empty)
        self.export_button.setEnabled(not empty)
        self.try_button.setEnabled(not empty)

    # --- showing a run -----------------------------------------------------------------------
    def show_run(self, run_id: str | None) -> None:
        if not run_id or self.workspace is None:
            return
        from desktop.jobs import report, run_record

        try:
            record = run_record(self.workspace, run_id)
        except Exception as exc:  # noqa: BLE001 - shown, not raised
            self.summary.setText(f"Could not open run {run_id}: {exc}")
            return
        self.run_id, self.record, self.report = run_id, record, report(self.workspace, run_id)
        self.scored, self._asked = None, self._asked + 1
        listed = self.run_combo.findData(run_id)
        if listed >= 0:  # the list is current: this run chosen in it, no second read of every run
            self.run_combo.setCurrentIndex(listed)
        else:
            self.refresh_runs()
        self._fill_scored_on()
        self._render()

    def _fill_scored_on(self) -> None:
        from desktop.jobs import stored_datasets

        self.scored_on.clear()
        self.scored_on.addItem("its test split", None)
        try:
            infos = stored_datasets(self.workspace) if self.workspace else []
        except Exception:  # noqa: BLE001 - the test split is still offered
            infos = []
        self._digests = {info.name: info.sha256 for info in infos}
        for name in self._digests:
            self.scored_on.addItem(f"dataset {name}", name)
        if self.scored is not None and self.scored_on.findData(self.scored) < 0:
            self.score_on(None)  # renamed or deleted since: the run's own report again
        self.scored_on.setCurrentIndex(max(0, self.scored_on.findData(self.scored)))

    def score_on(self, dataset: str | None) -> None:
        """Show the run scored on ``dataset`` (in the worker), or its own test report (None)."""
        if self.run_id is None or self.workspace is None:
            return
        from desktop.jobs import report, score_on_dataset

        self._asked += 1
        if dataset is None:
            self.report, self.scored = report(self.workspace, self.run_id), None
            self._render()
            return
        ws, run_id, asked = self.workspace, self.run_id, self._asked
        self.scored_on.setEnabled(False)
        self.summary.setText(f"Scoring run {run_id} on dataset {html.escape(dataset)}…")
        job = Job(lambda cancel: score_on_dataset(ws, run_id, dataset, cancel), name="evaluate",
                  parent=self)
        job.ended.connect(lambda terminal: self._scored(terminal, run_id, dataset, asked))
        self.context.start(job)

    def _scored(self, terminal: object, run_id: str, dataset: str, asked: int) -> None:
        self.scored_on.setEnabled(True)
        if asked != self._asked or self.workspace is None:
            return  # another run or choice since, or locked
        if isinstance(terminal, Done):
            self.report, self.scored = terminal.value, dataset
            self._scored_digest = self._digests.get(dataset)
            self.scored_on.setCurrentIndex(max(0, self.scored_on.findData(dataset)))
            self._render()
            return
        self._render()
        self.scored_on.setCurrentIndex(max(0, self.scored_on.findData(self.scored)))
        why = terminal.message if isinstance(terminal, Failed) else "stopped"
        self.summary.setText(f"✖ Could not score run {run_id} on dataset {html.escape(dataset)}: "
                             f"{html.escape(why)}")

    def _scored_text(self) -> str:
        rep = self.report
        if rep is None or self.scored is None:
            repeats = (f" (<b>{rep.repeated_in_training:,} of them repeat a training text</b>: "
                       "these scores overstate how it does on new texts; drop the dataset's "
                       "repeated rows, with its Fix… on the Datasets page, and train again)"
                       if rep and rep.repeated_in_training else "")
            if rep is None:  # none made (no test rows), or one that cannot be read
                return "no test rows" if not (self.record and self.record.metrics) else \
                    "its test report cannot be read"
            return f"tested on {rep.n:,} held-out rows{repeats}"
        seen = (f" (<b>{rep.trained_rows:,} of them trained or validated on</b>: these scores "
                "overstate how it does on new data)" if rep.trained_rows else "")
        blank = f"; {html.escape(rep.rows_without_text_text())}" if rep.rows_without_text else ""
        if rep.labels_fixed_as:
            blank += f"; {html.escape(rep.labels_fixed_text())}"
        if rep.labels_read_as:
            blank += "; labels read as the run's: " + html.escape(", ".join(
                f"{given!r} as {known!r}" for given, known in rep.labels_read_as))
        return f"<b>scored on dataset {html.escape(self.scored)}</b>: {rep.n:,} rows{seen}{blank}"

    def _render(self) -> None:
        record, rep = self.record, self.report
        self._set_empty(rep is None)
        metrics = dict(rep.headline()) if rep is not None else dict(record.metrics)
        multi = bool(rep is not None and rep.multi_label)
        for key, card in self.cards.items():
            card.value.setText(format_metric(metrics.get(key)))
            card.setVisible(key in metrics)
            # Multi-label: a row counts as right only when every one of its labels is.
            exact = multi and key == "accuracy"
            card.caption.setText("Exact match (every label)" if exact else card.title)
            card.setToolTip("Share of test rows whose labels were all predicted right" if exact else "")
        config = record.config or {}
        model = config.get("model_path") or "MiniLM-L6 (default)"
        from desktop.jobs import dataset_labels

        try:
            named = dataset_labels(self.workspace, [record])[record.run_id]
        except Exception:  # noqa: BLE001 - an unreadable index: the name the run recorded
            named = record.dataset
        dataset = html.escape(named)
        self.summary.setText(
            f"Dataset <b>{dataset}</b> · model {model} · {record.device or 'device ?'} · "
            f"{len(record.labels)} labels · " + self._scored_text()
            + (f" · {'exact-match ' if multi else ''}accuracy {rep.interval_text()}" if rep else "")
            + (f" · <b>{html.escape(privacy_said(record.privacy))}</b>" if record.privacy else "")
        )
        if rep is None:
            # A finished run without one had no test rows (every class under 3 rows): the way
            # on is scoring it on other data, the picker above.
            self.empty.setText(
                f"Run {record.run_id} has no test rows (a class gives one to testing only from "
                "3 rows up): choose another labelled dataset under “Scored on” to score it."
                if record.status.value == "finished" and not record.metrics else
                f"Run {record.run_id} has no evaluation report ({record.status.value}).")
            return
        self.per_class.setRowCount(0)
        for metrics_row in rep.per_class:
            row = self.per_class.rowCount()
            self.per_class.insertRow(row)
            self.per_class.setItem(row, 0, _cell(metrics_row.label))
            self.per_class.item(row, 0).setToolTip(metrics_row.label)  # whole, when cut
            values = (metrics_row.precision, metrics_row.recall, metrics_row.f1)
            for column, (value, said) in enumerate(zip(values, metrics_row.shown()), start=1):
                self.per_class.setItem(row, column, _cell(
                    "—" if said == "—" else format_metric(value), align_right=True))
            if not metrics_row.tested:
                self.per_class.item(row, 0).setToolTip(f"{metrics_row.label}: {UNTESTED_NOTE}")
            self.per_class.setItem(row, 4, _cell(metrics_row.support, align_right=True))
        # The scores fit their figures; the label takes what is left (sized to a 200-character
        # label, it pushed the scores out of the pane).
        for column in range(1, self.per_class.columnCount()):
            self.per_class.resizeColumnToContents(column)
        self.heatmap.set_matrix(rep.labels, rep.confusion, placeholder=(
            "Multi-label run: no confusion matrix (each label is a yes/no of its own; its scores "
            "are on the left)" if multi else None))
        self._fill_misclassified(None)
        self.curves.clear()
        # The curves that tell whether training went well; Runs can plot any other metric.
        for name, (xs, ys) in history_curves(record.history).items():
            if name in CURVES_SHOWN:
                self.curves.set_series(name, xs, ys)

    def _filter_misclassified(self, true_index: int, predicted_index: int) -> None:
        if self.report is None:
            return
        labels = self.report.labels
        self._fill_misclassified((labels[true_index], labels[predicted_index]))
        self.tabs.setCurrentIndex(1)

    def _fill_misclassified(self, pair: tuple[str, str] | None) -> None:
        self.misclassified.setSortingEnabled(False)
        self.misclassified.setRowCount(0)
        items = list(self.report.misclassified) if self.report is not None else []
        if pair is not None:
            items = [m for m in items if (m.true_label, m.predicted_label) == pair]
        for m in items:
            row = self.misclassified.rowCount()
            self.misclassified.insertRow(row)
            text = m.text if m.text is not None else "(text not kept)"
            cell = _cell(text)
            cell.setToolTip(text[:2000])
            self.misclassified.setItem(row, 0, cell)
            self.misclassified.setItem(row, 1, _cell(m.true_label))
            self.misclassified.setItem(row, 2, _cell(m.predicted_label))
            self.misclassified.setItem(row, 3, _cell(f"{m.confidence:.2f}", align_right=True))
        self.misclassified.setSortingEnabled(True)
        # The most confident mistakes first (Qt's default would sort the texts, Z to A); the
        # confidences are all 0.00-1.00, so their text sorts as their value.
        self.misclassified.sortItems(3, Qt.SortOrder.DescendingOrder)
        self.misclassified.resizeColumnToContents(1)
        self.misclassified.resizeColumnToContents(2)
        where = f" where true = {pair[0]} and predicted = {pair[1]}" if pair else ""
        # A multi-label run has no confusion matrix to click (its hint said to click one).
        how = ("" if self.report is not None and self.report.multi_label else
               " Click a confusion cell (or use the arrow keys and Enter on the matrix) to filter.")
        self.filter_label.setText(f"{count_of(len(items), 'misclassified test row')}{where}.{how}")
        self.clear_filter.setVisible(pair is not None)

    # --- actions -----------------------------------------------------------------------------
    def _try_it(self) -> None:
        window = self.window()
        if self.run_id and hasattr(window, "tryit_page"):
            window.tryit_page.select_run(self.run_id)
            window.show_page("tryit")

    def export_current(self) -> None:
        if self.workspace is None or not self.run_id:
            self.context.status_message.emit("Open a finished run on the Results page to export it.")
            return
        from desktop.dialogs.export import export_run

        export_run(self.context, self.run_id, self)
