"""What every page shares: the unlocked workspace, the settings, the running jobs, and the
notifications pages send each other (a dataset was imported, a run finished, a run was chosen).

Pages never reach for the main window; they hold this object and listen to its signals.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.settings import Settings, save_settings, workspace_root
from desktop.worker import Job, JobRegistry

if TYPE_CHECKING:
    from engine.vault import Vault


class AppContext(QObject):
    workspace_changed = Signal(object)  # the Workspace, or None when locked
    datasets_changed = Signal()
    runs_changed = Signal()
    run_selected = Signal(str)  # a run id: show its results
    status_message = Signal(str)
    busy_changed = Signal(bool)  # a long job (training, prediction, export) started/ended

    def __init__(self, settings: Settings, *, kdf: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.kdf = kdf  # key-derivation parameters for a new vault (tests pass cheap ones)
        self.workspace: Vault | None = None
        self.jobs = JobRegistry(self)

    @property
    def root(self) -> Path:
        return workspace_root(self.settings)

    @property
    def unlocked(self) -> bool:
        return self.workspace is not None

    def set_workspace(self, workspace: Vault | None) -> None:
        self.workspace = workspace
        self.workspace_changed.emit(workspace)

    def update_settings(self, settings: Settings) -> None:
        """Use ``settings`` now, then save them (an OSError from saving leaves them in use)."""
        self.settings = settings.validated()
        save_settings(self.settings)

    def start(self, job: Job, *, long: bool = False) -> Job:
        """Start a job; ``long`` ones mark the app busy (idle lock waits, closing asks)."""
        if long:
            self.busy_changed.emit(True)
            job.ended.connect(lambda _t: self.busy_changed.emit(self.jobs.busy()))
        return self.jobs.start(job)
