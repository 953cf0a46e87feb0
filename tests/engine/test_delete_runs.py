"""Deleting runs (`cloister rm-run`, `rm --with-runs`): a run's model and its report (which
quotes test rows) are what is left of a dataset after `rm`, so erasing data means erasing them."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.cli import main
from engine.data.store import list_datasets
from engine.run_claims import claim_run
from engine.runs import RunStatus, delete_run, list_runs, load_run, save_run
from tests.engine.test_prediction import train_tiny_run
from tests.engine.tiny_model import TEST_PASSPHRASE


@pytest.fixture
def trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ws, run_id, _ = train_tiny_run(tmp_path)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    return ws, run_id, tmp_path / "workspace"


def cli(root: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--workspace", str(root)])
    out, err = capsys.readouterr()
    return code, out, err


def test_rm_run_unlinks_the_model_report_and_record(trained, capsys) -> None:
    ws, run_id, root = trained
    assert ws.list(f"runs/{run_id}/")  # record, model, report
    code, out, _ = cli(root, capsys, "rm-run", run_id, "--yes")
    assert code == 0 and f"Deleted run {run_id}" in out
    assert ws.list(f"runs/{run_id}/") == [] and list_runs(ws) == []
    code, _, err = cli(root, capsys, "predict", run_id, "--text", "hello")
    assert code == 2 and f"no run '{run_id}'" in err
    assert [name for name in list_datasets(ws)] != []  # the dataset stays
    code, _, err = cli(root, capsys, "rm-run", run_id, "--yes")
    assert code == 2 and f"no run '{run_id}'" in err


def test_rm_run_asks_first_and_refuses_unknown_ids_before_deleting_any(trained, capsys) -> None:
    ws, run_id, root = trained
    code, _, err = cli(root, capsys, "rm-run", run_id)  # no terminal to ask on: refused
    assert code == 2 and "without confirmation; pass --yes" in err
    code, _, err = cli(root, capsys, "rm-run", run_id, "nope-123", "--yes")
    assert code == 2 and "no run 'nope-123'" in err
    assert load_run(ws, run_id).run_id == run_id  # nothing deleted


def test_a_run_recorded_as_running_needs_force_where_no_one_can_tell(trained, capsys,
                                                                    monkeypatch) -> None:
    # Where the workspace's lock files cannot be read (``is_being_trained`` says None), a run
    # recorded as running may be training in another process: --force is the user's word.
    ws, run_id, root = trained
    monkeypatch.setattr("engine.runs.is_being_trained", lambda _ws, _run: None)
    save_run(ws, dataclasses.replace(load_run(ws, run_id), status=RunStatus.RUNNING))
    assert load_run(ws, run_id).status is RunStatus.RUNNING
    code, _, err = cli(root, capsys, "rm-run", run_id, "--yes")
    assert code == 2 and "is recorded as running: cancel it first" in err and "--force" in err
    assert ws.list(f"runs/{run_id}/")
    code, _, _ = cli(root, capsys, "rm-run", run_id, "--yes", "--force")
    assert code == 0 and ws.list(f"runs/{run_id}/") == []


def test_rm_dataset_says_what_it_keeps_or_takes_the_runs_with_it(trained, tmp_path, capsys,
                                                                  monkeypatch) -> None:
    ws, run_id, root = trained
    # Asked on a terminal, the question says that the runs stay, before the answer.
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")
    code, out, _ = cli(root, capsys, "rm", "sms")
    assert code == 0 and "Nothing deleted." in out
    assert "(1 run trained on it will be kept; --with-runs deletes them too)" in asked[0]
    code, out, _ = cli(root, capsys, "rm", "sms", "--yes")
    assert code == 0 and "1 run trained on it is kept" in out and "--with-runs" in out
    assert load_run(ws, run_id).dataset == "sms"
    ws2, run2, _ = train_tiny_run(tmp_path / "second")
    root2 = tmp_path / "second" / "workspace"
    code, out, _ = cli(root2, capsys, "rm", "sms", "--with-runs", "--yes")
    assert code == 0 and "Deleted dataset 'sms' and its 1 run." in out
    assert list_runs(ws2) == [] and ws2.list("runs/") == [] and list_datasets(ws2) == []


def test_delete_run_is_audited(trained, capsys) -> None:
    ws, run_id, root = trained
    assert delete_run(ws, run_id) >= 3
    code, out, _ = cli(root, capsys, "audit")
    last = out.splitlines()[-1]
    assert code == 0 and last.split()[3] == "run.deleted" and run_id in last


def test_rm_with_runs_finds_runs_trained_before_a_rename(trained, capsys) -> None:
    ws, run_id, root = trained
    assert cli(root, capsys, "rename", "sms", "texts")[0] == 0
    code, out, _ = cli(root, capsys, "rm", "texts", "--with-runs", "--yes")
    assert code == 0 and "and its 1 run." in out  # the run still says 'sms'; its digest matches
    assert ws.list(f"runs/{run_id}/") == []


def test_nothing_is_deleted_when_one_of_the_runs_is_running(trained, tmp_path, capsys) -> None:
    ws, run_id, root = trained
    # A second, finished run on the same data, and the first one being trained elsewhere.
    from engine.training import TrainConfig, train

    other = list(train(ws, TrainConfig(**{**load_run(ws, run_id).config, "seed": 5})))[-1].run_id
    save_run(ws, dataclasses.replace(load_run(ws, run_id), status=RunStatus.RUNNING))
    with claim_run(ws, run_id):  # as a trainer in another window or command holds it
        code, _, err = cli(root, capsys, "rm-run", other, run_id, "--yes", "--force")
        assert code == 2 and f"run {run_id} is being trained right now" in err
        code, _, err = cli(root, capsys, "rm", "sms", "--with-runs", "--yes")
        assert code == 2 and "cancel it there first" in err
    assert ws.list(f"runs/{other}/") and ws.list(f"runs/{run_id}/") and list_datasets(ws)


def test_runs_belong_to_the_contents_their_dataset_holds_now_not_to_a_name_or_a_copy(
        trained, tmp_path, capsys) -> None:
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset

    ws, run_id, root = trained
    source = tmp_path / "source.csv"
    # The same file imported again under another name: the run is not the copy's.
    assert cli(root, capsys, "import", str(source), "--name", "copy")[0] == 0
    code, out, _ = cli(root, capsys, "rm", "copy", "--with-runs", "--yes")
    assert code == 0 and "Deleted dataset 'copy'." in out and "run(s)" not in out
    assert load_run(ws, run_id).dataset == "sms" and ws.list(f"runs/{run_id}/")
    # 'sms' imported again with other contents: the run trained on the earlier 'sms', whose
    # contents no dataset holds now, goes with the name (its report quotes the old rows).
    other = tmp_path / "other.csv"
    other.write_text("text,label\n" + "".join(f"row {i} here,{'ab'[i % 2]}\n" for i in range(30)))
    imported = read_table(other)
    save_dataset(ws, "sms", imported, infer_mapping(imported), overwrite=True)
    assert cli(root, capsys, "import", str(source), "--name", "copy")[0] == 0  # the old contents
    code, out, _ = cli(root, capsys, "rm", "sms", "--with-runs", "--yes")
    assert code == 0 and "run(s)" not in out and ws.list(f"runs/{run_id}/")  # 'copy' holds them
    save_dataset(ws, "sms", imported, infer_mapping(imported))
    assert cli(root, capsys, "rm", "copy", "--yes")[0] == 0
    code, out, _ = cli(root, capsys, "rm", "sms", "--with-runs", "--yes")
    assert code == 0 and "and its 1 run." in out and not ws.list(f"runs/{run_id}/")


def test_evaluate_follows_a_rename(trained, capsys) -> None:
    ws, run_id, root = trained
    assert cli(root, capsys, "rename", "sms", "texts")[0] == 0
    code, out, err = cli(root, capsys, "evaluate", run_id)
    assert code == 0, err
    assert "accuracy" in out
    # The listing names the dataset as it is called now (it kept saying 'sms', which `fix`
    # and `show` then refused).
    code, out, _ = cli(root, capsys, "runs")
    assert code == 0 and "texts (was sms)" in out


def test_a_run_id_part_that_names_several_runs_is_refused(tmp_path) -> None:
    from engine.errors import InputError
    from engine.runs import RunRecord, resolve_run_id, save_run
    from privacy.vault.workspace import Workspace
    from tests.engine.tiny_model import fast_kdf

    ws = Workspace.create(tmp_path / "ws", "runs passphrase", kdf=fast_kdf())
    for run_id in ("20261206-070625-aaaa1111", "20261206-070700-bbbb2222"):
        save_run(ws, RunRecord(run_id=run_id, dataset="d", config={}))
    assert resolve_run_id(ws, "bbbb2222") == "20261206-070700-bbbb2222"
    assert resolve_run_id(ws, "20261206-0706") == "20261206-070625-aaaa1111"
    with pytest.raises(InputError, match="'20261206-07' names 2 runs .*give more of the run id"):
        resolve_run_id(ws, "20261206-07")


def test_rm_of_a_dataset_a_run_is_training_on_says_the_run_goes_on(trained, capsys) -> None:
    # It was deleted without a word, and the user took the training to have stopped.
    ws, run_id, root = trained
    save_run(ws, load_run(ws, run_id).updated(status=RunStatus.RUNNING))
    with claim_run(ws, run_id):  # a window or command training it now
        code, out, _ = cli(root, capsys, "rm", "sms", "--yes")
    assert code == 0 and "Deleted dataset 'sms'" in out
    assert (f"Run {run_id} is training on it right now: it goes on with the rows it read (cancel "
            "it to stop it)") in out
    save_run(ws, load_run(ws, run_id).updated(status=RunStatus.FINISHED))
    train_tiny_run(root.parent / "again", dataset="other")  # nothing is training on this one
    code, out, _ = cli(root.parent / "again" / "workspace", capsys, "rm", "other", "--yes")
    assert code == 0 and "training on it" not in out


def _damage(ws, key: str) -> None:
    path = ws.file_of(key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the AES-GCM tag no longer matches
    path.write_bytes(bytes(data))


def test_a_damaged_run_record_blocks_neither_the_list_nor_deleting_it(trained, capsys, caplog) -> None:
    # One run record that failed authentication stopped `runs`, `rm` of any dataset (it looks
    # for the runs on it) and `forget`, each with "restore it from a backup".
    ws, run_id, root = trained
    _damage(ws, f"runs/{run_id}/run.json")
    code, out, err = cli(root, capsys, "runs")
    assert code == 0 and run_id not in out
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"the record of run {run_id} cannot be read (" in m
               and f"`cloister rm-run {run_id} --force`" in m for m in warned)
    code, _, err = cli(root, capsys, "rm-run", run_id, "--yes")  # it may be training: the user says
    assert code == 2 and f"delete the run with `cloister rm-run {run_id} --force`" in err
    assert ws.list(f"runs/{run_id}/")
    code, _, _ = cli(root, capsys, "forget", "Nobody Anyone", "--yes")  # an erasure request
    assert code == 0  # before, it stopped at the damaged record with exit 2
    code, out, _ = cli(root, capsys, "rm", "sms", "--yes")
    assert code == 0 and "Deleted dataset 'sms'" in out
    code, out, _ = cli(root, capsys, "rm-run", run_id[-8:], "--yes", "--force")
    assert code == 0 and f"Deleted run {run_id}" in out
    assert ws.list(f"runs/{run_id}/") == []
    assert [e.details for e in ws.verify_audit().entries if e.action == "run.deleted"] == [
        {"run": run_id, "dataset": None}]

