"""What is said of 0/1 label columns: two of them (a yes/no label beside a 0/1 feature) keep the
label picked, with both readings said; three or more name --label-column too; problems of
labels read with --label-columns name the label's own column, not the column Cloister joined."""
from __future__ import annotations

import json
import random
from pathlib import Path

from engine.cli import main as cli
from engine.data.columns import infer_mapping
from engine.data.importing import read_table
from tests.engine.test_label_columns import (LABELS, comments, stored_names, workspace,  # noqa: F401
                                             write_csv)


def spam_with_links(path: Path) -> Path:
    """message,is_spam,has_link: one yes/no label and a 0/1 feature."""
    rng = random.Random(3)
    rows = [(f"message {i} about {('a prize', 'lunch', 'the report')[i % 3]}", int(i % 3 == 0),
             int(rng.random() < 0.5)) for i in range(60)]
    return write_csv(path, rows, ("message", "is_spam", "has_link"))


# ----- two 0/1 columns: the label picked stays, both readings said ----------------------------
def test_a_yes_no_label_beside_a_0_1_feature_stays_the_label_and_both_readings_are_said(
        tmp_path: Path, workspace: Path, capsys) -> None:  # noqa: F811
    path = spam_with_links(tmp_path / "bin3.csv")
    assert infer_mapping(read_table(path)).label_column == "is_spam"
    assert cli(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "label = 'is_spam'" in out and "Result:   trainable (see the warnings above)" in out
    assert "warning: the label is 'is_spam', one yes/no label; 'has_link' holds only 0/1" in out
    assert "keep --label-column is_spam (the default, what happens now" in out
    assert "read both with --label-columns is_spam,has_link, then train with --multi-label" in out
    assert cli(["import", str(path), "--name", "bin3"]) == 0
    assert "the label is 'is_spam'" in capsys.readouterr().err
    assert stored_names(capsys) == ["bin3"]
    # Chosen by name: nothing to say.
    assert cli(["inspect", str(path), "--label-column", "is_spam"]) == 0
    assert "0 kinds of warning" in capsys.readouterr().out


def test_three_0_1_columns_also_name_the_one_label_alternative(tmp_path: Path, capsys) -> None:
    path = write_csv(tmp_path / "train.csv", comments())
    assert cli(["inspect", str(path), "--json"]) == 2
    (problem,) = json.loads(capsys.readouterr().out)["problems"]
    assert problem["code"] == "indicator-columns" and problem["severity"] == "error"
    assert problem["fix"] == "--label-columns toxic,obscene,insult"
    assert "name it with --label-column NAME instead" in problem["hint"]


# ----- problems of labels read from their columns: said of those columns ----------------------
def test_problems_of_labels_read_from_columns_name_the_label_and_its_column(tmp_path: Path,
                                                                           capsys) -> None:
    rows = [(f"c{i}", f"comment {i}", i % 2, 0, int(i % 4 == 1)) for i in range(24)]
    rows += [("c90", "the same words", 1, 1, 0), ("c91", "the same words", 1, 0, 1)]  # obscene once
    path = write_csv(tmp_path / "small.csv", rows)
    assert cli(["inspect", str(path), "--label-columns", "auto", "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert not [p for p in problems if p["column"] == "labels"], problems
    (tiny,) = [p for p in problems if p["code"] == "class-too-small"]
    assert tiny["column"] == "obscene"
    assert tiny["message"].startswith("label 'obscene' has 1 example: fewer than 2 examples")
    assert "merge" not in tiny["hint"] and "leave its column out" in tiny["hint"]
    (conflict,) = [p for p in problems if p["code"] == "conflicting-labels"]
    assert conflict["row"] == 26 and conflict["column"] == "obscene"
    assert conflict["message"] == ("the same text as row 25 has different labels: 'obscene' is 0 "
                                   "here, 1 there; 'insult' is 1 here, 0 there")
    assert "0/1 cells" in conflict["hint"]


def test_the_import_note_names_an_inspect_that_reads_the_label_columns(
        tmp_path: Path, workspace: Path, capsys) -> None:  # noqa: F811
    rows = comments(20)
    rows.insert(3, rows[2])  # a repeat, dropped by the fix: the rows after it shift
    rows[10] = (*rows[10][:3], "", rows[10][4])  # an empty cell: a problem with a row
    path = write_csv(tmp_path / "shifted.csv", rows)
    assert cli(["import", str(path), "--name", "x", "--label-columns", "auto",
                "--drop-duplicates"]) == 2
    err = capsys.readouterr().err
    command = f"cloister inspect {path} --label-columns toxic,obscene,insult"
    assert f"`{command}` numbers them as in the file" in err
    # As pasted, it reads the labels (a plain `cloister inspect` finds no label column).
    assert cli(command.split()[1:]) == 2
    out = capsys.readouterr().out
    assert "row 11, column 'obscene': the cell is empty" in out and "no label column" not in out
