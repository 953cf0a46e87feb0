"""A run remembers which version of its dataset it trained on: a dataset imported again under the
same name (or deleted) must not silently re-score the run or describe other rows in its card."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.data.columns import infer_mapping
from engine.data.importing import read_table
from engine.data.store import dataset_info, delete_dataset, save_dataset
from engine.evaluation.report import load_report
from engine.events import Cancelled, CancelToken, Failed, FailureKind, Finished, Step
from engine.runs import load_run
from engine.training import TrainConfig, resume, train
from tests.engine.test_prediction import train_tiny_run, write_sms_csv
from tests.engine.tiny_model import TEST_PASSPHRASE


@pytest.fixture
def replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A finished run on 'sms', then 'sms' imported again from another file."""
    ws, run_id, _ = train_tiny_run(tmp_path)
    before = dataset_info(ws, "sms").sha256
    other = read_table(write_sms_csv(tmp_path / "other.csv", rows=60, extra="again"))
    save_dataset(ws, "sms", other, infer_mapping(other), overwrite=True)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.delenv("CLOISTER_EXPORT_PASSPHRASE", raising=False)
    return ws, run_id, before, tmp_path


def cli(root: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--workspace", str(root / "workspace")])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_run_records_the_digest_it_trained_on(replaced) -> None:
    ws, run_id, before, _ = replaced
    assert load_run(ws, run_id).dataset_sha256 == before != dataset_info(ws, "sms").sha256


def test_evaluating_on_a_replaced_dataset_is_refused_and_keeps_the_report(replaced, capsys) -> None:
    ws, run_id, _, root = replaced
    stored = load_report(ws, run_id)
    code, _, err = cli(root, capsys, "evaluate", run_id)
    assert code == 2
    assert f"dataset 'sms' was imported again since run {run_id} trained on it" in err
    assert "--data" in err
    assert load_report(ws, run_id) == stored  # not re-scored on other rows
    assert f"`cloister evaluate {run_id} --stored` prints it" in err
    code, out, _ = cli(root, capsys, "evaluate", run_id, "--stored")  # the report that stands
    assert code == 0 and "the report stored when it finished" in out
    assert f"  accuracy     {stored.headline()['accuracy']:.4f}" in out
    code, _, err = cli(root, capsys, "evaluate", run_id, "--stored", "--data", "sms")
    assert code == 2 and "drop --data" in err
    code, out, _ = cli(root, capsys, "evaluate", run_id, "--data", "sms", "--json")
    assert code == 0 and json.loads(out)["n"] == 60  # on purpose, naming the data, it works
    assert json.loads(out)["trained_rows"] is None
    code, _, err = cli(root, capsys, "evaluate", run_id, "--data", "sms")
    # The overlap cannot be told: said, where silence read as "none of these were trained on".
    assert code == 0 and "whether any of these rows are rows the run trained on cannot be told" in err


def test_the_card_of_a_run_whose_dataset_changed_says_so(replaced, capsys) -> None:
    ws, run_id, before, root = replaced
    out = root / "export"
    code, _, _ = cli(root, capsys, "export", run_id, "--out", str(out), "--plaintext")
    assert code == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"- SHA-256 of the dataset: `{before}`" in card  # what it trained on, not the new one
    assert "Not shown: the rows per split and per label, because the dataset was imported again" in card
    assert "Rows per split" not in card
    assert "| dp_epsilon |" not in card and "| dp_trainable |" not in card  # not a DP run
    delete_dataset(ws, "sms")
    code, _, err = cli(root, capsys, "evaluate", run_id)
    assert code == 2 and f"run {run_id}'s dataset 'sms' is no longer in the workspace" in err
    code, _, _ = cli(root, capsys, "export", run_id, "--out", str(root / "export2"), "--plaintext")
    card = (root / "export2" / "README.md").read_text(encoding="utf-8")
    assert "because the dataset was deleted after training" in card


def _cancelled_run(tmp_path: Path):
    """'sms' imported from a 40-row file, and a run on it cancelled at step 3. -> (ws, table, run_id)"""
    from tests.engine.tiny_model import make_tiny_bert, make_workspace

    ws = make_workspace(tmp_path / "workspace")
    table = read_table(write_sms_csv(tmp_path / "a.csv", rows=40))
    save_dataset(ws, "sms", table, infer_mapping(table))
    token = CancelToken()
    config = TrainConfig(dataset="sms", model_path=str(make_tiny_bert(tmp_path / "tiny")), epochs=3,
                         batch_size=4, max_length=32, learning_rate=1e-3,
                         early_stopping_patience=None)
    events = []
    for event in train(ws, config, cancel=token):
        events.append(event)
        if isinstance(event, Step) and event.step == 3:
            token.cancel()
    assert isinstance(events[-1], Cancelled), events[-1]
    return ws, table, events[0].run_id  # Started


def test_resuming_on_a_replaced_dataset_is_refused(tmp_path: Path) -> None:
    ws, _, run_id = _cancelled_run(tmp_path)
    second = read_table(write_sms_csv(tmp_path / "b.csv", rows=40, extra="changed"))
    save_dataset(ws, "sms", second, infer_mapping(second), overwrite=True)
    failed = list(resume(ws, run_id))[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.BAD_DATA
    assert f"was imported again since run {run_id} started" in failed.message


def test_resuming_after_the_dataset_was_deleted_says_how_to_resume(tmp_path: Path) -> None:
    ws, table, run_id = _cancelled_run(tmp_path)
    delete_dataset(ws, "sms")
    failed = list(resume(ws, run_id))[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.BAD_SETTING
    assert failed.message == (f"run {run_id} trained on the dataset 'sms', which is no longer in the "
                              "workspace: import the same file again as 'sms' to resume it, or delete the run")
    assert load_run(ws, run_id).status.value == "cancelled"  # still resumable, nothing changed
    save_dataset(ws, "sms", table, infer_mapping(table))  # the same file again: it resumes
    assert isinstance(list(resume(ws, run_id))[-1], Finished)


def test_resuming_after_the_dataset_was_renamed_follows_it(tmp_path: Path) -> None:
    from engine.data.store import rename_dataset

    from engine.data.columns import ColumnMapping

    ws, table, run_id = _cancelled_run(tmp_path)
    rename_dataset(ws, "sms", "messages")
    # The same file imported again, read through other columns: the same digest, other data,
    # and first by name. The run follows the one whose columns it trained on.
    save_dataset(ws, "aaa-ids", table, ColumnMapping(text_columns=("id",), label_column="label"))
    assert dataset_info(ws, "aaa-ids").sha256 == dataset_info(ws, "messages").sha256
    events = list(resume(ws, run_id))
    assert isinstance(events[-1], Finished), events[-1]
    record = load_run(ws, run_id)
    assert record.dataset == "messages" and record.config["dataset"] == "messages"


def test_training_is_audited_start_end_and_resume_without_rows(tmp_path: Path) -> None:
    ws, table, run_id = _cancelled_run(tmp_path)
    list(resume(ws, run_id))
    entries = [(e.action, e.details) for e in ws.verify_audit().entries if e.action.startswith("run.")]
    sha = load_run(ws, run_id).dataset_sha256
    assert [a for a, _ in entries] == ["run.started", "run.ended", "run.resumed", "run.ended"]
    assert entries[0][1] == {"run": run_id, "dataset": "sms", "dataset_sha256": sha, "dp": False}
    assert [d["status"] for a, d in entries if a == "run.ended"] == ["cancelled", "finished"]
    texts = table.table.column("text").to_pylist()
    assert not any(str(t) in repr(entries) for t in texts)  # names things, never rows


def test_the_same_file_imported_again_with_other_columns_is_other_data(tmp_path: Path, capsys,
                                                                       monkeypatch) -> None:
    """Same table, same digest, but another text column: not what the run trained on."""
    from engine.data.columns import ColumnMapping

    ws, run_id, csv = train_tiny_run(tmp_path)
    run = load_run(ws, run_id)
    assert run.dataset_columns == {"text_columns": ["text"], "label_column": "label", "separator": "\n"}
    before = dataset_info(ws, "sms").sha256
    imported = read_table(csv)
    save_dataset(ws, "sms", imported, ColumnMapping(("id",), "label"), overwrite=True)
    assert dataset_info(ws, "sms").sha256 == before  # the digest alone cannot tell
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    code, _, err = cli(tmp_path, capsys, "evaluate", run_id)
    assert code == 2
    assert "with text column(s) id instead of text" in err and "--data" in err
    code, _, _ = cli(tmp_path, capsys, "export", run_id, "--out", str(tmp_path / "card"), "--plaintext")
    card = (tmp_path / "card" / "README.md").read_text(encoding="utf-8")
    assert code == 0 and "imported again after training (its contents or columns changed)" in card
    assert "Rows per split" not in card
    save_dataset(ws, "sms", imported, ColumnMapping(("text",), "label"), overwrite=True)
    code, out, _ = cli(tmp_path, capsys, "evaluate", run_id, "--json")
    assert code == 0 and json.loads(out)["n"] > 0  # the columns it trained with: accepted again


def test_columns_changed_names_each_difference_and_accepts_old_records() -> None:
    from engine.training.prepare import columns_changed

    now = {"text_columns": ["title", "body"], "label_column": "topic", "separator": "\n"}
    assert columns_changed(None, now) == ""  # a run recorded before the columns were kept
    assert columns_changed(dict(now), now) == ""
    said = columns_changed({"text_columns": ["body"], "label_column": "tag", "separator": "\n"}, now)
    assert said == "text column(s) title, body instead of body and label column topic instead of tag"
    assert columns_changed({**now, "separator": " "}, now) == "another separator between its text columns"


def test_resuming_with_other_columns_is_refused(tmp_path: Path) -> None:
    from engine.data.columns import ColumnMapping

    ws, table, run_id = _cancelled_run(tmp_path)
    save_dataset(ws, "sms", table, ColumnMapping(("id",), "label"), overwrite=True)
    failed = list(resume(ws, run_id))[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.BAD_DATA
    assert "with text column(s) id instead of text" in failed.message
    assert load_run(ws, run_id).status.value == "cancelled"  # the record is as it was


def test_resuming_follows_a_rename_even_when_other_data_took_the_old_name(tmp_path: Path) -> None:
    from engine.data.store import rename_dataset

    ws, table, run_id = _cancelled_run(tmp_path)
    rename_dataset(ws, "sms", "messages")
    import pyarrow as pa

    from engine.data.importing.table import ImportedTable

    other = pa.table({"text": [f"row {i} here" for i in range(40)], "label": ["ab"[i % 2] for i in range(40)]})
    save_dataset(ws, "sms", ImportedTable(table=other, source=Path("other.csv"), format="csv"),
                 infer_mapping(ImportedTable(table=other, source=Path("other.csv"), format="csv")))
    events = list(resume(ws, run_id))
    assert isinstance(events[-1], Finished), events[-1]
    assert load_run(ws, run_id).dataset == "messages"


def _without_digest(ws, run_id: str) -> None:
    """The run's record as runs trained before 2026-12-05 have it: no digest, no columns."""
    from dataclasses import replace

    from engine.runs import save_run

    save_run(ws, replace(load_run(ws, run_id), dataset_sha256=None, dataset_columns=None))


def test_a_run_from_before_digests_follows_a_rename_and_is_not_rescored_on_changed_rows(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    # Upgrading: such a run read as "sms (deleted)" after a rename (and `forget --with-runs`
    # did not name it), and `evaluate` scored rows of a fixed dataset, most of them training
    # rows, and stored that report over the run's own.
    from engine.data.store import rename_dataset
    from engine.runs import datasets_named_now, runs_on

    ws, run_id, _ = train_tiny_run(tmp_path)
    _without_digest(ws, run_id)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    rename_dataset(ws, "sms", "texts")
    record = load_run(ws, run_id)
    assert record.dataset == "texts" and record.dataset_sha256 is None
    assert [r.run_id for r in runs_on(ws, "texts")] == [run_id]
    assert datasets_named_now(ws, [record]) == {run_id: "texts"}
    stored = load_report(ws, run_id)
    code, out, _ = cli(tmp_path, capsys, "evaluate", run_id, "--json")
    assert code == 0 and json.loads(out)["n"] == stored.n  # unchanged rows: scored as before
    more = read_table(write_sms_csv(tmp_path / "more.csv", rows=70))
    save_dataset(ws, "texts", more, infer_mapping(more), overwrite=True)
    code, _, err = cli(tmp_path, capsys, "evaluate", run_id)
    assert code == 2
    import re

    said = re.search(rf"dataset 'texts' changed since run {run_id} trained on it \(its test split "
                     r"would have (\d+) rows, not the (\d+) the run was scored on\)", err)
    assert said and int(said[1]) > int(said[2]) == stored.n, err
    assert load_report(ws, run_id) == stored


def test_a_dataset_renamed_and_then_changed_is_not_said_to_be_deleted(tmp_path: Path, capsys,
                                                                       monkeypatch) -> None:
    from engine.data.store import rename_dataset
    from engine.runs import datasets_named_now

    ws, run_id, _ = train_tiny_run(tmp_path)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    rename_dataset(ws, "sms", "texts")
    assert datasets_named_now(ws, [load_run(ws, run_id)]) == {run_id: "texts (was sms)"}
    other = read_table(write_sms_csv(tmp_path / "other.csv", rows=60, extra="again"))
    save_dataset(ws, "texts", other, infer_mapping(other), overwrite=True)
    assert datasets_named_now(ws, [load_run(ws, run_id)]) == {run_id: "sms (no longer stored, source.csv)"}
    code, _, err = cli(tmp_path, capsys, "evaluate", run_id)
    assert code == 2 and "(it was deleted, or renamed and then changed)" in err
