"""The Train page's estimate line: time and peak memory for the settings in the fields, worked
out on the worker thread a moment after the last change (typing must not start a job a key)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from desktop.state import format_duration
from desktop.worker import Done, Job
from engine.events import Failed
from engine.units import human_size


class EstimateLine(QLabel):
    def __init__(self, page: Any) -> None:
        super().__init__("")
        self.page = page
        self.setWordWrap(True)
        self.setObjectName("estimate")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self._estimate)
        self._job: Job | None = None

    def schedule(self, running: bool) -> None:
        if self.page.dataset_combo.currentData() and not running:
            self._timer.start()

    def _estimate(self) -> None:
        if self._job is not None and self._job.is_running():
            self._timer.start()
            return
        from desktop.jobs import estimate, make_config

        page = self.page
        options, rows = page.config_options(), page._rows()
        mean = page.auto_box.mean_tokens(page.max_length.value())  # measured lengths, if known
        self.setText("Estimating…")
        auto = page.auto_box.auto
        job = Job.call(lambda _c: estimate(make_config(**options), rows, mean, auto), name="estimate",
                       parent=self)
        job.ended.connect(self._on_done)
        self._job = job
        page.context.start(job)

    def _on_done(self, terminal: object) -> None:
        if isinstance(terminal, Done):
            e = terminal.value
            memory = human_size(e.peak_memory_bytes) if getattr(e, "peak_memory_bytes", None) else "?"
            dp = " with differential privacy" if self.page.privacy.enabled.isChecked() else ""
            duration = format_duration(e.seconds)
            duration = duration.capitalize() if duration.startswith("under") else f"About {duration}"
            # An idle machine's figure: the progress line's own estimate follows the real pace.
            self.setText(f"{duration} on {e.device_name}{dp} (with nothing else running), peak "
                         f"memory about {memory}.")
        elif isinstance(terminal, Failed):
            self.setText(terminal.message)
