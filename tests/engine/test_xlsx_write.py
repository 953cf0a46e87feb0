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


def forbid_temp_files(monkeypatch) -> None:
    """Make any temporary file a library tries to stage fail the test. openpyxl (behind
    pandas' to_excel) stages each sheet and deletes it afterwards, so a temporary folder left
    empty proves nothing; a refused creation does."""
    import openpyxl.worksheet._writer as sheet_writer

    def refuse(*_a, **_k):
        raise AssertionError("a temporary file was created")

    for name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.setattr(sheet_writer, "NamedTemporaryFile", refuse)


def test_the_check_would_catch_what_pandas_to_excel_does(monkeypatch):
    import pandas as pd

    forbid_temp_files(monkeypatch)
    with pytest.raises(AssertionError, match="a temporary file was created"):
        pd.DataFrame({"text": ["a row"]}).to_excel(io.BytesIO(), index=False, engine="openpyxl")


def test_column_letters_follow_excel():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_openpyxl_reads_back_every_cell(tmp_path: Path, monkeypatch):
    import openpyxl

    forbid_temp_files(monkeypatch)
    data = xlsx_bytes(_table())  # built in memory, nothing staged
    monkeypatch.undo()
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


def test_what_a_cell_cannot_hold_is_refused_naming_the_row_and_column():
    long = "x" * (xlsx_write.MAX_CELL + 1)
    with pytest.raises(InputError, match=r"row 2, column 'text': 32,768 characters, more than the "
                                         r"32,767 an .xlsx cell holds: write .csv or .parquet instead"):
        xlsx_bytes(pa.table({"id": [1, 2], "text": ["short", long]}))
    assert xlsx_bytes(pa.table({"text": ["x" * xlsx_write.MAX_CELL]}))  # at the limit: fine


def test_integers_a_number_cell_would_round_are_written_as_text():
    import openpyxl

    big = 2 ** 53 + 1
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(pa.table({"id": [big, 7]})))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [str(big), 7]


def test_a_sheet_name_with_quotes_or_over_31_characters_is_written_as_excel_takes_it(tmp_path: Path) -> None:
    import openpyxl

    from engine.evaluation.xlsx_write import numeric_columns

    table = pa.table({"n": ["1", "2.5", "", "-3"], "id": ["00042", "7", "", "8"], "t": ["a", "b", "c", "1e5"]})
    assert numeric_columns(table) == {"n"}  # "00042" is an id, "1e5" no number as a sheet shows one
    path = tmp_path / "named.xlsx"
    name = 'Q1 "final" & more ' + "x" * 40
    path.write_bytes(xlsx_bytes(table, sheet_name=name, numbers=numeric_columns(table)))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [name[:31]]
    assert [c.value for c in book.active["A"]][1:] == [1, 2.5, None, -3]
    assert [c.value for c in book.active["B"]][1:] == ["00042", "7", "", "8"]
