"""DP whose unit is a person (``--dp-person-column``): people are sampled, each drawn person
gives one of their rows to the step, and the budget is accounted over the people."""
from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main as cli
from engine.events import Failed, FailureKind, Finished, Started
from engine.runs import load_run
from engine.training import TrainConfig, train_on_rows
from engine.training.private import PersonRows, build_private_parts
from tests.engine.test_dp_training import fresh_epsilon
from tests.engine.test_train_cli import init_and_import
from tests.engine.tiny_model import tiny_bert, toy_rows, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
N = 120
TEXTS, LABELS = toy_rows(N, seed=4)
SPLITS = toy_splits(N, seed=4)
# 30 people with 4 rows each, their rows spread over the file.
PEOPLE = [f"customer-{(i * 7) % 30:02d}" for i in range(N)]
TRAIN_PEOPLE = len({PEOPLE[i] for i in SPLITS[0]})


def config(model: Path, **changes) -> TrainConfig:
    base = TrainConfig(dataset="toy", model_path=str(model), epochs=2, batch_size=8, learning_rate=3e-3,
                       max_length=32, early_stopping_patience=None, select_best=False, dp=True,
                       dp_epsilon=8.0, dp_logical_batch_size=4, dp_accountant="rdp",
                       dp_person_column="customer")
    return dataclasses.replace(base, **changes)


def test_the_budget_is_accounted_over_people_not_rows(workspace, tiny_bert) -> None:
    events = list(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS,
                                people=PEOPLE))
    started, finished = events[0], events[-1]
    assert isinstance(finished, Finished), finished
    assert TRAIN_PEOPLE < len(SPLITS[0])  # the test means something only if people share rows
    per_epoch = -(-TRAIN_PEOPLE // 4)
    assert isinstance(started, Started) and started.total_steps == 2 * per_epoch
    dp = load_run(workspace, finished.run_id).privacy
    assert dp["privacy_units"] == TRAIN_PEOPLE and dp["training_rows"] == len(SPLITS[0])
    assert dp["unit"] == "one person: all rows with the same value in column 'customer'"
    assert dp["person_column"] == "customer"
    delta = TRAIN_PEOPLE ** -1.1  # the default δ is 1/N^1.1 for N people
    assert dp["delta"] == pytest.approx(delta) and dp["sample_rate"] == 1 / per_epoch
    expected = fresh_epsilon("rdp", dp["noise_multiplier"], 1 / per_epoch, dp["steps"], delta)
    assert dp["epsilon_spent"] == pytest.approx(expected, rel=1e-9)
    assert 7.5 < dp["epsilon_spent"] <= 8.0


def test_each_step_takes_one_row_of_each_person_drawn(tiny_bert) -> None:
    """The bound behind the guarantee: one person adds one clipped row gradient to a step."""
    from engine.models.folders import load_for_training

    train = np.asarray(SPLITS[0])
    codes = np.unique(np.asarray(PEOPLE), return_inverse=True)[1][train]
    lengths = np.arange(len(train)) % 9 + 3

    def build():  # noqa: ANN202 - fresh parts, as a resumed run builds them
        model, _ = load_for_training(tiny_bert, ("neg", "pos"))
        return build_private_parts(model, config=config(tiny_bert, epochs=8), train_lengths=lengths,
                                   train_people=codes)

    parts, rebuilt = build(), build()
    used: set[int] = set()
    for epoch in range(8):
        steps = parts.batches_for_epoch(epoch)
        assert len(steps) == parts.steps_per_epoch
        for step in steps:
            rows = np.concatenate(step) if step else np.zeros(0, dtype=np.int64)
            assert len(set(codes[rows])) == len(rows)  # never two rows of one person
            used |= set(rows.tolist())
        # The same draw after a resume: the plan is a function of (seed, epoch).
        again = rebuilt.batches_for_epoch(epoch)
        assert [len(s) for s in again] == [len(s) for s in steps]
        assert all(np.array_equal(a, b) for s, t in zip(steps, again) for a, b in zip(s, t, strict=True))
    # Over eight epochs the picks reach most rows, not only each person's first.
    assert len(used) > 0.6 * len(train)


def test_person_rows_picks_uniformly_within_the_person() -> None:
    people = PersonRows(np.array([5, 1, 5, 5, 1, 9]))
    assert len(people) == 3  # codes 1, 5, 9
    rng = np.random.default_rng(0)
    picks = np.concatenate([people.one_row_each(np.array([1, 0, 2]), rng) for _ in range(3000)])
    counts = np.bincount(picks, minlength=6)
    assert counts[5] == 3000  # person 9 has one row
    assert set(np.flatnonzero(counts)) == {0, 1, 2, 3, 4, 5}
    assert all(abs(counts[i] / 3000 - 1 / 3) < 0.04 for i in (0, 2, 3))  # person 5's three rows
    assert all(abs(counts[i] / 3000 - 1 / 2) < 0.04 for i in (1, 4))


def test_a_person_s_rows_stay_in_one_split() -> None:
    from engine.data.splits import split_by_group
    from engine.training.prepare import prepare_rows

    splits = split_by_group(LABELS, PEOPLE, seed=5)
    sides = [{PEOPLE[i] for i in rows} for rows in (splits.train, splits.validation, splits.test)]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    assert sorted(splits.train + splits.validation + splits.test) == list(range(N))
    assert [len(s) for s in sides] == [24, 3, 3]  # 80/10/10 of the 30 people
    assert split_by_group(LABELS, PEOPLE, seed=5) == splits
    assert split_by_group(LABELS, PEOPLE, seed=6) != splits

    # Training without explicit splits groups by person the same way (the default seed 13).
    expected = split_by_group(LABELS, PEOPLE, seed=13)
    prep = prepare_rows(config(Path("unused")), None, list(TEXTS), list(LABELS), people=PEOPLE)  # type: ignore[arg-type]
    assert (prep.train.tolist(), prep.validation.tolist(), prep.test.tolist()) == \
        (expected.train, expected.validation, expected.test)


@pytest.mark.parametrize("changes, words", [
    ({"dp_logical_batch_size": 40}, f"logical batch of 40 people is larger than the {TRAIN_PEOPLE} people"),
    ({"dp_delta": 0.05}, f"for N = {TRAIN_PEOPLE} people"),
    ({"dp": False}, "a person column only applies with differential privacy"),
])
def test_settings_that_cannot_work_name_the_people(workspace, tiny_bert, changes, words) -> None:
    events = list(train_on_rows(workspace, config(tiny_bert, **changes), TEXTS, LABELS, splits=SPLITS,
                                people=PEOPLE))
    assert isinstance(events[-1], Failed) and events[-1].kind == FailureKind.BAD_SETTING
    assert words in events[-1].message


# ---- through the CLI, on a dataset imported into the vault ------------------------------------

@pytest.fixture
def with_people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """Dataset 'toy': 100 rows of 25 customers, 4 rows each."""
    texts, labels = toy_rows(100, seed=2)
    rows = [(t, l, f"c{i % 25}") for i, (t, l) in enumerate(zip(texts, labels))]
    source = init_and_import(tmp_path, monkeypatch, ["text", "label", "customer"], rows,
                             "--text-column", "text", "--label-column", "label")
    capsys.readouterr()
    return source


def dp_args(model: Path, *extra: str) -> list[str]:
    return ["train", "toy", "--model", str(model), "--epochs", "1", "--batch-size", "8",
            "--max-length", "32", "--dp", "--accountant", "rdp", "--logical-batch-size", "4", *extra]


def test_per_person_dp_through_the_cli(with_people, tiny_bert, capsys, tmp_path: Path) -> None:
    assert cli(dp_args(tiny_bert, "--dp-person-column", "customer", "--json")) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    run_id = events[-1]["run_id"]
    tested = next(e for e in events if e["event"] == "evaluated" and e["split"] == "test")
    # `cloister evaluate` re-derives the run's test split, grouped by person as training was,
    # and gives a record from before the effective rows were kept its count.
    import os

    from engine.runs import save_run
    from privacy.vault.workspace import Workspace

    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), "cli test passphrase") as ws:
        kept = load_run(ws, run_id).test_effective_rows
        save_run(ws, load_run(ws, run_id).updated(test_effective_rows=None))
    assert cli(["evaluate", run_id, "--json", "--device", "cpu"]) == 0
    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), "cli test passphrase") as ws:
        assert kept is not None and load_run(ws, run_id).test_effective_rows == pytest.approx(kept)
    again = json.loads(capsys.readouterr().out)
    assert again["accuracy"] == pytest.approx(tested["metrics"]["accuracy"])
    test_rows = sum(sum(row) for row in again["confusion"])
    assert test_rows % 4 == 0  # whole people: each of the 25 customers has 4 rows
    assert cli(["runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    dp = record["privacy"]
    assert record["config"]["dp_person_column"] == "customer"
    assert dp["privacy_units"] <= 25 < dp["training_rows"]
    assert cli(["runs"]) == 0
    assert "per person)" in capsys.readouterr().out
    out = tmp_path / "export"
    assert cli(["export", run_id, "--out", str(out), "--plaintext"]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "**one person: all rows with the same value in column 'customer'**" in card
    assert f"| people (each step uses one row of each person drawn) | {dp['privacy_units']} |" in card
    assert "all of any one person's rows" in card and "per training row" not in card
    assert "per person (column 'customer')" in card
    # The test split holds whole people: its interval counts what their rows are worth.
    assert 1 <= record["test_effective_rows"] <= test_rows
    assert (f"for {test_rows:,} rows from {test_rows // 4} people, worth about "
            f"{record['test_effective_rows']:,.0f} independent rows") in card
    assert f"test {test_rows}" in card  # the card's split sizes are the grouped split's


def test_a_person_column_that_cannot_work_is_named(with_people, tiny_bert, capsys) -> None:
    assert cli(dp_args(tiny_bert, "--dp-person-column", "client")) == 2
    err = capsys.readouterr().err
    assert "no column 'client'" in err and "text, label, customer" in err
    assert cli(dp_args(tiny_bert, "--dp-person-column", "label")) == 2
    assert "'label' is the label column" in capsys.readouterr().err
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dp-person-column", "customer"]) == 2
    assert "--dp-person-column only applies with --dp" in capsys.readouterr().err


@pytest.mark.parametrize("people, said", [(1, "names only 1 person"), (2, "names only 2 people")])
def test_too_few_people_for_a_split_are_refused_before_anything_is_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_bert, capsys, people: int, said: str) -> None:
    """One person crashed the CLI with a traceback (δ = 1/1 = 1); two gave a run with no
    validation or test rows whose guarantee had δ = 0.47, approved by the dry run."""
    texts, labels = toy_rows(60, seed=3)
    rows = [(t, l, f"p{i % people}") for i, (t, l) in enumerate(zip(texts, labels))]
    init_and_import(tmp_path, monkeypatch, ["text", "label", "customer"], rows,
                    "--text-column", "text", "--label-column", "label")
    capsys.readouterr()
    for extra in (("--dry-run",), ()):
        assert cli(dp_args(tiny_bert, "--dp-person-column", "customer", *extra)) == 2
        err = capsys.readouterr().err
        assert said in err and "DP per person needs many people" in err and "Traceback" not in err
    assert cli(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # refused before a run was recorded


def test_rows_without_a_person_are_refused_by_row(with_people, tiny_bert, capsys, tmp_path: Path) -> None:
    source = tmp_path / "user_files" / "gaps.csv"
    texts, labels = toy_rows(60, seed=3)
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "customer"])
        writer.writerows((t, l, "" if i in (4, 9) else f"c{i % 9}")
                         for i, (t, l) in enumerate(zip(texts, labels)))
    assert cli(["import", str(source), "--name", "gaps", "--text-column", "text",
                "--label-column", "label"]) == 0
    capsys.readouterr()
    args = dp_args(tiny_bert, "--dp-person-column", "customer")
    assert cli([args[0], "gaps", *args[2:]]) != 0
    err = capsys.readouterr().err
    assert "2 row(s) have no value in the person column 'customer' (rows 5, 10)" in err
    assert "`cloister fix gaps --drop-blank customer`" in err
    # The fix the message names, in the workspace, and training per person runs.
    assert cli(["fix", "gaps", "--drop-blank", "customer"]) == 0
    capsys.readouterr()
    assert cli([args[0], "gaps", *args[2:]]) == 0
    capsys.readouterr()
    # The same rows left out at import.
    assert cli(["import", str(source), "--name", "filled", "--text-column", "text",
                "--label-column", "label", "--drop-blank", "customer"]) == 0
    assert "dropped 2 rows with no value in column 'customer'" in capsys.readouterr().out
    assert cli([args[0], "filled", *args[2:]]) == 0
    capsys.readouterr()
    assert cli(["import", str(source), "--name", "nope", "--drop-blank", "client"]) == 2
    assert "--drop-blank client: there is no such column" in capsys.readouterr().err


def test_dry_run_sizes_the_logical_batch_by_people(with_people, tiny_bert, capsys) -> None:
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--dp",
                "--dp-person-column", "customer"]) == 0
    out = capsys.readouterr().out
    # 25 customers; the split keeps each one's rows together, and the people it puts in
    # training (not an estimated 80% of them) set the batch: a quarter of them per step, the
    # same count the DP line's guarantee is over.
    import re

    people = re.search(r"dp_logical_batch_size = (\d+): (\d+) people", out)
    assert people and f"per person (column 'customer'), over {people.group(2)} people" in out
    assert int(people.group(1)) == -(-int(people.group(2)) // 4)
    # One row of each person an epoch: 4 rows per person, so 4x the epochs for 100 rows.
    assert "epochs = 40: differential privacy per person reads one row of each person an epoch: " \
           "4.0 rows per person, so 4x the 10 epochs" in out
    # The split the run will make, said: whole people in each part, the rows adding up.
    split = re.search(r"split \(seed 13\): (\d+) training, (\d+) validation and (\d+) test rows, "
                      r"each person's rows in one part\n", out)
    assert split and sum(map(int, split.groups())) == 100 and all(int(n) % 4 == 0 for n in split.groups())


def test_resuming_a_per_person_run_ends_where_an_uninterrupted_one_does(workspace, tiny_bert,
                                                                       monkeypatch) -> None:
    from engine.events import Cancelled, CancelToken, Step
    from engine.models.weights import load_model
    from engine.training import resume_on_rows
    from tests.engine.tiny_model import one_noise_secret

    cfg = config(tiny_bert)
    one_noise_secret(workspace, monkeypatch)  # two runs, to compare: the same noise
    straight = list(train_on_rows(workspace, cfg, TEXTS, LABELS, splits=SPLITS, people=PEOPLE))
    token, first = CancelToken(), []
    for event in train_on_rows(workspace, cfg, TEXTS, LABELS, splits=SPLITS, people=PEOPLE, cancel=token):
        first.append(event)
        if isinstance(event, Step) and event.step == 5:
            token.cancel()
    assert isinstance(first[-1], Cancelled)
    second = list(resume_on_rows(workspace, first[0].run_id, TEXTS, LABELS, splits=SPLITS, people=PEOPLE))
    assert isinstance(second[-1], Finished), second[-1]
    a = load_run(workspace, straight[-1].run_id).privacy
    b = load_run(workspace, first[0].run_id).privacy
    assert (b["steps"], b["epsilon_spent"], b["privacy_units"]) == (a["steps"], a["epsilon_spent"], a["privacy_units"])
    wa, _ = load_model(workspace, f"runs/{straight[-1].run_id}/model")
    wb, _ = load_model(workspace, f"runs/{first[0].run_id}/model")
    sa, sb = wa.state_dict(), wb.state_dict()
    assert all(torch.allclose(sa[k], sb[k], atol=1e-6) for k in sa)  # the same people, rows and noise


def test_per_person_epochs_follow_the_rows_per_person_up_to_four_times() -> None:
    from engine.training.auto import per_person_epochs

    assert per_person_epochs(3, rows=1000, people=1000).value == 3  # one row each: as per row
    assert per_person_epochs(3, rows=2500, people=1000).value == 9  # 2.5 rows each: rounded up
    assert per_person_epochs(3, rows=50_000, people=1000).value == 12  # 50 each: capped at 4x
    assert "50.0 rows per person, so 4x the 3 epochs" in per_person_epochs(3, 50_000, 1000).reason


def test_person_ids_line_up_with_the_rows_training_reads() -> None:
    """A dataset stored whole but read without its incomplete rows (``skip_incomplete``, as
    older imports were): the people must be those of the rows kept, in their order."""
    from datetime import datetime, timezone

    import pyarrow as pa

    from engine.data.columns import ColumnMapping, texts_and_labels
    from engine.data.store import DatasetInfo, StoredDataset
    from engine.training.prepare import person_ids

    table = pa.table({"text": ["good film", "  ", "bad plot", "fun", "awful"],
                      "label": ["pos", "neg", "neg", "", "neg"],
                      "customer": [101, 102, 103, 104, 7]})  # a numeric id column
    mapping = ColumnMapping(text_columns=("text",), label_column="label")
    info = DatasetInfo(name="t", rows=5, labels={}, size_bytes=0, created=datetime.now(timezone.utc),
                       source_name="t.csv", mapping=mapping, skip_incomplete=True)
    texts, labels = texts_and_labels(table, mapping, skip_incomplete=True)
    stored = StoredDataset(info=info, table=table, texts=texts, labels=labels)
    assert texts == ["good film", "bad plot", "awful"]
    assert person_ids(stored, "customer") == ["101", "103", "7"]
    # A column name typed with a decomposed accent (macOS) names the stored, composed column.
    composed = table.rename_columns(["text", "label", "client_\u00e9"])
    assert person_ids(StoredDataset(info=info, table=composed, texts=texts, labels=labels),
                      "client_e\u0301") == ["101", "103", "7"]


def test_resuming_on_changed_people_is_refused(workspace, tiny_bert) -> None:
    from engine.events import Cancelled, CancelToken, Step
    from engine.training import resume_on_rows

    token, first = CancelToken(), []
    for event in train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS, people=PEOPLE,
                               cancel=token):
        first.append(event)
        if isinstance(event, Step) and event.step == 2:
            token.cancel()
    assert isinstance(first[-1], Cancelled)
    merged = [p.replace("customer-01", "customer-00") for p in PEOPLE]  # two people became one
    events = list(resume_on_rows(workspace, first[0].run_id, TEXTS, LABELS, splits=SPLITS, people=merged))
    assert isinstance(events[-1], Failed) and events[-1].kind == FailureKind.BAD_DATA
    assert f"privacy was accounted for {TRAIN_PEOPLE} units" in events[-1].message
    assert f"the data now has {len({merged[i] for i in SPLITS[0]})}" in events[-1].message


def test_a_per_row_guarantee_beside_a_person_column_is_warned_of(with_people, tiny_bert, capsys) -> None:
    """inspect named the column; the DP dry run (and the run) said nothing, and the card then
    stated a per-row guarantee for customers with four rows each."""
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--dp"]) == 0
    out = capsys.readouterr().out
    assert "warning: column 'customer' may say who each row is about (25 values for 100 rows)" in out
    assert "add --dp-person-column customer to cover each person" in out
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--dp", "--json"]) == 0
    assert "--dp-person-column customer" in json.loads(capsys.readouterr().out)["person_hint"]
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--dp",
                "--dp-person-column", "customer"]) == 0
    assert "may say who each row is about" not in capsys.readouterr().out  # chosen: no warning


def test_a_split_of_few_people_is_refused_for_a_new_run_only() -> None:
    """Deriving an earlier run's split again (to evaluate or export it) must not fail where
    starting a run is refused: evaluate and the model card of such a run crashed."""
    from engine.failures import TrainingFailure
    from engine.training.prepare import split_rows

    labels, people = ["a", "b"] * 10, ["p1", "p2"] * 10
    train, validation, test = split_rows(labels, seed=13, people=people)
    assert len(train) + len(validation) + len(test) == 20 and not (len(validation) and len(test))
    with pytest.raises(TrainingFailure, match="names only 2 people"):
        split_rows(labels, seed=13, people=people, new_run=True)
