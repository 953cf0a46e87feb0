"""An erasure request in a workspace where one dataset cannot be read: the others are still
searched and cleaned, and the request is said (and logged) as incomplete, naming the dataset."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.engine.test_forget_cli import _audit, _texts, _workspace, csv_file  # noqa: F401


def _damage_table(name: str) -> None:
    with _workspace() as w:
        key = next(k for k in w.list(f"datasets/{name}/") if "/table-" in k)
        path = w.file_of(key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the AES-GCM tag no longer matches
    path.write_bytes(bytes(data))


def test_one_damaged_dataset_does_not_stop_the_erasure_in_the_others(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["import", str(csv_file), "--name", "broken", "--text-column", "text",
                "--label-column", "label"]) == 0
    _damage_table("broken")
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 1  # a script sees it unfinished
    out, err = capsys.readouterr()
    assert "cloister: the erasure is incomplete: 'broken' could not be searched" in err
    assert "Not searched, damaged: 'broken' (dataset 'broken' cannot be read" in out
    assert "the erasure is incomplete: put it back from a backup and search again, or delete " \
           "it." in out
    assert not any("Lauritsen" in t for t in _texts("tickets"))  # the readable one is cleaned
    forgotten = [d for action, d in _audit() if action == "person.forgotten"]
    assert forgotten and forgotten[-1]["datasets_unsearched"] == ["broken"]


def test_a_damaged_dataset_is_named_even_when_nothing_else_matches(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _damage_table("tickets")
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "Searched 0 datasets (1 could not be read) for 'Kimberly Lauritsen'" in out
    assert "Not searched, damaged: 'tickets'" in out
    assert "Nothing removed: no row is surely about them (see above)." in out
    assert "no stored row names them" not in out


def test_a_long_search_says_what_it_reads_before_it_starts(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A million rows gave nine seconds of silence before the first line.
    import pyarrow as pa

    from engine.data.columns import ColumnMapping
    from engine.data.importing.table import ImportedTable
    from engine.data.store import save_dataset

    n = 100_000
    table = pa.table({"text": [f"message {i}" for i in range(n)], "label": ["a", "b"] * (n // 2)})
    with _workspace() as w:
        save_dataset(w, "big", ImportedTable(table=table, source=Path("big.csv"), format="csv"),
                     ColumnMapping(text_columns=("text",), label_column="label"))
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dry-run"]) == 0
    assert "searching 2 datasets (100,008 rows)…" in capsys.readouterr().err
    assert cli(["forget", "Kimberly Lauritsen", "--dry-run", "--dataset", "tickets"]) == 0
    assert "searching" not in capsys.readouterr().err  # a few rows: nothing to wait for
