"""Prediction output as .xlsx, written in memory: read back by openpyxl and by Cloister's own
importer, awkward text intact, and no temporary file on the way."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest

from engine.errors import InputError
from engine.evaluation import xlsx_write
from engine.evaluation.xlsx_write import column_letter, xlsx_bytes

AWKWARD = ["plain", "a & b < c > d \"quoted\" 'single'", "line one\nline two\ttabbed",
           "ctrl\x01char and bell\x07", "literal _x0041_ stays", "form feed\x0c here",
           "émoji 🙂 and 中文", ""]


def _table() -> pa.Table:
    n = len(AWKWARD)
    return pa.table({"text": AWKWARD, "label": [None, "spam"] * (n // 2),
                     "confidence": [0.5, 0.25, 1.0, 0.0, float("nan"), 0.125, 0.75, 0.875],
                     "count": list(range(n)), "flag": [True, False] * (n // 2)})


def test_column_letters_follow_excel():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_openpyxl_reads_back_every_cell(tmp_path: Path, monkeypatch):
    import openpyxl

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = xlsx_bytes(_table())
    assert list(scratch.iterdir()) == []  # built in memory, nothing staged
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("text", "label", "confidence", "count", "flag")
    # Text is kept, with XML's unrepresentable characters in Excel's _xHHHH_ escape.
    expected = [t.replace("_x0041_", "_x005F_x0041_").replace("\x01", "_x0001_").replace("\x07", "_x0007_")
                .replace("\x0c", "_x000C_") for t in AWKWARD]
    assert [r[0] or "" for r in rows[1:]] == expected
    assert [r[1] for r in rows[1:]] == [None, "spam"] * 4
    assert [r[2] for r in rows[1:]] == [0.5, 0.25, 1.0, 0.0, None, 0.125, 0.75, 0.875]
    assert [r[3] for r in rows[1:]] == list(range(8)) and [r[4] for r in rows[1:]] == [True, False] * 4


def test_cloisters_own_importer_reads_it(tmp_path: Path):
    from engine.data.importing import read_table

    path = tmp_path / "predictions.xlsx"
    path.write_bytes(xlsx_bytes(pa.table({"text": ["first & <row>", "second\nrow"], "label": ["a", "b"]})))
    imported = read_table(path)
    assert imported.table.column("text").to_pylist() == ["first & <row>", "second\nrow"]
    assert imported.table.column("label").to_pylist() == ["a", "b"]


def test_more_rows_than_a_sheet_holds_are_refused_with_what_to_do(monkeypatch):
    monkeypatch.setattr(xlsx_write, "MAX_ROWS", 3)
    assert xlsx_bytes(pa.table({"text": ["a", "b"]}))  # header + 2 rows fit in 3
    with pytest.raises(InputError, match="holds at most 2 rows and this output has 3: write .csv or .parquet"):
        xlsx_bytes(pa.table({"text": ["a", "b", "c"]}))
