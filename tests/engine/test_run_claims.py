"""A run whose process was killed is not "running" forever: it shows as failed and resumes;
a run another process trains now can be neither resumed nor deleted from here."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.events import Failed, Finished
from engine.run_claims import CLAIMS_DIR, claim_path, claim_run, is_being_trained
from engine.runs import RunStatus, list_runs, load_run
from engine.training import resume
from tests.engine.test_prediction import train_tiny_run
from tests.engine.tiny_model import TEST_PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]


def cli(root: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--workspace", str(root)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ws, run_id, _ = train_tiny_run(tmp_path)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    return ws, tmp_path


def start_training(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """`cloister train` in a child process, long enough to be caught after its first
    checkpoint: -> (the child, its run id), once that checkpoint is saved."""
    env = {**os.environ, "CLOISTER_PASSPHRASE": TEST_PASSPHRASE}
    child = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "train", "sms", "--model", str(tmp_path / "tiny-bert"),
         "--epochs", "5000", "--early-stopping", "0", "--batch-size", "8", "--max-length", "32",
         "--lr", "1e-3",
         "--json", "--workspace", str(tmp_path / "workspace")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env, text=True)
    run_id = None
    for line in child.stdout:
        event = json.loads(line)
        run_id = event.get("run_id", run_id)
        if event["event"] == "checkpointsaved":
            return child, run_id
    child.wait(timeout=60)
    raise AssertionError(f"the child ended before a checkpoint: {child.stderr.read()}")


def test_a_killed_run_shows_as_failed_and_resumes(trained, capsys) -> None:
    ws, tmp_path = trained
    child, run_id = start_training(tmp_path)
    try:
        # While the child trains: running, and neither resumable nor deletable from here.
        assert is_being_trained(ws, run_id) is True
        assert load_run(ws, run_id).status is RunStatus.RUNNING
        code, _, err = cli(tmp_path / "workspace", capsys, "rm-run", run_id, "--yes", "--force")
        assert code == 2 and "is being trained right now" in err and "cancel it there" in err
        events = list(resume(ws, run_id))
        assert isinstance(events[-1], Failed) and "is being trained right now" in events[-1].message
    finally:
        child.send_signal(signal.SIGKILL)  # no handler runs: the record still says "running"
        child.wait(timeout=60)
    assert ws.read_json(f"runs/{run_id}/run.json")["status"] == "running"
    assert is_being_trained(ws, run_id) is False  # the OS dropped the dead child's lock
    seen = {r.run_id: r for r in list_runs(ws)}[run_id]
    assert seen.status is RunStatus.FAILED and seen.resumable
    assert "stopped without finishing" in seen.error and "resume it from its last checkpoint" in seen.error
    # The first look records the end the dead child could not: in its record and, once, in
    # the audit log, so the log does not show a run started and never ended.
    assert ws.read_json(f"runs/{run_id}/run.json")["status"] == "failed"
    list_runs(ws)
    assert ended_entries(ws, run_id) == ["killed"]
    code, out, _ = cli(tmp_path / "workspace", capsys, "runs")
    assert code == 0 and run_id in out and "failed" in out.split(run_id)[1].splitlines()[0]
    # It continues from the child's last checkpoint.
    from engine.training import checkpoint as ckpt_io

    at_step = ckpt_io.load_checkpoint(ws, run_id).progress.global_step
    token_events = resume(ws, run_id)
    started = next(token_events)
    assert started.run_id == run_id and started.resumed_from_step == at_step > 0
    token_events.close()  # closing the generator stops the run and releases its claim
    assert is_being_trained(ws, run_id) is False
    actions = [e.action for e in ws.verify_audit().entries if e.details.get("run") == run_id]
    assert actions[:3] == ["run.started", "run.ended", "run.resumed"]


def ended_entries(ws, run_id: str) -> list[str]:
    return [e.details["status"] for e in ws.verify_audit().entries
            if e.action == "run.ended" and e.details.get("run") == run_id]


def test_a_run_killed_before_its_first_checkpoint_says_to_start_again(trained, capsys) -> None:
    ws, tmp_path = trained
    finished = list_runs(ws)[0]
    ws.write_json(f"runs/{finished.run_id}/run.json",
                  {**finished.to_dict(), "status": "running"})  # as a kill at the start leaves it
    seen = load_run(ws, finished.run_id)
    assert seen.status is RunStatus.FAILED and "had not saved a checkpoint yet" in seen.error
    assert ended_entries(ws, finished.run_id) == ["finished", "killed"]
    code, out, _ = cli(tmp_path / "workspace", capsys, "rm-run", finished.run_id, "--yes")
    assert code == 0 and "Deleted run" in out  # no --force needed: nothing trains it
    assert not claim_path(ws, finished.run_id).exists()


def test_a_run_held_in_this_process_counts_as_trained(trained) -> None:
    # The desktop trains in a worker thread of the same process as its Runs page: flock locks
    # belong to the open file, so the page's check is refused as another process's would be.
    ws, _ = trained
    run_id = list_runs(ws)[0].run_id
    with claim_run(ws, run_id):
        assert is_being_trained(ws, run_id) is True
        with pytest.raises(Exception, match="is being trained right now"):
            with claim_run(ws, run_id):
                pass
    assert is_being_trained(ws, run_id) is False


def test_the_claim_file_holds_nothing_and_only_the_owner_reads_it(trained) -> None:
    ws, tmp_path = trained
    run_id = list_runs(ws)[0].run_id
    with claim_run(ws, run_id):
        path = claim_path(ws, run_id)
        assert path.parent == tmp_path / "workspace" / CLAIMS_DIR and path.read_bytes() == b""
        assert run_id not in path.name and run_id[:8] not in path.name  # no start time on disk
        assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0


def test_sigterm_checkpoints_the_run_and_marks_it_cancelled(trained, capsys) -> None:
    """`kill` or `timeout` on `cloister train` stops it as Ctrl-C does: checkpointed, marked
    cancelled with its end in the audit log, and resumable."""
    ws, tmp_path = trained
    child, run_id = start_training(tmp_path)
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=120)  # read what it still prints: a full pipe would block it
    assert child.returncode == 143  # 128 + SIGTERM, as every command says; Ctrl-C is 130
    record = load_run(ws, run_id)
    assert record.status is RunStatus.CANCELLED and record.resumable
    from engine.training import checkpoint as ckpt_io

    assert ckpt_io.load_checkpoint(ws, run_id).progress.global_step > 0
    ended = [e for e in ws.verify_audit().entries if e.action == "run.ended"]
    assert ended[-1].details == {"run": run_id, "status": "cancelled"}


def test_lock_files_named_by_run_id_by_earlier_versions_are_swept(trained) -> None:
    ws, tmp_path = trained
    run_id = list_runs(ws)[0].run_id
    folder = tmp_path / "workspace" / CLAIMS_DIR
    folder.mkdir(exist_ok=True)
    legacy = folder / "20261201-101500-a1b2c3d4"  # how versions before 2026-12-06 named them
    legacy.write_bytes(b"")
    with claim_run(ws, run_id):
        assert not legacy.exists()
        assert [p.name for p in folder.iterdir()] == [claim_path(ws, run_id).name]


def test_a_backup_leaves_the_claims_and_lock_folders_out() -> None:
    # privacy may not import engine: the backup names the folders itself, and must name these.
    from engine.data.dataset_writes import LOCKS_DIR
    from privacy.vault.backup import _NOT_COPIED

    assert _NOT_COPIED == {CLAIMS_DIR, LOCKS_DIR}


def test_a_stopped_run_found_where_nothing_can_be_written_still_shows_as_failed(trained, monkeypatch) -> None:
    ws, _ = trained
    finished = list_runs(ws)[0]
    ws.write_json(f"runs/{finished.run_id}/run.json", {**finished.to_dict(), "status": "running"})

    def refuse(*_a, **_k):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(ws, "write_json", refuse)
    seen = load_run(ws, finished.run_id)
    assert seen.status is RunStatus.FAILED and "stopped without finishing" in seen.error
    assert ws.read_json(f"runs/{finished.run_id}/run.json")["status"] == "running"  # untouched
    monkeypatch.undo()
    load_run(ws, finished.run_id)  # a later look, where it can write, records it
    assert ended_entries(ws, finished.run_id) == ["finished", "killed"]


def test_a_run_taken_up_while_it_is_looked_at_is_left_to_its_trainer(trained) -> None:
    ws, _ = trained
    finished = list_runs(ws)[0]
    ws.write_json(f"runs/{finished.run_id}/run.json", {**finished.to_dict(), "status": "running"})
    from engine import runs

    stored = runs.RunRecord.from_dict(ws.read_json(f"runs/{finished.run_id}/run.json"))
    with claim_run(ws, finished.run_id):  # a trainer holds it, as a resume starting now would
        runs._record_the_stop(ws, stored.updated(status=RunStatus.FAILED, error="seen stopped"))
    assert ws.read_json(f"runs/{finished.run_id}/run.json")["status"] == "running"
    assert ended_entries(ws, finished.run_id) == ["finished"]


def test_a_disk_too_full_for_the_record_logs_nothing_again_and_again(trained, monkeypatch) -> None:
    # The entry was written first; the record's write, which checks for room, then failed, and
    # every later look logged the run's end once more on a disk already short of space.
    import collections
    import shutil

    import privacy.vault.index as index

    ws, _ = trained
    finished = list_runs(ws)[0]
    ws.write_json(f"runs/{finished.run_id}/run.json", {**finished.to_dict(), "status": "running"})
    usage, real = collections.namedtuple("usage", "total used free"), shutil.disk_usage
    monkeypatch.setattr(index.shutil, "disk_usage", lambda _p: usage(10**9, 10**9, 100 * 1024))
    for _ in range(3):
        assert load_run(ws, finished.run_id).status is RunStatus.FAILED
    assert ended_entries(ws, finished.run_id) == ["finished"]
    monkeypatch.setattr(index.shutil, "disk_usage", real)
    load_run(ws, finished.run_id)  # room again: recorded, once
    load_run(ws, finished.run_id)
    assert ended_entries(ws, finished.run_id) == ["finished", "killed"]


def test_a_run_that_fails_is_not_also_taken_for_a_killed_one(trained, monkeypatch) -> None:
    # Its claim was released before its failure was recorded: a look at the runs in between
    # logged it killed, then it logged itself failed.
    import engine.training.entry as entry
    from engine.training import TrainConfig, train

    ws, tmp_path = trained
    earlier = {r.run_id for r in list_runs(ws)}
    config = TrainConfig(dataset="sms", model_path=str(tmp_path / "tiny-bert"), epochs=1,
                         batch_size=8, max_length=32)

    def broken(*_a, **_k):
        raise RuntimeError("parts could not be built")

    real = entry.to_failed

    def looked_at_meanwhile(*a, **k):
        list_runs(ws)  # another window's Runs page refreshes now
        return real(*a, **k)

    monkeypatch.setattr(entry, "to_failed", looked_at_meanwhile)
    events = list(train(ws, config, parts_factory=broken))
    assert isinstance(events[-1], Failed) and "parts could not be built" in events[-1].message
    [newest] = [r for r in list_runs(ws) if r.run_id not in earlier]  # not by time: same second
    assert newest.status is RunStatus.FAILED and ended_entries(ws, newest.run_id) == ["failed"]
    assert is_being_trained(ws, newest.run_id) is False  # released once it was recorded
