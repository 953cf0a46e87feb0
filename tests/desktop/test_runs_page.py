"""The Runs page with a run whose training process died (shown as failed: resumable and
deletable), one another process trains now (neither), and one where nobody can tell (asked)."""
from __future__ import annotations

import time

import pytest

from PySide6.QtWidgets import QMessageBox

from engine.run_claims import claim_run
from engine.runs import RunRecord, RunStatus, list_runs, save_run
from engine.training.checkpoint import checkpoint_key
from tests.desktop.helpers import answer_next_message_box


def _crashed_run(ws) -> str:
    """What a killed training leaves: a record still saying "running", and its checkpoint."""
    record = RunRecord(run_id="20261205-101500-0badcafe", dataset="messages", config={"epochs": 3},
                       status=RunStatus.RUNNING, created="2026-12-05T10:15:00+00:00")
    save_run(ws, record)
    ws.write_bytes(checkpoint_key(record.run_id), b"trained on private rows")
    return record.run_id


@pytest.fixture
def nobody_can_tell(monkeypatch):
    """Where the workspace's lock files cannot be read (``is_being_trained`` says None)."""
    monkeypatch.setattr("engine.run_claims.is_being_trained", lambda _ws, _run: None)
    monkeypatch.setattr("engine.runs.is_being_trained", lambda _ws, _run: None)


def test_a_run_whose_process_died_shows_as_failed_and_can_be_resumed_or_deleted(window):
    ws = window.context.workspace
    run_id = _crashed_run(ws)
    window.show_page("runs")
    page = window.runs_page
    page.refresh()
    status = page.table.item(0, 2)
    assert status.text() == "failed" and "stopped without finishing" in status.toolTip()
    page.select_runs([run_id])
    assert page.delete_button.isEnabled() and page.resume_button.isEnabled()
    assert "recorded as running" not in page.hint.text()
    ws.delete(checkpoint_key(run_id))  # as a run killed before its first checkpoint leaves it
    page.refresh()
    page.select_runs([run_id])
    assert not page.resume_button.isEnabled() and "before its first checkpoint" in \
        page.resume_button.toolTip()
    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes, seen=seen)
    page.delete_button.click()
    assert "recorded as running" not in seen[0]  # no caveat: nothing trains it
    assert list_runs(ws) == [] and ws.list(f"runs/{run_id}/") == []


def test_a_run_another_process_trains_can_be_neither_resumed_nor_deleted(window):
    ws = window.context.workspace
    run_id = _crashed_run(ws)
    with claim_run(ws, run_id):  # as `cloister train` in a terminal holds it
        window.show_page("runs")
        page = window.runs_page
        page.refresh()
        assert page.table.item(0, 2).text() == "running"
        page.select_runs([run_id])
        assert not page.delete_button.isEnabled() and not page.resume_button.isEnabled()
        assert (f"Run {run_id} is being trained by another Cloister window or a `cloister` "
                "command: cancel it there") in page.hint.text()
    page.refresh()  # that training ended (its claim released) without saying so: it failed
    page.select_runs([run_id])
    assert page.delete_button.isEnabled() and page.resume_button.isEnabled()


def test_a_run_recorded_as_running_can_be_deleted_after_a_warning_where_nobody_can_tell(
        qtbot, window, nobody_can_tell):
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


def test_deleting_a_crashed_run_beside_a_finished_one_is_refused_by_the_engine_without_force(
        window, nobody_can_tell):
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


def test_a_run_that_finished_since_the_list_was_read_is_not_deleted_as_crashed(window,
                                                                                nobody_can_tell):
    # A `cloister train` finished while the page still said "running": the app asked about it
    # as a run left by a crash, and deleted the finished run with its report.
    from engine.runs import load_run

    ws = window.context.workspace
    run_id = _crashed_run(ws)
    window.show_page("runs")
    page = window.runs_page
    page.refresh()
    page.select_runs([run_id])
    save_run(ws, load_run(ws, run_id).updated(status=RunStatus.FINISHED))  # the command ended
    warned: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)  # "delete the crashed run?"
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Ok, seen=warned)
    page.delete_button.click()
    assert f"run {run_id} is finished now, not running as the list showed it" in warned[0]
    assert [r.run_id for r in list_runs(ws)] == [run_id]  # kept
    assert page.table.item(0, 2).text() == "finished"  # and the list brought up to date


def test_a_run_whose_record_cannot_be_read_is_named_and_can_be_deleted(window):
    # It was left out of the list without a word; its model and report (which may quote rows of
    # a dataset deleted since) could be removed only with `cloister rm-run --force`.
    ws = window.context.workspace
    kept = RunRecord(run_id="20261205-100000-00c0ffee", dataset="messages", config={},
                     status=RunStatus.FINISHED, created="2026-12-05T10:00:00+00:00")
    save_run(ws, kept)
    damaged = _crashed_run(ws)
    window.show_page("runs")
    window.runs_page.refresh()
    path = ws.file_of(f"runs/{damaged}/run.json")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    window.show_page("runs")
    page = window.runs_page
    assert page.delete_unreadable_button.isHidden()  # nothing to say before the record is read
    page.refresh()
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text() == kept.run_id
    assert not page.unreadable_note.isHidden() and not page.delete_unreadable_button.isHidden()
    assert page.unreadable_note.text().startswith(f"⚠ 1 run cannot be read ({damaged}): its "
                                                  "record is damaged")
    assert "rows of any dataset" in page.unreadable_note.text()
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    page.delete_unreadable_button.click()
    assert ws.list(f"runs/{damaged}/") == [] and [r.run_id for r in list_runs(ws)] == [kept.run_id]
    assert page.unreadable_note.isHidden() and page.delete_unreadable_button.isHidden()
