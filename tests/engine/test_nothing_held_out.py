"""Data too small to hold rows out: a class gives one row to validation and one to testing only
from three rows up, so a dataset of two-row classes trained on every row, with no early stopping
and an empty "Test metrics:" block, and nothing said about why."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.engine.tiny_model import tiny_bert  # noqa: F401


@pytest.fixture
def two_a_class(tmp_path: Path, real_data: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Ten banking77 intents (tests/data), two real rows each."""
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "nothing held out")
    with (real_data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows: dict[str, list[str]] = {}
        for row in csv.DictReader(handle):
            if len(rows) < 10 or row["category"] in rows:
                rows.setdefault(row["category"], []).append(row["text"])
    source = tmp_path / "few.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows((text, label) for label, texts in rows.items() for text in texts[:2])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "few"]) == 0
    capsys.readouterr()


def test_the_dry_run_warns_that_nothing_is_held_out(two_a_class, tiny_bert, capsys) -> None:  # noqa: F811
    assert cli(["train", "few", "--model", str(tiny_bert), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "split (seed 13): 20 training, 0 validation and 0 test rows" in out
    assert ("warning: no rows are held out for validation or testing: a class gives one row to "
            "validation and one to testing only from 3 rows up") in out
    assert "training cannot stop early" in out and "the run has no test metrics" in out


def test_a_run_with_no_test_rows_says_so_and_how_to_score_it(two_a_class, tiny_bert, capsys) -> None:  # noqa: F811
    assert cli(["train", "few", "--model", str(tiny_bert), "--epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert "Test metrics: none (no test rows; see the warning below)" in out
    assert "best step None" not in out
    run_id = out.split("Finished run ")[1].split()[0]
    assert ("cloister: warning: no rows are held out for validation or testing" in err
            and f"`cloister evaluate {run_id} --data NAME|FILE`" in err)
