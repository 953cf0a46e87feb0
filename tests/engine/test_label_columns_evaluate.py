"""A multi-label run scored on a file that gives its labels as one 0/1 column per label (the
layout ``import --label-columns`` reads): read with no flag where the file has the run's
columns and no label column, or named with ``evaluate --label-columns``; the figures are those
of the same rows given with a '|' label column. A missing label column, an empty cell or a
cell that is no 0/1 value is refused with what to do; other 0/1 columns are left out, said."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from engine.cli import main as cli
from tests.engine.test_label_columns import LABELS, comments, workspace, write_csv  # noqa: F401
from tests.engine.tiny_model import tiny_bert  # noqa: F401

torch.set_num_threads(1)


def one_hot_file(path: Path, rows: list[tuple], *, extra: bool = True, drop: str | None = None,
                 rename: dict[str, str] | None = None) -> Path:
    """``rows`` (id, text, toxic, obscene, insult) in reverse order, the columns in another
    order than training's, with an extra 0/1 column ('severe_toxic') not among the labels."""
    header = ["insult", "comment_text", *(["severe_toxic"] if extra else []), "obscene", "id", "toxic"]
    out = []
    for k, (cid, text, toxic, obscene, insult) in enumerate(reversed(rows)):
        cells = {"id": cid, "comment_text": text, "toxic": toxic, "obscene": obscene,
                 "insult": insult, "severe_toxic": k % 2}
        out.append(tuple(cells[c] for c in header if c != drop))
    names = [(rename or {}).get(c, c) for c in header if c != drop]
    return write_csv(path, out, tuple(names))


def piped_file(path: Path, rows: list[tuple]) -> Path:
    """The same rows with their labels in one column, '|' between them ('|' alone: none)."""
    out = [(cid, text, "|".join(label for label, on in zip(LABELS, flags) if on) or "|")
           for cid, text, *flags in rows]
    return write_csv(path, out, ("id", "comment_text", "labels"))


def scored(capsys, *args: str) -> dict:
    assert cli(["evaluate", *args, "--json", "--device", "cpu"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def figures(report: dict) -> tuple:
    """What does not depend on the rows' order."""
    return (report["n"], report["accuracy"], report["macro_f1"], report["weighted_f1"],
            report["roc_auc"], sorted(json.dumps(c, sort_keys=True) for c in report["per_class"]))


def refused(capsys, *args: str) -> str:
    assert cli(["evaluate", *args, "--device", "cpu"]) == 2
    return capsys.readouterr().err


def test_a_multi_label_run_is_scored_on_a_file_of_0_1_columns(tmp_path: Path, workspace: Path,  # noqa: F811
                                                               tiny_bert, capsys) -> None:  # noqa: F811
    rows = comments(90)
    train, test = rows[:60], rows[60:]
    assert cli(["import", str(write_csv(tmp_path / "train.csv", train)), "--name", "toxic",
                "--text-column", "comment_text", "--label-columns", "toxic,obscene,insult"]) == 0
    assert cli(["train", "toxic", "--model", str(tiny_bert), "--multi-label", "--epochs", "1",
                "--batch-size", "8", "--max-length", "32", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]

    piped = scored(capsys, run_id, "--data", str(piped_file(tmp_path / "piped.csv", test)))
    assert piped["n"] == 30 and piped["label_columns"] == []
    one_hot = one_hot_file(tmp_path / "one_hot.csv", test)
    read = scored(capsys, run_id, "--data", str(one_hot))  # no flag: the run's columns found
    assert figures(read) == figures(piped)
    assert sorted(read["label_columns"]) == sorted(LABELS)
    assert read["columns_ignored"] == ["severe_toxic"]
    named = scored(capsys, run_id, "--data", str(one_hot), "--label-columns", "toxic,obscene,insult")
    assert figures(named) == figures(piped)
    assert figures(scored(capsys, run_id, "--data", str(one_hot), "--label-columns", "auto")) \
        == figures(piped)
    # Said in words, besides the JSON.
    assert cli(["evaluate", run_id, "--data", str(one_hot), "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert f"run {run_id} on {one_hot}: 30 rows" in out
    assert "note: labels read from the 0/1 columns " in err
    assert all(repr(label) in err.split("note: labels read from")[1] for label in LABELS)
    assert "other 0/1 columns, not labels of the run, left out: 'severe_toxic'" in err

    # A label with no column cannot be scored as 0: refused, naming it.
    err = refused(capsys, run_id, "--data", str(one_hot_file(tmp_path / "two.csv", test, drop="insult")))
    assert "two.csv: run " in err and "was trained on 3 labels, and 'insult' has no 0/1 column in two.csv" in err
    assert "Add a column for this label to the file, or give the labels in one column" in err
    err = refused(capsys, run_id, "--data", str(one_hot_file(tmp_path / "case.csv", test,
                                                              rename={"insult": "Insult"})))
    assert "'insult' has no 0/1 column in case.csv" in err
    assert "(the file has 'Insult': names are case-sensitive)" in err
    err = refused(capsys, run_id, "--data", str(one_hot), "--label-columns", "toxic,obscene")
    assert "'insult' has no 0/1 column among the columns --label-columns names" in err
    err = refused(capsys, run_id, "--data", str(one_hot), "--label-columns",
                  "toxic,obscene,insult,severe_toxic")
    assert "--label-columns: column 'severe_toxic' is not among the labels run " in err
    assert "leave it out" in err
    err = refused(capsys, run_id, "--data", str(one_hot), "--label-columns", "auto",
                  "--label-column", "toxic")
    assert "--label-columns and --label-column exclude each other" in err
    err = refused(capsys, run_id, "--data", "toxic", "--label-columns", "auto")  # a dataset
    assert "--label-columns name the columns (or sheet) of a labelled --data FILE" in err

    # An empty cell is no 0; a cell that is no 0/1 value is no label: refused with row and column.
    gaps = [*test]
    gaps[2] = (*gaps[2][:3], "", gaps[2][4])  # obscene empty
    path = tmp_path / "gaps.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("id", "comment_text", *LABELS), *gaps])
    err = refused(capsys, run_id, "--data", str(path))
    assert ("gaps.csv: row 3 (row 1 is line 2 of the file), column 'obscene': the cell is empty, "
            "neither 1 nor 0 (an empty cell is not read as 0): fill in 1 or 0, or remove the row"
            in err)
    gaps[2] = (*gaps[2][:3], "maybe", gaps[2][4])
    write_csv(path, gaps)
    err = refused(capsys, run_id, "--data", str(path))
    assert "row 3 (row 1 is line 2 of the file), column 'obscene': 'maybe' is not an indicator value" in err
    assert "The run's labels are read from their columns" in err

    # A stored dataset that joins its labels with another delimiter, rows of none of them too
    # (the delimiter alone): re-joined with the run's, the 'none' rows are not 'no label'.
    semi = [(cid, text, ";".join(label for label, on in zip(LABELS, flags) if on) or ";")
            for cid, text, *flags in test]
    assert cli(["import", str(write_csv(tmp_path / "semi.csv", semi, ("id", "comment_text", "tags"))),
                "--name", "semi", "--text-column", "comment_text", "--label-column", "tags",
                "--label-delimiter", ";"]) == 0
    capsys.readouterr()
    assert figures(scored(capsys, run_id, "--data", "semi")) == figures(piped)


@pytest.mark.parametrize("value", ["toxic,obscene", "auto"])
def test_label_columns_for_a_single_label_run_are_refused(value: str) -> None:
    from types import SimpleNamespace

    from engine.errors import InputError
    from engine.evaluation.evaluate import _read_label_columns

    record = SimpleNamespace(config={"multi_label": False}, run_id="r1", labels=["a", "b"])
    with pytest.raises(InputError, match="run r1 is single-label"):
        _read_label_columns(None, record, [value], None, None, ())
    assert _read_label_columns(None, record, None, None, None, ()) is None
