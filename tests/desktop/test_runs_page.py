"""The Runs page with a run left "running" by a crash: it can be removed from the window."""
from __future__ import annotations

import time

import pytest

from PySide6.QtWidgets import QMessageBox

from engine.runs import RunRecord, RunStatus, list_runs, save_run
from tests.desktop.helpers import answer_next_message_box


def _crashed_run(ws) -> str:
    """What a killed training leaves: a record still saying "running", and its checkpoint."""
    record = RunRecord(run_id="20261205-101500-0badcafe", dataset="messages", config={"epochs": 3},
                       status=RunStatus.RUNNING, created="2026-12-05T10:15:00+00:00")
    save_run(ws, record)
    ws.write_bytes(f"runs/{record.run_id}/checkpoint/state.bin", b"trained on private rows")
    return record.run_id


def test_a_run_left_running_by_a_crash_can_be_deleted_after_a_warning(qtbot, window):
    from desktop.worker import Job

    ws = window.context.workspace
    run_id = _crashed_run(ws)
    window.show_page("runs")
    page = window.runs_page
    page.refresh()
    page.select_runs([run_id])
    assert page.delete_button.isEnabled() and not page.resume_button.isEnabled()
    assert f"Run {run_id} is recorded as running, but this window is not training it" in page.hint.text()

    # While this window trains, a "running" record may be that training: not deletable here.
    def busy(cancel):
        while not cancel.cancelled:
            time.sleep(0.01)
        yield from ()

    job = window.context.start(Job(busy, name="train", parent=page), long=True)
    # The selection stays; the button follows the training that just started, and its end.
    qtbot.waitUntil(lambda: not page.delete_button.isEnabled(), timeout=5_000)
    job.cancel()
    qtbot.waitUntil(lambda: page.delete_button.isEnabled(), timeout=5_000)
    page.select_runs([])
    assert "recorded as running" not in page.hint.text()  # the hint follows the selection
    page.select_runs([run_id])
    assert page.delete_button.isEnabled()

    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
    page.delete_button.click()
    assert "left so when Cloister was closed or killed" in seen[0]
    assert "`cloister train` command is training it right now, cancel that first" in seen[0]
    assert [r.run_id for r in list_runs(ws)] == [run_id]  # Cancel kept it
    page.select_runs([run_id])
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    page.delete_button.click()
    assert list_runs(ws) == [] and ws.list(f"runs/{run_id}/") == []
    assert page.table.rowCount() == 0


def test_deleting_a_crashed_run_beside_a_finished_one_is_refused_by_the_engine_without_force(window):
    from desktop.jobs import delete_runs
    from engine.errors import InputError

    ws = window.context.workspace
    run_id = _crashed_run(ws)
    finished = RunRecord(run_id="20261205-100000-00c0ffee", dataset="messages", config={},
                         status=RunStatus.FINISHED, created="2026-12-05T10:00:00+00:00")
    save_run(ws, finished)
    with pytest.raises(InputError, match="recorded as running"):
        delete_runs(ws, [finished.run_id, run_id])
    # Refused before anything was deleted: the finished run is still there too.
    assert sorted(r.run_id for r in list_runs(ws)) == sorted([finished.run_id, run_id])
