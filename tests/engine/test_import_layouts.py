"""How people lay files out, read as they mean it: a CSV header that names a column twice; and
what openpyxl's streaming reader does not give of an .xlsx sheet (engine/data/importing/
xlsx_cells.py): cells merged down a column, and formulas whose result was never saved. (Split
from test_import_formats.py.)"""
from __future__ import annotations

from pathlib import Path

import openpyxl

from engine.data.importing import read_table
from engine.data.problems import Severity


def test_cells_merged_down_a_column_give_every_row_their_value(tmp_path: Path) -> None:
    # A label written once for a block of rows read as missing on every row but the first, and
    # the fix offered for that (drop rows with no label) kept a quarter of the file.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Support tickets, March"])  # a title merged over two rows: not filled, nor counted
    ws.append([])
    ws.merge_cells("A1:C2")
    ws.append(["text", "label", "note"])
    for text, label in (("free cash now", "spam"), ("win a prize", None), ("cheap loans", None),
                        ("see you at lunch", "ham"), ("running late", None)):
        ws.append([text, label, None])
    ws.merge_cells("C4:C5")  # an empty block: nothing to fill, not counted
    ws.merge_cells("B4:B6")
    ws.merge_cells("B7:B8")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    imported = read_table(path)
    assert imported.column_names[:2] == ["text", "label"] and imported.num_rows == 5
    assert imported.table.column("label").to_pylist() == ["spam", "spam", "spam", "ham", "ham"]
    [note] = [p for p in imported.problems if p.code == "merged-cells"]
    assert note.message.startswith("2 blocks of merged cells (such as B4:B6)")
    plain = tmp_path / "plain.xlsx"  # no merges: nothing filled, nothing said
    wb = openpyxl.Workbook()
    wb.active.append(["text", "label"])
    wb.active.append(["free cash now", None])
    wb.active.append(["see you", "ham"])
    wb.save(plain)
    unmerged = read_table(plain)
    assert unmerged.table.column("label").to_pylist() == [None, "ham"]
    assert not [p for p in unmerged.problems if p.code == "merged-cells"]


def test_formulas_whose_result_was_never_saved_are_said(tmp_path: Path) -> None:
    # openpyxl writes formulas without results (as scripts make files): they read as empty, and
    # were reported as "the text is empty" with no word of the formula.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["text", "label", "source"])
    ws.append(["free cash now", "spam", "web"])
    ws.append(['=CONCATENATE("see you ", "later")', "ham", "web"])
    ws.append(["on my way", "ham", "=C2"])
    path = tmp_path / "formulas.xlsx"
    wb.save(path)
    imported = read_table(path)
    [warned] = [p for p in imported.problems if p.code == "formula-without-value"]
    assert warned.severity is Severity.WARNING
    assert warned.message == ("2 cells hold formulas whose result was never saved (A3, C4), so "
                              "read as empty")
    assert "save it" in warned.hint


def test_a_header_that_names_a_column_twice_is_still_a_header(tmp_path: Path) -> None:
    # Read as data, "label" became a class of one row and the columns column_1, column_2, ...
    path = tmp_path / "twice.csv"
    path.write_text("message,label,label\nfree cash now,spam,x\nsee you at lunch,ham,x\n"
                    "call me back,ham,y\n", encoding="utf-8")
    imported = read_table(path)
    assert imported.has_header and imported.num_rows == 3
    assert imported.column_names == ["message", "label", "label_2"]
    # Repeated values that are not names a header uses still read as data.
    data = tmp_path / "data.csv"
    data.write_text("ok,ok,fine\nyes,no,fine\nno,no,sure\n", encoding="utf-8")
    assert not read_table(data).has_header
