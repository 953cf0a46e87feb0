"""The CFPB excerpt from "not trainable" to a trained model through `cloister import` fix flags."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from engine.cli import main as cli
from tests.engine.tiny_model import tiny_bert  # noqa: F401

torch.set_num_threads(1)

FIXES = ["--drop-empty", "--drop-duplicates", "--min-class-size", "10", "--merge-small-into", "other"]


@pytest.fixture
def cfpb(real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix cli test passphrase")
    copy = tmp_path / "user_files" / "complaints.csv"
    copy.parent.mkdir()
    shutil.copy(real_data / "cfpb_complaints_extract" / "complaints.csv", copy)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    return copy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_inspect_prints_the_flag_under_each_error(cfpb: Path, capsys) -> None:
    assert cli(["inspect", str(cfpb)]) == 2
    lines = capsys.readouterr().out.splitlines()
    errors = [i for i, line in enumerate(lines) if line.strip().startswith("error:")]
    assert errors and all(lines[i + 1].strip().startswith("fix: --") for i in errors)
    assert any("fix: --drop-empty" in line for line in lines)
    assert any("fix: --min-class-size 2 --merge-small-into other" in line for line in lines)
    # The warning's small-class fix is the other choice, not one more flag to add.
    assert "    or instead: --min-class-size 10 --merge-small-into other" in lines
    assert "not trainable yet" in lines[-1] and "--drop-empty" in lines[-1]
    # Counted by check, not by listed entry (275 empty rows are one kind of error); 5 of the
    # 20 rows the report names are printed, and a line says where the other 15 are.
    assert "Problems: 2 kinds of error, 3 kinds of warning" in lines
    assert any("275 rows in all: the text is empty" in line for line in lines)
    assert "  (15 more 'empty-text' rows of the first 20 are listed with --json)" in lines


def test_cfpb_becomes_importable_and_trainable(cfpb: Path, tiny_bert, capsys) -> None:  # noqa: F811
    before = digest(cfpb)
    assert cli(["import", str(cfpb), "--name", "cfpb"]) == 2  # as it is: refused
    err = capsys.readouterr().err
    assert "not imported: 2 kinds of blocking problem in complaints.csv" in err
    # The refusal names the flags that fix it, ready to add (as inspect's example does).
    assert "; add --drop-empty --min-class-size 2 --merge-small-into other (the source" in err
    assert cli(["import", str(cfpb), "--name", "cfpb", *FIXES]) == 0
    out = capsys.readouterr().out
    assert "fixed: dropped 275 rows with an empty text or no label" in out
    assert "fixed: dropped 4 rows repeating an earlier row" in out
    assert "376 -> 97 rows, 9 -> 3 classes" in out
    assert "(the rows below" not in out  # no row is named below
    assert digest(cfpb) == before  # the source file is never edited

    assert cli(["show", "cfpb", "--rows", "0"]) == 0
    shown = capsys.readouterr().out
    assert "97 rows" in shown and "other (25)" in shown
    assert "Fixed: merged 7 classes with fewer than 10 rows (25 rows) into 'other'" in shown

    assert cli(["audit"]) == 0
    audit = capsys.readouterr().out
    assert audit.count("dataset.fixed") == 3 and 'fix="drop-empty"' in audit
    assert "rows_removed=275" in audit

    # The automatic settings count the training rows of the split the run makes (97 rows in
    # three unequal classes: not int(0.8 x 97) = 77), as the split line says.
    assert cli(["train", "cfpb", "--model", str(tiny_bert), "--dry-run"]) == 0
    out = capsys.readouterr().out
    import re

    split = int(re.search(r"split \(seed 13\): (\d+) training", out).group(1))
    assert re.search(rf"epochs = \d+: {split} training rows", out), out

    assert cli(["train", "cfpb", "--model", str(tiny_bert), "--epochs", "1", "--batch-size", "8",
                "--max-length", "32", "--lr", "1e-3"]) == 0
    assert "Test metrics (9 test rows; " in capsys.readouterr().out
    # Long class names ("Credit reporting, …", "Credit card …") head numbered columns, not
    # columns that read "Credit" twice once cut.
    assert cli(["runs", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)[0]["run_id"]
    assert cli(["evaluate", run_id]) == 0
    out = capsys.readouterr().out
    assert "confusion (rows: true, columns: predicted, numbered as the rows)" in out
    rows = [line.strip() for line in out.splitlines() if line.strip().startswith("#")]
    assert rows[0].split()[:3] == ["#1", "#2", "#3"] and rows[1].startswith("#1 ")

    # Cut at 64 tokens, two letters that differed further on now repeat: warned of, with rows
    # of the fixed table (said so), and no "fix: --drop-duplicates", which already ran.
    assert cli(["import", str(cfpb), "--name", "cfpb64", *FIXES, "--cap-long", "64"]) == 0
    out = capsys.readouterr().err  # problems are warnings: on stderr
    # The hint names the file itself, ready to paste (it said `cloister inspect FILE`).
    assert f"(the rows below are counted after these fixes; `cloister inspect {cfpb}` numbers them" in out
    assert "the row repeats row" in out and "fix: --drop-duplicates" not in out
    assert "(the repeats or conflicts below appear once texts are cut at 64 tokens: cut them less, " \
           "or leave --cap-long out)" in out


def test_a_refused_fix_changes_nothing_stored(cfpb: Path, capsys) -> None:
    assert cli(["import", str(cfpb), "--name", "cfpb", *FIXES]) == 0
    capsys.readouterr()
    assert cli(["audit"]) == 0
    audit_before = capsys.readouterr().out

    # Dropping every class under 30 rows leaves one class: refused, exit 2, the message says so.
    assert cli(["import", str(cfpb), "--name", "cfpb", "--replace", "--drop-empty",
                "--min-class-size", "30", "--drop-small"]) == 2
    assert "fewer than two classes" in capsys.readouterr().err
    assert cli(["import", str(cfpb), "--name", "cfpb", "--replace", "--drop-empty",
                "--merge-small-into", "Loans"]) == 2
    assert "'Loans': it is not a class" in capsys.readouterr().err

    assert cli(["show", "cfpb", "--rows", "0"]) == 0
    assert "97 rows" in capsys.readouterr().out
    assert cli(["audit"]) == 0
    assert capsys.readouterr().out == audit_before  # nothing was written, not even an entry


def test_inspect_json_carries_the_fix_of_each_problem(cfpb: Path, capsys) -> None:
    import json

    assert cli(["inspect", str(cfpb), "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    by_code = {p["code"]: p["fix"] for p in problems}
    assert by_code["empty-text"] == "--drop-empty" and by_code["duplicate-row"] == "--drop-duplicates"
    assert all(p["fix"] for p in problems if p["severity"] == "error")


def test_spellings_of_a_label_merged_at_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys) -> None:
    """A hand-labelled sheet where 'Billing' and 'billing' mean one class: inspect points the
    tiny spelling at the merge, and import merges it, recorded and audited."""
    import csv

    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix cli test passphrase")
    source = tmp_path / "tickets.csv"
    rows = [(f"invoice question {i}", "Billing") for i in range(6)] + [("charged twice", "billing")]
    rows += [(f"app crashes {i}", "Technical") for i in range(6)]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    capsys.readouterr()
    assert cli(["inspect", str(source)]) == 2
    out = capsys.readouterr().out
    assert "labels 'Billing' (6 rows), 'billing' (1 row) differ only in how they are written" in out
    assert f"for example `cloister import {source} --name tickets --merge-label-variants`" in out
    assert cli(["import", str(source), "--name", "tickets", "--merge-label-variants"]) == 0
    assert "fixed: merged 1 other spelling (case, spaces, accents, hidden characters or number format) into 1 label ('billing' -> 'Billing'; " \
        "1 row relabelled)" in capsys.readouterr().out
    assert cli(["datasets", "--json"]) == 0
    import json

    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["labels"] == {"Billing": 7, "Technical": 6}
    assert cli(["audit"]) == 0
    assert 'fix="merge-label-variants"' in capsys.readouterr().out
    # With several labels a row, spellings are merged label by label (it was refused there);
    # the fixes that drop or relabel whole rows by class still are.
    assert cli(["import", str(source), "--name", "multi", "--merge-label-variants",
                "--label-delimiter", "|"]) == 0
    assert "each row's other labels kept" in capsys.readouterr().out
    assert cli(["datasets", "--json"]) == 0
    (multi,) = [d for d in json.loads(capsys.readouterr().out) if d["name"] == "multi"]
    assert multi["labels"] == {"Billing": 7, "Technical": 6}
    assert cli(["import", str(source), "--name", "multi2", "--drop-small",
                "--label-delimiter", "|"]) == 2
    assert "leave out --drop-small, --merge-small-into, --drop-class" in capsys.readouterr().err


def test_rows_labelled_n_a_dropped_at_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys) -> None:
    import csv

    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix cli test passphrase")
    source = tmp_path / "sheet.csv"
    rows = [(f"great {i}", "pos") for i in range(5)] + [(f"awful {i}", "neg") for i in range(5)]
    rows += [("no idea", "#N/A"), ("skipped", "#N/A")]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    capsys.readouterr()
    assert cli(["inspect", str(source)]) == 0  # a warning: trainable, but said
    assert "fix: --drop-class '#N/A'" in capsys.readouterr().out
    assert cli(["import", str(source), "--name", "sheet", "--drop-class", "#N/A"]) == 0
    assert "fixed: dropped the 2 rows labelled '#N/A'" in capsys.readouterr().out
    assert cli(["import", str(source), "--name", "other", "--drop-class", "N/A"]) == 2
    assert "--drop-class 'N/A': no such class" in capsys.readouterr().err
    assert cli(["datasets"]) == 0
    assert "other" not in capsys.readouterr().out  # refused: nothing stored


def test_rows_left_out_as_incomplete_do_not_count_towards_class_sizes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """`--skip-incomplete` with `--min-class-size`: the rows left out go first, so a class that
    is small once they are gone is merged, and the history's count is the class's size."""
    import csv

    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix cli test passphrase")
    source = tmp_path / "tickets.csv"
    rows = [(f"invoice question {i}", "billing") for i in range(8)] + [("", "billing")] * 4
    rows += [(f"app crashes {i}", "technical") for i in range(12)]
    rows += [(f"where is my parcel {i}", "delivery") for i in range(3)]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "t", "--skip-incomplete", "--min-class-size", "10",
                "--merge-small-into", "other"]) == 0
    out = capsys.readouterr().out
    assert "dropped 4 rows with an empty text or no label" in out
    assert cli(["datasets", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["labels"] == {"technical": 12, "other": 11}  # billing (8) and delivery (3)
    assert "(11 rows) into 'other'" in out


def test_the_fix_summary_counts_the_labels_of_a_multi_label_file_one_by_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import csv

    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix cli test passphrase")
    source = tmp_path / "tags.csv"
    combos = ["billing", "tech", "billing|tech", "refund|tech"]
    rows = [(f"ticket {i}", combos[i % 4]) for i in range(20)] + [("ticket 0", "billing")]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "t", "--label-delimiter", "|",
                "--drop-duplicates"]) == 0
    assert "fixed: 21 -> 20 rows, 3 -> 3 classes" in capsys.readouterr().out
