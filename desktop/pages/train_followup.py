"""What the Train page shows about its last run when that run's fate is decided elsewhere: a
lock stopped it (offered again, with Resume, after unlocking) or the Runs page deleted it (its
See results, Resume and curves go with it)."""
from __future__ import annotations

from typing import Any

from desktop.state import Phase
from engine.units import rate_text


def resumed_settings_text(workspace: Any, run_id: str) -> str:
    """What a resumed run trains with: the settings it started with, whatever the form holds."""
    from engine.runs import load_run, used_settings

    try:
        record = load_run(workspace, run_id)
    except Exception:  # noqa: BLE001 - the resume itself says what is wrong with the run
        return f"Resuming run {run_id} with the settings it started with."
    used = used_settings(record)
    epochs = used.get("epochs")
    said = [f"{epochs} epoch{'' if epochs == 1 else 's'}" if epochs else "",
            f"learning rate {rate_text(float(used['learning_rate']))}" if used.get("learning_rate") else "",
            f"max length {used['max_length']}" if used.get("max_length") else "",
            f"batch size {used['batch_size']}" if used.get("batch_size") else "",
            f"differential privacy at ε = {used['dp_epsilon']:g}" if used.get("dp") else ""]
    return (f"Resuming run {run_id} on '{record.dataset}' with the settings it started with: "
            f"{', '.join(s for s in said if s)}. The form comes back when it ends, for new runs.")


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
