"""Try it: type or paste text and watch every class's probability update; batch-predict a file
into an output file with progress. The model is loaded once per run, on the worker."""
from __future__ import annotations

from html import escape

from pathlib import Path
from typing import Any, TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QPlainTextEdit, QProgressBar,
    QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from desktop.accessible import announce, keeps_ctrl_return, label_for, spoken
from desktop.icons import icon
from desktop.pages.base import Page, run_choice, section
from desktop.state import format_metric
from desktop.text_breaks import wrappable
from desktop.widgets.charts import BarChart
from desktop.worker import Done, Job
from engine.events import Failed, Progress
from engine.units import count_of

if TYPE_CHECKING:
    from engine.vault import Vault


LONG_TEXT = 20_000  # characters: above this, say the text is being read


# Of a typed text's words, the share the model's vocabulary lacks above which the answer is
# said to say little: a few rare names or emoji stay under it.
UNKNOWN_TO_SAY = 0.5

class TryItPage(Page):
    title = "Try it"
    icon_name = "tryit"
    prediction_shown = Signal()
    batch_ended = Signal(object)

    def __init__(self, context, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(context, parent)
        self.predictor: Any = None
        self._predictor_run: str | None = None
        self._load_failed = False  # the load of _predictor_run failed: choosing it retries
        self._job: Job | None = None
        self._batch: Job | None = None
        self._batch_column = ""  # "column 'message'": what the last batch read its texts from
        self._batch_sheet: str | None = None  # the workbook sheet it read, when chosen
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._predict)

        self.run_combo = run_choice()
        self.run_combo.activated.connect(lambda _i: self.select_run(self.run_combo.currentData()))
        top = QHBoxLayout()
        top.addWidget(label_for("Model from run:", self.run_combo))
        top.addWidget(self.run_combo)
        top.addStretch(1)

        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Type or paste a text to classify…")
        self.text.setAccessibleName("Text to classify")
        self.text.setTabChangesFocus(True)  # Tab moves on; a text to classify needs no tabs
        keeps_ctrl_return(self.text)
        self.text.textChanged.connect(self._debounce.start)
        self.answer = QLabel("")
        self.answer.setObjectName("answer")
        self.answer.setWordWrap(True)
        # What the model did not read is a caveat, not the answer: the page's normal font.
        self.read_note = QLabel("")
        self.read_note.setObjectName("hint")
        self.read_note.setTextFormat(Qt.TextFormat.PlainText)  # '<PHONE>' read as text, not a tag
        self.read_note.setWordWrap(True)
        self.read_note.hide()
        self.bars = BarChart(percent=True)
        self.bars.setAccessibleName("Probability of each label")
        bars_scroll = self._bars_scroll = QScrollArea()
        bars_scroll.setAccessibleName("Probability of each label")
        bars_scroll.setWidgetResizable(True)
        bars_scroll.setWidget(self.bars)
        bars_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left = QVBoxLayout()
        left.addWidget(section("Text"))
        left.addWidget(self.text, 1)
        right = QVBoxLayout()
        right.addWidget(section("Prediction"))
        right.addWidget(self.answer)
        right.addWidget(self.read_note)
        right.addWidget(bars_scroll, 1)
        middle = QHBoxLayout()
        middle.addLayout(left, 1)
        middle.addLayout(right, 1)

        self.batch_button = QPushButton(icon("open"), "Predict a file…")
        self.batch_button.clicked.connect(self.choose_batch_files)
        self.batch_cancel = QPushButton("Cancel", accessibleName="Cancel the batch prediction")
        self.batch_cancel.clicked.connect(lambda: self._batch and self._batch.cancel())
        self.batch_cancel.setEnabled(False)
        self.batch_progress = QProgressBar(accessibleName="Batch prediction progress")
        self.batch_progress.hide()  # until a file is predicted: empty, it looked like a text box
        self.batch_status = QLabel("Choose a CSV, TSV, JSON, JSONL, Parquet or Excel file; the predictions are "
                                   "written to a new file beside your other data.")
        self.batch_status.setWordWrap(True)
        batch = QHBoxLayout()
        batch.addWidget(self.batch_button)
        batch.addWidget(self.batch_cancel)
        batch.addWidget(self.batch_progress, 1)

        self.layout_.addLayout(top)
        self.layout_.addLayout(middle, 1)
        self.layout_.addWidget(section("Batch prediction"))
        self.layout_.addLayout(batch)
        self.layout_.addWidget(self.batch_status)
        context.runs_changed.connect(self.refresh_runs)

    # --- lifecycle ---------------------------------------------------------------------------
    def on_workspace(self, workspace: Vault | None) -> None:
        self.predictor, self._predictor_run = None, None  # decrypted weights go with the lock
        self.bars.set_values([])
        self._say("")
        if workspace is None:
            self.text.blockSignals(True)
            self.text.clear()  # what was typed may be as sensitive as the training data
            self.text.blockSignals(False)
        self.refresh_runs()

    def on_shown(self) -> None:
        self.refresh_runs()
        if self._predictor_run is None and self.run_combo.count():
            self.select_run(self.run_combo.itemData(0))

    def refresh_runs(self) -> None:
        current = self.run_combo.currentData()
        self.run_combo.clear()
        if self.workspace is None:
            return
        from desktop.jobs import runs

        try:
            records = [r for r in runs(self.workspace) if r.has_model]
        except Exception:  # noqa: BLE001
            records = []
        for record in records:
            self.run_combo.addItem(f"{record.run_id} — {record.dataset} — accuracy "
                                   f"{format_metric(record.metrics.get('accuracy'))}", record.run_id)
        if self._predictor_run is not None and self.run_combo.findData(self._predictor_run) < 0:
            # Deleted (the Runs page): its model must not go on answering under another name.
            self._say(f"Run {self._predictor_run} was deleted. Choose another run.")
            self.bars.set_values([])  # its last answer goes with it
            self.predictor, self._predictor_run, current = None, None, None
        wanted = self._predictor_run or current
        if wanted is not None:
            self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(wanted)))
        have = self.run_combo.count() > 0
        self.batch_button.setEnabled(have)
        # Nothing to ask yet: say why, rather than offer a text box that answers nothing.
        self.text.setEnabled(have)
        self._bars_scroll.setVisible(have)  # "Nothing to show yet" under "No trained model yet"
        if not have:
            self._say("No trained model yet. Train one on the Train page, then try it here.")
        elif self.answer.text().startswith("No trained model yet"):
            self._say("")

    # --- model -------------------------------------------------------------------------------
    def select_run(self, run_id: str | None) -> None:
        # The run already loaded (or loading) is not loaded again; one whose load failed is:
        # choosing it again is how the user retries.
        if not run_id or self.workspace is None or \
                (run_id == self._predictor_run and not self._load_failed):
            return
        from desktop.jobs import load_predictor

        self.predictor, self._predictor_run, self._load_failed = None, run_id, False
        self.refresh_runs()
        self._say("Loading the model…")
        workspace = self.workspace
        job = Job.call(lambda _c: load_predictor(workspace, run_id), name="load-model", parent=self)
        job.ended.connect(lambda terminal, run_id=run_id: self._on_loaded(run_id, terminal))
        self.context.start(job)

    def _on_loaded(self, run_id: str, terminal: object) -> None:
        if run_id != self._predictor_run:
            return  # the user picked another run meanwhile
        if isinstance(terminal, Done):
            self.predictor = terminal.value
            self._say("Model ready. Type a text.")
            self._predict()
        elif isinstance(terminal, Failed):
            self._load_failed = True
            self._say(f"✖ {terminal.message} Choose the run again to retry.")

    def _model_gone(self) -> str | None:
        """The loaded model's run, if it was deleted since (by a `cloister rm-run`, or another
        window): the model is then dropped and that said, as a deletion on the Runs page is.
        One key lookup, nothing decrypted."""
        from desktop.jobs import run_exists

        run_id = self._predictor_run
        if self.predictor is None or run_id is None or self.workspace is None:
            return None
        try:
            if run_exists(self.workspace, run_id):
                return None
        except Exception:  # noqa: BLE001 - locked meanwhile (a debounced answer): not gone
            return None
        self.refresh_runs()  # no longer listed: says so and drops the model
        return run_id

    # --- live prediction ---------------------------------------------------------------------
    def _predict(self) -> None:
        text = self.text.toPlainText().strip()
        if self._model_gone():
            return
        if self.predictor is None or not text:
            if not text:
                self.bars.set_values([])
                if self.predictor is not None:  # no answer stays up for a text that is gone
                    self._say("Model ready. Type a text.")
            return
        if self._job is not None and self._job.is_running():
            self._debounce.start()  # predict the newest text once the current one is done
            return
        from desktop.jobs import predict

        if len(text) > LONG_TEXT:
            self._say(f"Reading {len(text):,} characters…")
        predictor = self.predictor
        job = Job.call(lambda _c: predict(predictor, text), name="predict", parent=self)
        job.ended.connect(lambda terminal, text=text: self._on_predicted(terminal, text))
        self._job = job
        self.context.start(job)

    def _on_predicted(self, terminal: object, text: str) -> None:
        if text != self.text.toPlainText().strip():
            return  # the text changed (or was cleared) meanwhile: its answer is not this one's
        if isinstance(terminal, Failed):
            self._say(f"✖ {terminal.message}")
            return
        if not isinstance(terminal, Done):
            return
        prediction, tokens, unknown, read_as = terminal.value
        items = sorted(prediction.probabilities.items(), key=lambda kv: -kv[1])
        # The likeliest of the labels chosen (a multi-label prediction lists them in the labels'
        # own order, as a predicted file writes them).
        likeliest = max(prediction.labels, key=lambda label: prediction.probabilities.get(label, 0.0),
                        default=None)
        self.bars.set_values(items, highlight=likeliest)
        answer = answer_text(prediction, getattr(self.predictor, "multi_label", False),
                             getattr(self.predictor, "threshold", 0.5))
        self.answer.setText(answer)
        self._show_read_note(tokens, unknown, read_as)
        self._tell(answer)
        self.prediction_shown.emit()

    def _say(self, text: str) -> None:
        """Any message in place of an answer: a note about the last answer's text goes with it."""
        self.answer.setText(text)
        self._show_read_note(None)
        self._tell(text)

    def _tell(self, answer: str) -> None:
        """The answer, and the caveat under it, to a screen reader on the text box (the answer
        label takes no focus, so it was never read)."""
        note = self.read_note.text() if self.read_note.isVisibleTo(self) else ""
        said = " ".join(part for part in (spoken(answer), note) if part)
        if said != self.text.accessibleDescription():  # each pause in typing asks again
            announce(said, on=self.text)

    def _show_read_note(self, tokens: int | None, unknown: float = 0.0,
                        read_as: str | None = None) -> None:
        """Say how much of a long text the model read, when it did not know most of its words
        (a Chinese text to an English model got a confident-looking answer), and what it read
        where the text was anonymized first; hide the note for any other answer."""
        notes = []
        if read_as is not None:  # '<PHONE>' and pseudonyms, as in the rows it trained on
            shown = read_as if len(read_as) <= 300 else read_as[:297] + "…"
            notes.append(f"Anonymized as the run's training rows were, and read as: “{shown}”.")
        if tokens is not None and self.predictor is not None:
            windows = getattr(self.predictor, "window_overlap", None) is not None
            notes.append(f"Only the first {self.predictor.tokens_read:,} of its {tokens:,} tokens "
                         + ("were read (16 windows of the run's max length)" if windows
                            else "were read (the run's max length)") + "; the rest does not count.")
        if unknown >= UNKNOWN_TO_SAY and self.predictor is not None:
            notes.append(f"The model does not know {unknown:.0%} of these words (it reads them as "
                         "[UNK]): its answer says little about this text.")
        self.read_note.setText(" ".join(notes))
        self.read_note.setVisible(bool(notes))

    # --- batch -------------------------------------------------------------------------------
    def choose_batch_files(self) -> None:
        from desktop.jobs import data_file_filter

        source, _ = QFileDialog.getOpenFileName(self, "File to classify", str(Path.home()), data_file_filter())
        if not source:
            return
        sheet = None
        if Path(source).suffix.lower() in (".xlsx", ".xlsm"):
            from engine.data.importing.excel import sheet_names

            names = sheet_names(Path(source))
            if len(names) > 1:  # the first sheet was classified, with no word of the others
                sheet, chosen = QInputDialog.getItem(self, "Sheet to classify",
                                                     "The workbook has several sheets. Classify:",
                                                     names, 0, False)
                if not chosen:
                    return
        default, filters = prediction_target(Path(source))
        target, _ = QFileDialog.getSaveFileName(self, "Save predictions as", str(default), filters)
        if target:
            self.predict_batch(Path(source), Path(target), sheet=sheet)

    def predict_batch(self, source: Path, target: Path, *, sheet: str | None = None) -> None:
        gone = self._model_gone()
        if gone:
            self.batch_status.setText(f"✖ Run {gone} was deleted (by another window or a "
                                      "command): nothing was predicted. Choose another run.")
            return
        if self.predictor is None or self.workspace is None:
            self.batch_status.setText("The model is still loading; try again in a moment."
                                      if self._predictor_run else "Choose a run first.")
            return
        from desktop.jobs import predict_file_events

        predictor, workspace = self.predictor, self.workspace
        self._batch_sheet = sheet
        job = Job(lambda cancel: predict_file_events(workspace, predictor, source, target, cancel,
                                                     sheet),
                  name="batch-predict", parent=self)
        job.events.connect(self._on_batch_events)
        job.ended.connect(lambda terminal, target=target: self._on_batch_ended(target, terminal))
        self._batch = job
        self.batch_button.setEnabled(False)
        self.batch_cancel.setEnabled(True)
        self.batch_progress.setValue(0)
        self.batch_progress.show()
        self.batch_status.setText(f"Classifying {source.name}…")
        self.context.start(job, long=True)

    def _on_batch_events(self, events: list[object]) -> None:
        for event in events:
            if isinstance(event, Progress) and event.total:
                self.batch_progress.setMaximum(event.total)
                self.batch_progress.setValue(event.done)
                # The engine names the column it read the texts from: said here and at the end.
                self._batch_column = event.message.partition(", texts from ")[2]
                read = f" (texts from {self._batch_column})" if self._batch_column else ""
                self.batch_status.setText(f"{event.done:,} of {event.total:,} rows classified{read}")

    def _on_batch_ended(self, target: Path, terminal: object) -> None:
        self.batch_button.setEnabled(True)
        self.batch_cancel.setEnabled(False)
        if isinstance(terminal, Failed):
            self.batch_progress.setValue(0)  # nothing was written: no full bar beside the ✖
            self.batch_status.setText(f"✖ {terminal.message}")
        elif type(terminal).__name__ == "Cancelled":
            self.batch_progress.setValue(0)
            self.batch_status.setText("Cancelled; no output file was left behind.")
        else:
            self.batch_progress.setValue(self.batch_progress.maximum())
            read = f", texts from {self._batch_column}" if self._batch_column else ""
            if self._batch_sheet:
                read = f", sheet {self._batch_sheet!r}{read}"
            without = int(getattr(terminal, "metrics", {}).get("rows_without_text", 0))
            blank = ("" if not without else " 1 row has no text: its prediction cells are empty."
                     if without == 1 else f" {without:,} rows have no text: their prediction "
                     "cells are empty.")
            formulas = int(getattr(terminal, "metrics", {}).get("formula_like_cells", 0))
            risky = (f" {count_of(formulas, 'cell')} {'starts' if formulas == 1 else 'start'} "
                     "with =, +, - or @: a spreadsheet may run them as formulas, so import the "
                     "file as text (or write .xlsx)." if formulas else "")
            notes = "".join(f" {note}" for note in getattr(terminal, "notes", ()))
            mark = "⚠" if notes else "✔"  # rows left out: not a plain success
            notes += "".join(f" {said}" for said in getattr(terminal, "info", ()))
            cut = int(getattr(terminal, "metrics", {}).get("texts_cut", 0))
            if cut and self.predictor is not None:
                notes += f" {self.predictor.cut_said(cut)}"
            # Outside the vault the predictions quote every row: say so where they were written.
            self.batch_status.setText(f"{mark} Predictions written to {target}{read}.{notes}{blank}{risky} "
                                      "The file is not encrypted: keep it where the data may go.")
        self.batch_ended.emit(terminal)


# What the Save dialog offers for predictions, as the engine writes them (by suffix).
_OUTPUTS = (("Excel workbook", ".xlsx"), ("CSV", ".csv"), ("TSV", ".tsv"), ("JSON Lines", ".jsonl"),
            ("Parquet", ".parquet"))


def prediction_target(source: Path) -> tuple[Path, str]:
    """The suggested file for a source's predictions, in the source's own format where the
    engine writes it (a workbook gave a .csv, and .xlsx was not offered at all), and the
    dialog's filters with that format first."""
    suffix = source.suffix.lower()
    offered = [s for _, s in _OUTPUTS]
    chosen = suffix if suffix in offered else ".csv"
    ordered = sorted(_OUTPUTS, key=lambda o: o[1] != chosen)
    filters = ";;".join(f"{name} (*{s})" for name, s in ordered)
    return source.with_name(f"{source.stem}-predictions{chosen}"), filters


def _shown_label(label: str) -> str:
    """A label for the rich-text answer: escaped (a label such as "<none>" vanished as a tag),
    and with places to wrap a long unbroken run: the answer cannot wrap one, and it widened the
    prediction pane until the text box was 70 pixels wide and the confidence was cut off."""
    return escape(wrappable(label))


def answer_text(prediction: Any, multi_label: bool, threshold: float) -> str:
    """The answer line: the label and its confidence, or (multi-label, where each label is a
    yes/no of its own) every label at or above the threshold."""
    if not multi_label:
        return f"<b>{_shown_label(prediction.label)}</b> — {prediction.confidence * 100:.1f}% confident"
    if not prediction.labels:
        return (f"No label reaches {threshold:.0%}: the likeliest is "
                f"{_shown_label(max(prediction.probabilities, key=prediction.probabilities.get))} at "
                f"{prediction.confidence * 100:.1f}%")
    likeliest_first = sorted(prediction.labels, key=lambda label: -prediction.probabilities.get(label, 0.0))
    shown = ", ".join(f"<b>{_shown_label(label)}</b> ({prediction.probabilities.get(label, 0.0) * 100:.0f}%)"
                      for label in likeliest_first)
    return f"{shown} — every label at {threshold:.0%} or more"
