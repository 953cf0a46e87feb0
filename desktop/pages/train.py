"""Train page: dataset and base model, common settings up front, the rest under Advanced; an
estimate before starting; Start / Cancel / Resume; live curves, progress, ETA and device."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication, QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
    QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from desktop.accessible import announce, refocus
from desktop.icons import icon
from desktop.pages.base import Page, section
from desktop.pages.train_advanced import AdvancedSettings
from desktop.pages.train_auto import AutoSettingsBox
from desktop.pages.train_datasets import PERSON_COLUMNS, ROWS, fill_datasets
from desktop.pages.train_estimate import EstimateLine
from desktop.pages.train_followup import RunFollowUp, resumed_settings_text
from desktop.pages.train_model import BaseModelChoice
from desktop.pages.train_people import PeopleCount
from desktop.pages.train_privacy import DPRate, PrivacySettings, SpentBefore
from desktop.state import Phase, TrainingMonitor
from desktop.widgets.column_scroll import ColumnScroll
from desktop.widgets.curves import CurvePlot
from desktop.worker import Job
from engine.units import reads_as_number

if TYPE_CHECKING:
    from engine.vault import Vault

LEARNING_RATES = ("1e-5", "2e-5", "3e-5", "5e-5", "1e-4", "3e-4", "5e-4", "2e-3", "5e-3", "2e-2")


class TrainPage(Page):
    title = "Train"
    icon_name = "train"
    training_ended = Signal(object)  # the terminal event (tests and the Runs page listen)

    def __init__(self, context, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(context, parent)
        self.monitor = TrainingMonitor()
        self.job: Job | None = None
        self._resumable_run: str | None = None
        self._cancel_asked = False  # the user pressed Cancel (not a lock or close)
        self.follow_up = RunFollowUp(self)  # a run a lock stopped, or one deleted elsewhere

        column = self._build_settings_column(self._build_common_form())
        live = self._build_live_column()

        row = QHBoxLayout()
        row.addWidget(column, 2)
        row.addLayout(live, 3)
        self.layout_.addLayout(row, 1)

        # A setting changed: a new estimate, and a refusal of the settings ("the learning rate
        # 'fast' is not a number") goes (it stayed, in red, beside the corrected value).
        self._refused = False  # the FAILED phase shown is a refusal of the settings, not a run's
        self._resumed: str | None = None  # what a resumed run trains with, while it trains
        for signal in (self.epochs.valueChanged, self.batch_size.valueChanged,
                       self.max_length.valueChanged, self.dataset_combo.currentIndexChanged,
                       self.device.currentIndexChanged, self.learning_rate.currentTextChanged,
                       self.advanced.long_texts.currentIndexChanged):
            signal.connect(lambda *_: (self._forget_refusal(), self._schedule_estimate()))
        for follow in (self._update_privacy_warning, self._dataset_columns_changed, self.auto_box.schedule):
            self.dataset_combo.currentIndexChanged.connect(lambda _i, follow=follow: follow())
        context.datasets_changed.connect(self.refresh_datasets)
        self._render()

    def _build_common_form(self) -> QFormLayout:
        self.dataset_combo = QComboBox()
        self.base_model = BaseModelChoice(self)
        self.model_label = self.base_model.label
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        self.epochs.setValue(3)
        self.learning_rate = QComboBox()
        self.learning_rate.setEditable(True)
        self.learning_rate.addItems(LEARNING_RATES)
        self.learning_rate.setCurrentText("5e-5")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1024)
        self.batch_size.setValue(16)
        self.max_length = QSpinBox()
        self.max_length.setRange(8, 8192)
        self.max_length.setValue(128)
        common = QFormLayout()
        common.addRow("Dataset:", self.dataset_combo)
        # Issue #10: a dataset never scanned for personal data gets a warning the user can
        # dismiss (for this session); scanning is on the Datasets page, "Privacy…".
        self.privacy_warning = QLabel("⚠ This dataset was never scanned for personal data. "
                                      "Datasets → Privacy… finds and anonymizes it.")
        self.privacy_warning.setWordWrap(True)
        self.privacy_dismiss = QPushButton("Dismiss", accessibleName="Dismiss the personal-data warning")
        self.privacy_dismiss.clicked.connect(self._dismiss_privacy_warning)
        self._privacy_dismissed: set[str] = set()
        self._privacy_reviewed: set[str] = set()
        # In a widget of its own: a form row of a bare layout got the height of two lines of
        # the wrapped warning, and a narrow window cut its third.
        self.privacy_box = QWidget()
        warning_row = QHBoxLayout(self.privacy_box)
        warning_row.setContentsMargins(0, 0, 0, 0)
        warning_row.addWidget(self.privacy_warning, 1)
        warning_row.addWidget(self.privacy_dismiss)
        common.addRow(self.privacy_box)
        common.addRow("Base model:", self.model_label)
        common.addRow("", self.base_model.buttons)
        common.addRow("Epochs:", self.epochs)
        common.addRow("Learning rate:", self.learning_rate)
        common.addRow("Batch size:", self.batch_size)
        common.addRow("Max length (tokens):", self.max_length)
        return common

    def _build_settings_column(self, common: QFormLayout) -> QWidget:
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced = AdvancedSettings()
        # The fields by name, for the config and for tests.
        self.seed, self.patience, self.device = self.advanced.seed, self.advanced.patience, self.advanced.device
        self.advanced.setVisible(False)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)

        self.privacy = PrivacySettings()
        # DP changes the cost (two backward passes with ghost clipping; fewer with top-N).
        self.people = PeopleCount(self)
        self.dp_rate = DPRate(self)  # DP's own learning rate in, the plain one back out
        self.spent = SpentBefore(self)  # what earlier runs on the dataset spent, under DP

        self.estimate_label = EstimateLine(self)  # desktop.pages.train_estimate
        self.start_button = QPushButton(icon("train"), "Start training")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", accessibleName="Cancel training")  # two Cancels
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(lambda: self.resume())
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(button)

        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 8, 0)
        settings_layout.addLayout(common)
        settings_layout.addWidget(self.advanced_toggle)
        settings_layout.addWidget(self.advanced)
        # The DP controls before the automatic settings' reasons, which are long with DP on:
        # what the user sets stays near the top; why the rest was chosen reads below it.
        settings_layout.addWidget(section("Differential privacy"))
        settings_layout.addWidget(self.privacy)
        # Settings chosen from the data, with why (desktop.pages.train_auto).
        self.auto_box = AutoSettingsBox(self)
        settings_layout.addWidget(section("Automatic settings"))
        settings_layout.addWidget(self.auto_box)
        settings_layout.addStretch(1)
        # A long dataset or column name must not widen the column past the window (a combo box
        # sizes itself to its longest item): every combo elides instead, and the column never
        # scrolls sideways. It grows with the window, within bounds, beside the curves.
        for combo in settings.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            if not combo.minimumContentsLength():
                combo.setMinimumContentsLength(14)
        self.settings_scroll = scroll = ColumnScroll(settings)
        # The estimate and Start stay in view below the settings, however long the automatic
        # settings' reasons grow (with DP on they once pushed Start off a 1280x800 screen).
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        # A resumed run trains with the settings it started with, not the form's: while it
        # trains, they are said here instead of the form and its estimate.
        self.resumed_label = QLabel("")
        self.resumed_label.setWordWrap(True)
        self.resumed_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.resumed_label.hide()
        column_layout.addWidget(self.resumed_label, 1)
        column_layout.addWidget(scroll, 1)
        self.estimate_heading = section("Estimate")
        column_layout.addWidget(self.estimate_heading)
        column_layout.addWidget(self.estimate_label)
        column_layout.addLayout(buttons)
        column.setMinimumWidth(400)
        column.setMaximumWidth(560)
        return column

    def _build_live_column(self) -> QVBoxLayout:
        self.device_label = QLabel("Device: —")
        self.progress = QProgressBar(accessibleName="Training progress", minimum=0, maximum=1000)
        # Wrapped: one long line pushed this column over the settings.
        self.progress_text = QLabel("", wordWrap=True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loss_plot = CurvePlot(title="Training loss", y_label="loss",
                                   empty_text="The loss appears here once training starts.",
                                   smooth=lambda _name: True)
        # ε spent so far, beside the loss curve, for DP runs (hidden otherwise).
        self.epsilon_label = QLabel("")
        self.epsilon_label.setObjectName("epsilon")
        self.epsilon_label.hide()
        self.validation_plot = CurvePlot(title="Validation", y_label="metric",
                                         empty_text="Validation scores appear here as training reaches them.")
        self.validation_plot.link_x(self.loss_plot)
        self.results_button = QPushButton(icon("results"), "See results")
        self.results_button.clicked.connect(self._show_results)
        self.results_button.hide()
        live = QVBoxLayout()
        for widget in (self.device_label, self.progress, self.progress_text, self.message):
            live.addWidget(widget)
        live.addWidget(self.results_button, 0, Qt.AlignmentFlag.AlignLeft)
        live.addWidget(self.epsilon_label)
        live.addWidget(self.loss_plot, 1)
        live.addWidget(self.validation_plot, 1)
        return live

    # --- lifecycle ---------------------------------------------------------------------------
    def on_workspace(self, workspace: Vault | None) -> None:
        if workspace is None:
            self.follow_up.locking()
            self.clear_run()
            self.auto_box.auto = None  # measured from decrypted data: dropped on lock
        else:
            self.follow_up.unlocked(workspace)
        self.refresh_datasets()
        self.apply_settings()
        self._render()

    def apply_settings(self) -> None:
        """The device choice from Settings becomes the default here, and the base model chosen
        last time is chosen again (a folder that no longer checks out says why)."""
        self.device.setCurrentIndex(max(0, self.device.findData(self.context.settings.device)))
        self.base_model.restore()

    def on_shown(self) -> None:
        self.refresh_datasets()
        self.spent.refresh()  # a run finished since may have spent more

    def refresh_datasets(self) -> None:
        infos: list[Any] = []
        if self.workspace is not None:
            from desktop.jobs import stored_datasets

            try:
                infos = stored_datasets(self.workspace)
            except Exception:  # noqa: BLE001 - an empty list is shown; Datasets page reports
                infos = []
        fill_datasets(self.dataset_combo, infos)
        self._dataset_columns_changed()
        self._privacy_reviewed = set()
        if self.workspace is not None:
            from engine.data.anonymize import privacy_reviewed

            try:
                self._privacy_reviewed = privacy_reviewed(self.workspace)
            except Exception:  # noqa: BLE001 - a warning never blocks training
                pass
        self._update_privacy_warning()
        self.auto_box.schedule()
        self._schedule_estimate()
        self._render()

    def _dataset_columns_changed(self) -> None:
        self.privacy.set_columns(self.dataset_combo.currentData(PERSON_COLUMNS) or ())

    def _update_privacy_warning(self) -> None:
        name = self.dataset_combo.currentData()
        shown = bool(name) and name not in self._privacy_reviewed \
            and name not in self._privacy_dismissed
        self.privacy_box.setVisible(shown)
        self.privacy_warning.setVisible(shown)
        self.privacy_dismiss.setVisible(shown)

    def _dismiss_privacy_warning(self) -> None:
        name = self.dataset_combo.currentData()
        if name:
            self._privacy_dismissed.add(name)
        self._update_privacy_warning()

    def select_dataset(self, name: str) -> bool:
        """False, nothing chosen, when ``name`` is gone (it chose the first dataset instead)."""
        self.refresh_datasets()
        if (index := self.dataset_combo.findData(name)) >= 0:
            self.dataset_combo.setCurrentIndex(index)
        return index >= 0

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # --- base model (desktop.pages.train_model) ----------------------------------------------
    def set_model_folder(self, folder: Path | None) -> bool:
        return self.base_model.set_folder(folder)

    @property
    def model_path(self) -> Path | None:  # None: the default MiniLM
        return self.base_model.path

    # --- config and estimate -----------------------------------------------------------------
    def config_options(self) -> dict[str, Any]:
        try:
            learning_rate = float(self.learning_rate.currentText())
        except ValueError:
            learning_rate = -1.0  # TrainConfig.validate explains the problem
        return dict(
            dataset=self.dataset_combo.currentData() or "",
            model_path=str(self.model_path) if self.model_path else None,
            epochs=self.epochs.value(), batch_size=self.batch_size.value(),
            learning_rate=learning_rate, max_length=self.max_length.value(), **self.advanced.options(),
            **self.auto_box.extra_options(), **self.privacy.options())

    def _typed_problems(self) -> list[str]:
        """Fields that do not read as numbers, named as typed (not as -1, ``config_options``'s)."""
        text = self.learning_rate.currentText().strip()
        problems = [] if reads_as_number(text) else [
            f"the learning rate '{text}' is not a number: type one like 5e-5 or 0.0001"]
        return problems + self.privacy.typed_problems()

    def _rows(self) -> int:
        """The units DP samples and the estimate counts: rows, or people with a person column."""
        if self.privacy.options().get("dp_person_column") and self.people.count is not None:
            return self.people.count
        return int(self.dataset_combo.currentData(ROWS) or 0)

    def _schedule_estimate(self) -> None:
        self.estimate_label.schedule(running=self.monitor.phase is Phase.RUNNING)

    # --- running -----------------------------------------------------------------------------
    def start(self, *, config: Any = None) -> None:
        """Start training with the form's settings (or a given ``TrainConfig``)."""
        if self.workspace is None or self.is_running():
            return
        from desktop.jobs import make_config, train_events

        if config is None and self.auto_box.holds_another_datasets():
            # The fields still hold the previous dataset's settings: start with this one's.
            self.auto_box.start_when_chosen = True
            said = (f"Choosing the settings for {self.dataset_combo.currentData()} from its rows "
                    "first (a large dataset takes a while); training starts when they are chosen.")
            self.message.setText(said)
            self.auto_box.label.setText(said)
            return
        typed = self._typed_problems()
        if config is None and typed:
            self._fail_now("Check the settings: " + "; ".join(typed) + ".")
            return
        if config is None:
            try:
                config = make_config(**self.config_options())
            except Exception as exc:  # noqa: BLE001 - a bad setting is shown, nothing starts
                self._fail_now(str(exc))
                return
            problems = config.validate()
            if problems:
                self._fail_now("Check the settings: " + "; ".join(p.message for p in problems) + ".")
                return
        workspace, self._resumed = self.workspace, None
        self.run_job(Job(lambda cancel: train_events(workspace, config, cancel), name="train", parent=self))

    def resume(self, run_id: str | None = None) -> None:
        """Continue the last cancelled run, or ``run_id`` (a cancelled or failed run from Runs)."""
        run_id = run_id or self._resumable_run
        if self.workspace is None or self.is_running() or not run_id:
            return
        from desktop.jobs import resume_events

        workspace = self.workspace
        self._resumed = resumed_settings_text(workspace, run_id)
        self.run_job(Job(lambda cancel: resume_events(workspace, run_id, cancel), name="train", parent=self))

    def run_job(self, job: Job) -> None:
        """Run any training-shaped job through the page (tests inject failing ones here)."""
        self.monitor.start()
        self._refused = False
        self.loss_plot.clear()
        self.validation_plot.clear()
        self.results_button.hide()
        self.job, self._cancel_asked = job, False
        job.events.connect(self._on_events)
        job.ended.connect(self._on_ended)
        self.context.start(job, long=True)
        self._render()

    def cancel(self) -> None:
        if self.job is not None and self.is_running() and not self._cancel_asked:
            self._cancel_asked = True
            self.job.cancel()
            # Cancel stays enabled (a second press does nothing): disabled, it sent the keyboard
            # focus off to the next widget before the run ended and Start could take it.
            self.message.setText("Cancelling at the next step…")

    def is_running(self) -> bool:
        return self.monitor.phase is Phase.RUNNING

    def _fail_now(self, message: str) -> None:
        self.monitor.phase, self.monitor.message = Phase.FAILED, message
        self._refused = True
        self._render()

    def _forget_refusal(self) -> None:
        if self._refused and self.monitor.phase is Phase.FAILED:
            self.monitor.phase, self.monitor.message = Phase.IDLE, ""
            self._render()
        self._refused = False

    def _on_events(self, events: list[object]) -> None:
        before = len(self.monitor.loss)
        val_before = {name: len(points) for name, points in self.monitor.validation.items()}
        self.monitor.apply(events)
        new = self.monitor.loss[before:]
        if new:
            self.loss_plot.extend("loss", [s for s, _ in new], [v for _, v in new])
        for name, points in self.monitor.validation.items():
            fresh = points[val_before.get(name, 0):]
            if fresh:
                self.validation_plot.extend(name, [s for s, _ in fresh], [v for _, v in fresh])
        self._render()

    def _on_ended(self, terminal: object) -> None:
        self.monitor.apply([terminal])
        if self.monitor.phase is Phase.CANCELLED and self.monitor.run_id and self.monitor.checkpoint_key:
            self._resumable_run = self.monitor.run_id
        elif self.monitor.phase is Phase.FINISHED:
            self._resumable_run = None
            self.results_button.show()
        self.job = None
        self._render()
        self.context.runs_changed.emit()
        self.training_ended.emit(terminal)

    def clear_run(self) -> None:
        """Show no run: nothing to resume, no curves, no See results."""
        self.monitor = TrainingMonitor()
        self._resumable_run = None
        self.loss_plot.clear()
        self.validation_plot.clear()
        self.results_button.hide()

    def _show_results(self) -> None:
        if self.monitor.run_id:
            self.context.run_selected.emit(self.monitor.run_id)

    def _render(self) -> None:
        had_focus, m = QApplication.focusWidget(), self.monitor
        running = m.phase is Phase.RUNNING
        self.start_button.setEnabled(not running and self.dataset_combo.count() > 0 and self.workspace is not None)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self._resumable_run is not None)
        self.resume_button.setToolTip(f"Continue run {self._resumable_run}" if self._resumable_run else "Nothing to resume")
        self.dataset_combo.setEnabled(not running)
        # What a run trains with is fixed when it starts: a value changed meanwhile would show
        # beside a run that does not use it (and Resume would not either).
        self.settings_scroll.widget().setEnabled(not running)
        resumed = running and bool(self._resumed)
        self.resumed_label.setText((self._resumed or "") if resumed else "")
        self.resumed_label.setVisible(resumed)
        for widget in (self.settings_scroll, self.estimate_heading, self.estimate_label):
            widget.setVisible(not resumed)
        self.device_label.setText(f"Device: {m.device or '—'}")
        self.progress.setValue(int(1000 * m.fraction))
        self.progress_text.setText(m.progress_text())
        self.epsilon_label.setVisible(m.epsilon is not None)
        if m.epsilon is not None:
            self.epsilon_label.setText(f"Privacy spent: ε = {m.epsilon:.2f} (loss curve below)")
        if m.phase is Phase.IDLE:
            self.message.setText("Check the settings, then press Start training." if self.dataset_combo.count()
                                 else "Import a dataset first (Datasets page).")
        else:
            prefix = {Phase.FAILED: "✖ ", Phase.FINISHED: "✔ "}.get(m.phase, "")
            self.message.setText(prefix + m.message)
        self.message.setProperty("error", m.phase is Phase.FAILED)
        # How a run ended shows below; the user is on Start (a refusal, a cancel) or See results,
        # where a screen reader hears it once (only refusals were said before).
        said = {Phase.FAILED: self.start_button, Phase.CANCELLED: self.start_button,
                Phase.FINISHED: self.results_button}.get(m.phase)
        for button in (self.start_button, self.results_button):
            text = self.message.text() if button is said else ""
            if button.accessibleDescription() != text:
                announce(text, on=button)
        # Start, Cancel or a setting disabled under the keyboard: Qt would move on to the plot.
        refocus(had_focus, self.cancel_button, self.results_button, self.start_button)
        self.message.style().polish(self.message)

