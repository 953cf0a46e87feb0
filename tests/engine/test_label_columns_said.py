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
