"""Run records in the vault: save, load, list newest first, compare, clear errors."""
from __future__ import annotations

import pytest

from engine.errors import InputError
from engine.runs import (RunRecord, RunStatus, compare_runs, list_runs, load_run, new_run_id, save_run,
                         scored_alike)
from tests.engine.tiny_model import workspace  # noqa: F401


def record(run_id: str, created: str, **changes) -> RunRecord:
    base = RunRecord(run_id=run_id, dataset="d", config={"epochs": 3, "seed": 13, "lr": 5e-5},
                     status=RunStatus.FINISHED, created=created, metrics={"accuracy": 0.9},
                     history=[{"step": 1, "epoch": 0.5, "loss": 0.7, "lr": 1e-5}],
                     labels=("ham", "spam"), device="cpu (2 threads)", best_step=1)
    return base.updated(**changes)


def test_round_trip_keeps_every_field(workspace) -> None:
    original = record("r1", "2026-11-25T10:00:00+00:00", error=None, duration_seconds=12.5,
                      validation_metrics={"macro_f1": 0.8})
    save_run(workspace, original)
    assert load_run(workspace, "r1") == original
    assert RunRecord.from_dict({**original.to_dict(), "added_by_a_newer_version": 1}) == original


def test_list_is_newest_first_and_ignores_other_entries(workspace) -> None:
    save_run(workspace, record("old", "2026-11-24T10:00:00+00:00"))
    save_run(workspace, record("new", "2026-11-25T10:00:00+00:00", status=RunStatus.CANCELLED))
    workspace.write_bytes("runs/new/model/config.json", b"{}")  # not a run record
    runs = list_runs(workspace)
    assert [r.run_id for r in runs] == ["new", "old"]
    assert runs[0].status is RunStatus.CANCELLED


def test_unknown_run_names_the_known_ones(workspace) -> None:
    save_run(workspace, record("r-known", "2026-11-25T10:00:00+00:00"))
    with pytest.raises(InputError, match=r"no run 'r-missing'.*r-known.*cloister runs"):
        load_run(workspace, "r-missing")
    with pytest.raises(InputError, match="no run"):
        load_run(workspace, "../escape")


def test_compare_shows_only_differing_settings() -> None:
    a = record("a", "1", config={"epochs": 3, "seed": 13, "lr": 5e-5}, metrics={"accuracy": 0.9})
    b = record("b", "2", config={"epochs": 3, "seed": 14, "lr": 5e-5}, metrics={"accuracy": 0.8, "roc_auc": 0.95})
    rows = compare_runs([a, b])
    assert [r["run"] for r in rows] == ["a", "b"]
    assert "seed" in rows[0] and "epochs" not in rows[0] and "lr" not in rows[0]
    assert rows[0]["accuracy"] == 0.9 and rows[0]["roc_auc"] is None and rows[1]["roc_auc"] == 0.95


def test_compare_names_each_runs_dataset_as_now_and_says_when_test_rows_differ() -> None:
    # Runs of two imports of "customers" read "dataset customers" side by side: 0.857 on a
    # 14-row split of one against 0.85 on a 20-row split of the other, nothing said.
    jan = record("jan", "1", dataset="customers", dataset_sha256="aa", test_rows=14)
    feb = record("feb", "2", dataset="customers", dataset_sha256="bb", test_rows=20)
    rows = compare_runs([jan, feb], {"jan": "customers (an earlier import)"})
    assert [(r["dataset"], r["test_rows"]) for r in rows] == [
        ("customers (an earlier import)", 14), ("customers", 20)]
    assert not scored_alike([jan, feb])
    again = jan.updated(run_id="jan2", config={**jan.config, "lr": 1e-4})
    assert scored_alike([jan, again])  # the same rows, the same seed: the same test split
    assert not scored_alike([jan, again.updated(config={**again.config, "seed": 14})])
    # Split by label sets, or by person: other rows for the same count.
    assert not scored_alike([jan, again.updated(config={**again.config, "multi_label": True})])


def test_compare_shows_dp_settings_and_epsilon_only_for_dp_runs() -> None:
    plain = {"epochs": 3, "dp": False, "dp_epsilon": 8.0, "dp_trainable": "all"}  # unused defaults
    a = record("a", "1", config=plain, metrics={"accuracy": 0.9})
    b = record("b", "2", config=plain | {"epochs": 4}, metrics={"accuracy": 0.8})
    rows = compare_runs([a, b])
    assert set(rows[0]) == {"run", "status", "dataset", "epochs", "accuracy", "test_rows",
                            "duration_s"}
    dp = record("c", "3", config={"epochs": 3, "dp": True, "dp_epsilon": 3.0, "dp_trainable": "top-2"},
                metrics={"accuracy": 0.85})
    dp = dp.updated(privacy={"epsilon_spent": 2.97})
    rows = compare_runs([a, dp])
    assert [r["epsilon_spent"] for r in rows] == [None, 2.97]
    assert rows[0]["dp_epsilon"] is None and rows[1]["dp_epsilon"] == 3.0  # a's unused 8.0 not shown
    assert rows[0]["dp"] is False and rows[1]["dp_trainable"] == "top-2"


def test_run_ids_are_unique_and_sortable() -> None:
    ids = {new_run_id() for _ in range(300)}  # nearly all within the same second
    assert len(ids) == 300
    assert all(len(i.split("-")) == 3 and i[:8].isdigit() for i in ids)


def test_the_runs_list_says_when_a_run_stopped_before_its_epochs() -> None:
    from engine.cli.train_cmds import _epochs_cell

    stopped = record("a", "2026-11-25T10:00:00+00:00",
                     history=[{"step": 5, "epoch": 1.0, "loss": 0.5}, {"step": 12, "epoch": 2.4, "loss": 0.4}])
    assert _epochs_cell(stopped) == "2.4 of 3"
    full = record("b", "2026-11-25T10:00:00+00:00", history=[{"step": 15, "epoch": 3.0, "loss": 0.3}])
    assert _epochs_cell(full) == "3"
    assert _epochs_cell(record("c", "2026-11-25T10:00:00+00:00", history=[])) == "3"  # nothing trained yet
