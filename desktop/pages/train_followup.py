"""What the Train page shows about its last run when that run's fate is decided elsewhere: a
lock stopped it (offered again, with Resume, after unlocking) or the Runs page deleted it (its
See results, Resume and curves go with it)."""
from __future__ import annotations

from typing import Any

from desktop.state import Phase


class RunFollowUp:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.stopped_by_lock: str | None = None  # a run id (no data), kept across the lock
        page.context.runs_changed.connect(self.forget_if_deleted)

    def locking(self) -> None:
        """Before the page forgets everything: a run the lock cancelled (not the user's Cancel)
        is remembered by id."""
        page = self.page
        stopped = page.monitor.phase is Phase.CANCELLED and not page._cancel_asked
        self.stopped_by_lock = page._resumable_run if stopped else None

    def unlocked(self, workspace: Any) -> None:
        """Offer the run again, if it is in the vault just unlocked (another folder may have
        been chosen meanwhile, or the run deleted)."""
        from desktop.jobs import run_exists

        run_id, self.stopped_by_lock = self.stopped_by_lock, None
        if not run_id or not run_exists(workspace, run_id):
            return
        page = self.page
        page._resumable_run = page.monitor.run_id = run_id
        page.monitor.phase = Phase.CANCELLED
        page.monitor.message = (f"Run {run_id} stopped when Cloister locked. Resume continues it "
                                "from its last checkpoint.")

    def forget_if_deleted(self) -> None:
        """A run deleted on the Runs page takes its See results and Resume with it."""
        page = self.page
        run_id = page.monitor.run_id
        # Only a run shown finished or cancelled has a record for sure (a failed one may not).
        if not run_id or page.workspace is None or page.monitor.phase not in (Phase.FINISHED, Phase.CANCELLED):
            return
        from desktop.jobs import run_exists

        if not run_exists(page.workspace, run_id):
            page.clear_run()
            page._render()
