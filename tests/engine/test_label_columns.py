"""Multi-label data given as one 0/1 column per label (the Jigsaw toxic-comments layout):
found by inspect, read by ``--label-columns``, refused with row and column where a cell is no
0/1 value, and trained and evaluated as multi-label data."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from engine.cli import main as cli
from engine.data.columns import ColumnMapping, infer_mapping
from engine.data.importing import read_table
from engine.data.label_columns import cells, indicator_columns, read_label_columns
from engine.data.validation import validate
from engine.errors import InputError
from tests.engine.tiny_model import tiny_bert  # noqa: F401

torch.set_num_threads(1)

LABELS = ("toxic", "obscene", "insult")
HEADER = ("id", "comment_text", *LABELS)


def write_csv(path: Path, rows: list[tuple], header: tuple = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def comments(n: int = 60) -> list[tuple]:
    """Rows whose words say their labels: (id, text, toxic, obscene, insult), every fifth row
    none of them."""
    sets = [("toxic",), ("obscene",), ("insult", "toxic"), ("obscene", "insult"), ()]
    rows = []
    for i in range(n):
        on = sets[i % len(sets)]
        words = " ".join(on) or "kind polite"
        rows.append((f"c{i:03d}", f"comment {i} is {words} here", *(int(label in on) for label in LABELS)))
    return rows


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "cli test passphrase")
    monkeypatch.setenv("CLOISTER_WORKSPACE", str(tmp_path / "ws"))
    assert cli(["init", "--kdf-cost", "10"]) == 0
    capsys.readouterr()
    return tmp_path / "ws"


def stored_names(capsys) -> list[str]:
    assert cli(["datasets", "--json"]) == 0
    return [d["name"] for d in json.loads(capsys.readouterr().out)]


# ----- what counts as an indicator value ------------------------------------------------------
def test_indicator_values_in_their_spellings_and_an_empty_cell_is_neither() -> None:
    import pyarrow as pa

    read = cells(pa.chunked_array([["1", "0", "TRUE", "false", "Yes", "no", "y", "N", " 1.0 ",
                                    "0.0", "", None, "2", "maybe", "-1"]]))
    assert read.true.tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    assert read.false.tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]
    assert read.blank.tolist() == [0] * 10 + [1, 1, 0, 0, 0]
    assert read.other.tolist() == [0] * 12 + [1, 1, 1]


def test_indicator_columns_are_those_with_only_such_values(tmp_path: Path) -> None:
    rows = [(f"i{k}", f"text {k}", "yes" if k % 2 else "no", "True" if k % 3 else "False",
             str(k % 2), "1.0" if k % 4 else "0.0", "0" if k != 3 else "2", "")
            for k in range(10)]
    path = write_csv(tmp_path / "flags.csv", rows,
                     ("id", "text", "a", "b", "c", "d", "count", "blank"))
    table = read_table(path).table
    # 'count' holds a 2, 'blank' nothing, 'id' is an id whatever it holds.
    assert indicator_columns(table) == ["a", "b", "c", "d"]


# ----- inference and validation: the layout is said, not one column picked -------------------
def test_the_jigsaw_layout_gets_no_label_column_but_the_import_that_reads_it(tmp_path: Path) -> None:
    imported = read_table(write_csv(tmp_path / "train.csv", comments()))
    mapping = infer_mapping(imported)
    assert mapping.text_columns == ("comment_text",) and mapping.label_column is None
    (problem,) = [p for p in validate(imported, mapping) if p.blocking]
    assert problem.code == "indicator-columns"
    assert "3 columns hold only 0/1 values ('toxic', 'obscene', 'insult')" in problem.message
    assert problem.fix == "--label-columns toxic,obscene,insult"


def test_a_binary_label_named_so_beside_flags_stays_the_label(tmp_path: Path) -> None:
    rows = [(f"text number {k}", k % 2, (k // 2) % 2, (k // 3) % 2) for k in range(30)]
    imported = read_table(write_csv(tmp_path / "b.csv", rows, ("text", "label", "is_reply", "edited")))
    assert infer_mapping(imported).label_column == "label"
    # A named label of other values beside two yes/no columns (the CFPB export's): unchanged.
    rows = [(f"complaint {k}", ("Mortgage", "Loan")[k % 2], ("Yes", "No")[k % 2], "No") for k in range(30)]
    imported = read_table(write_csv(tmp_path / "c.csv", rows, ("narrative", "Product", "Timely?", "Disputed?")))
    mapping = infer_mapping(imported)
    assert mapping.label_column == "Product"
    assert not [p for p in validate(imported, mapping) if p.code == "indicator-columns"]


def test_empty_cells_are_counted_in_the_hint_not_read_as_zero(tmp_path: Path) -> None:
    rows = comments(20)
    rows[4] = (*rows[4][:3], "", rows[4][4])  # obscene empty in row 5
    imported = read_table(write_csv(tmp_path / "gaps.csv", rows))
    (problem,) = [p for p in validate(imported, infer_mapping(imported)) if p.blocking]
    assert "1 of their cells are empty (the first in row 5, column 'obscene')" in problem.message
    read, how = read_label_columns(imported, list(LABELS))
    labels = read.table.column(how.label_column).to_pylist()
    assert labels[4] == "" and labels[0] == "toxic" and labels[2] == "toxic|insult"
    assert labels[3] == "obscene|insult" and labels[9] == "|"  # none applies: the delimiter alone


def test_a_repeat_with_none_of_the_labels_says_so_not_an_empty_label(tmp_path: Path) -> None:
    rows = [*comments(10), ("c99", "comment 0 is toxic here", 0, 0, 0)]  # row 1's text, no label
    imported, read = read_label_columns(read_table(write_csv(tmp_path / "r.csv", rows)), list(LABELS))
    problems = validate(imported, ColumnMapping(("comment_text",), read.label_column),
                        label_delimiter=read.delimiter)
    (conflict,) = [p for p in problems if p.code == "conflicting-labels"]
    assert conflict.message == ("the same text as row 1 has a different label (none of the labels "
                                "here, 'toxic' there)")


# ----- inspect --------------------------------------------------------------------------------
def test_inspect_says_so_plainly_and_suggests_the_import(tmp_path: Path, capsys) -> None:
    path = write_csv(tmp_path / "train.csv", comments())
    assert cli(["inspect", str(path)]) == 2
    out = capsys.readouterr().out
    assert "label = (none found: the columns of 0/1 values below look like one label each)" in out
    assert "3 columns hold only 0/1 values ('toxic', 'obscene', 'insult')" in out
    assert f"`cloister import {path} --name train --label-columns toxic,obscene,insult`" in out
    # Read as suggested: trainable, labels counted one by one, the rows with none said once.
    assert cli(["inspect", str(path), "--label-columns", "auto", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trainable"] and data["mapping"]["label_columns"] == list(LABELS)
    assert data["mapping"]["label_delimiter"] == "|" and data["columns"] == list(HEADER)
    assert data["label_counts"] == {"insult": 24, "obscene": 24, "toxic": 24}
    (none,) = [p for p in data["problems"] if p["code"] == "no-label-applies"]
    assert none["message"].startswith("12 rows have 0 in every label column")


# ----- import: errors, and nothing stored -----------------------------------------------------
@pytest.mark.parametrize("value, said", [
    ("toxic,insult,nope", "--label-columns: column 'nope' is not in bad.csv; the columns are: 'id'"),
    ("toxic,Insult", "column 'Insult' is not in bad.csv; did you mean 'insult'?"),
    ("toxic", "--label-columns needs two columns or more, one per label (it named 'toxic')"),
    ("toxic,toxic", "--label-columns names 'toxic' twice"),
    ("toxic,comment_text", "row 1 (row 1 is line 2 of the file), column 'comment_text': 'comment 0 is"),
    ("toxic,obscene,insult", "row 3 (row 1 is line 2 of the file), column 'insult': '2' is not an "
                             "indicator value"),
])
def test_a_refused_import_names_what_and_stores_nothing(tmp_path: Path, workspace: Path, capsys,
                                                        value: str, said: str) -> None:
    rows = comments(10)
    rows[2] = (*rows[2][:4], "2")
    path = write_csv(tmp_path / "bad.csv", rows)
    assert cli(["import", str(path), "--name", "bad", "--label-columns", value]) == 2
    assert said in capsys.readouterr().err
    assert stored_names(capsys) == []


def test_label_columns_exclude_a_label_column_and_a_delimiter(tmp_path: Path, workspace: Path,
                                                              capsys) -> None:
    path = write_csv(tmp_path / "train.csv", comments(10))
    for other in (["--label-column", "toxic"], ["--label-delimiter", ";"]):
        assert cli(["import", str(path), "--name", "x", "--label-columns", "auto", *other]) == 2
        assert f"--label-columns and {other[0]} exclude each other" in capsys.readouterr().err
    # Fixes that drop or relabel whole rows by class would take a row's other labels too.
    assert cli(["import", str(path), "--name", "x", "--label-columns", "auto", "--drop-small"]) == 2
    assert "with several labels a row (--label-delimiter '|', or --label-columns)" in capsys.readouterr().err
    # auto would leave out a 0/1 column with one stray value, and its label with it: refused.
    rows = comments(120)
    rows[40] = (*rows[40][:4], "maybe")
    stray = write_csv(tmp_path / "stray.csv", rows)
    assert cli(["import", str(stray), "--name", "x", "--label-columns", "auto"]) == 2
    assert "column 'insult' of " in (err := capsys.readouterr().err)
    assert "holds 0/1 values but for 1 cell (row 41: 'maybe'), so auto would leave its label out" in err
    # auto on a file with one 0/1 column: refused, saying why.
    one = write_csv(tmp_path / "one.csv", [(f"t {k}", k % 2, "a b") for k in range(10)], ("text", "spam", "note"))
    assert cli(["import", str(one), "--name", "x", "--label-columns", "auto"]) == 2
    assert "has one column only that holds only 0/1 values ('spam')" in capsys.readouterr().err
    assert stored_names(capsys) == []


def test_an_empty_cell_blocks_with_its_row_and_column_until_left_out(tmp_path: Path, workspace: Path,
                                                                     capsys) -> None:
    rows = comments(20)
    rows[6] = (*rows[6][:2], " ", *rows[6][3:])  # toxic blank in row 7
    path = write_csv(tmp_path / "gaps.csv", rows)
    assert cli(["import", str(path), "--name", "gaps", "--label-columns", "auto"]) == 2
    err = capsys.readouterr().err
    assert "row 7, column 'toxic': the cell is empty, neither 1 nor 0 (an empty cell is not read as 0)" in err
    assert "the label cell holds only" not in err  # the joined column is not what the user knows
    assert stored_names(capsys) == []
    assert cli(["import", str(path), "--name", "gaps", "--label-columns", "auto", "--skip-incomplete"]) == 0
    assert "Imported 19 rows as dataset 'gaps' (3 classes)" in capsys.readouterr().out


# ----- end to end -----------------------------------------------------------------------------
def test_indicator_columns_import_train_multi_label_and_evaluate(tmp_path: Path, workspace: Path,
                                                                 tiny_bert, capsys) -> None:
    rows = [(*row[:2], *("true" if v else "False" for v in row[2:])) for row in comments(60)]
    path = write_csv(tmp_path / "train.csv", rows)
    assert cli(["import", str(path), "--name", "toxic", "--text-column", "comment_text",
                "--label-columns", "toxic,obscene,insult"]) == 0
    out = capsys.readouterr().out
    assert "label: one per column, several a row (toxic, obscene, insult)" in out
    assert cli(["datasets", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    # Remembered as multi-label the way a delimiter-read dataset is.
    assert listed["label_delimiter"] == "|"
    assert listed["labels"] == {"toxic": 24, "obscene": 24, "insult": 24}
    assert cli(["train", "toxic", "--model", str(tiny_bert), "--dry-run"]) == 0  # told by the dataset
    assert "multi-label (labels separated by '|')" in capsys.readouterr().out
    assert cli(["train", "toxic", "--model", str(tiny_bert), "--multi-label", "--epochs", "1",
                "--batch-size", "8", "--max-length", "32", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["event"] == "finished"
    run_id = events[-1]["run_id"]
    assert cli(["runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["config"]["multi_label"] is True
    assert sorted(record["labels"]) == ["insult", "obscene", "toxic"]
    assert cli(["evaluate", run_id, "--json", "--device", "cpu"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["n"] > 0 and 0.0 <= scored["accuracy"] <= 1.0
    assert cli(["predict", run_id, "--text", "comment is toxic here", "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out)
    assert "toxic|insult|obscene" not in json.dumps(predicted)  # labels, not one joined class
    assert set(predicted[0]["probabilities"]) == {"insult", "obscene", "toxic"}, predicted
    # A row of none of the labels was stored as such: its label set is empty, not a class.
    from engine.data.store import load_dataset
    from privacy.vault.workspace import Workspace

    with Workspace.unlock(workspace, "cli test passphrase") as ws:
        stored = load_dataset(ws, "toxic")
    assert stored.info.mapping.label_column == "labels"
    assert stored.labels[:5] == ["toxic", "obscene", "toxic|insult", "obscene|insult", "|"]
    assert "toxic" not in stored.table.column_names  # one place for the labels
    assert ColumnMapping(("comment_text",), "labels") == stored.info.mapping
