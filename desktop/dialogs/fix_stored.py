"""Fix… on a dataset already in the vault: the Datasets page's fix buttons for stored rows, as
``cloister fix`` does (``engine.data.fix_stored``), with no need for the source file.

After a run said that its test rows repeat training rows, the only way the app gave was to open
the source file again, fix it and import it under the same name. Here each fix replaces the
stored rows at once, joins the dataset's history and the audit log, and the problems left are
shown again; a refused fix changes nothing.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget,
)

from desktop.context import AppContext
from desktop.pages.draft_check import fill_problem_list, problems_title
from desktop.pages.fixes_panel import FixesPanel
from desktop.worker import Done, Job
from engine.events import Failed


class StoredFixDialog(QDialog):
    def __init__(self, context: AppContext, dataset: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.dataset = context, dataset
        self.info: Any = None
        self._closed = False  # set by done(): a lock rejects the dialog before it waits for jobs
        self.problems_seen: list[Any] = []
        self.setWindowTitle(f"Fix — {dataset}")
        self.setMinimumWidth(520)
        intro = QLabel("Each fix replaces the stored rows at once and is kept in the dataset's "
                       "history and the audit log; runs already trained keep their records. "
                       "Train again afterwards to use the fixed rows.")
        intro.setWordWrap(True)
        self.title = QLabel("Checking the dataset…")
        self.title.setObjectName("sectionTitle")
        self.fixes = FixesPanel()
        self.fixes.fix_chosen.connect(self.apply)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setAccessibleName("Problems")
        self.fixes.after_fix = self.problems
        self.status = QLabel("")
        self.status.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, self.title, self.fixes):
            layout.addWidget(widget)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self._check()

    def _start(self, body: Any, done: Any) -> None:
        workspace = self.context.workspace
        # Closed, or a lock under way (it rejects dialogs, then waits for jobs): no new work,
        # which would start after the lock's look at the running jobs and race it.
        if workspace is None or self._closed:
            return
        self.fixes.set_busy(True)
        job = Job.call(lambda _cancel: body(workspace), name="fix", parent=self)
        job.ended.connect(done)
        self.context.start(job)

    def done(self, result: int) -> None:  # noqa: D102 - QDialog's, closing it for good
        self._closed = True
        super().done(result)

    def _check(self) -> None:
        from engine.data.fix_stored import stored_fix_options

        self._start(lambda ws: stored_fix_options(ws, self.dataset), self._checked)

    def _checked(self, terminal: object) -> None:
        if not isinstance(terminal, Done):
            self.status.setText(terminal.message if isinstance(terminal, Failed) else "Stopped.")
            self.title.setText("The dataset could not be checked")  # not "Checking…" for good
            self.fixes.set_busy(False)
            self.fixes.fix_failed(self.status.text())  # no new buttons: said on the one pressed
            self.context.datasets_changed.emit()  # deleted or renamed elsewhere: the list follows
            return
        self.info, problems, options = terminal.value
        self.problems_seen = list(problems)
        self.title.setText(problems_title(self.problems_seen))
        fill_problem_list(self.problems, self.problems_seen)
        self.fixes.set_options(options, list(self.info.history))
        for button in self.fixes.buttons:  # here a fix is stored at once, not at an import
            if button.isEnabled():
                button.setToolTip("Replaces the stored rows; recorded in the dataset's history "
                                  "and the audit log.")
        if not options:
            self.status.setText(self.status.text() or "Nothing here has a one-step fix.")

    def apply(self, option: Any) -> None:
        from engine.data.fix_stored import apply_stored_fix

        self.status.setText(f"Applying: {option.label}…")
        # The options were made for the contents read then: another since is refused, not fixed.
        offered_on = self.info.sha256 if self.info is not None else None
        self._start(lambda ws: apply_stored_fix(ws, self.dataset, option.fix, offered_on=offered_on),
                    self._applied)

    def _applied(self, terminal: object) -> None:
        if isinstance(terminal, Done):
            info = terminal.value
            self.status.setText(f"Stored: {info.rows:,} rows, {info.num_classes} classes.")
            self.context.datasets_changed.emit()
        else:  # refused: nothing stored changed here (but another writer may have changed it)
            self.status.setText("Not applied: " + (terminal.message if isinstance(terminal, Failed)
                                                   else "stopped."))
            self.fixes.fix_failed(self.status.text())
            self.context.datasets_changed.emit()  # the list shows the dataset as it is now
        self._check()
