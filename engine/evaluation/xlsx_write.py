"""An Arrow table as an .xlsx workbook, built wholly in memory.

openpyxl (what pandas' ``to_excel`` uses) writes every sheet's XML to a temporary file in
``$TMPDIR`` before zipping it: a plaintext copy of every predicted row outside the folder the
user chose, left behind if the process is killed. Predictions must reach disk only as the file
the user asked for, so the few parts of a one-sheet workbook are written here into a zip held
in memory. Cells are inline strings and numbers; characters XML cannot carry (control
characters, lone surrogates) are written with the ``_xHHHH_`` escape that Excel reads back.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from engine.errors import InputError

MAX_ROWS = 1_048_576  # Excel's limit, the header row included
MAX_CELL = 32_767  # characters in one cell: Excel calls a file with more damaged
EXACT_INT = 2 ** 53  # larger integers are written as text: a number cell would round them

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>')
_STYLES = (  # the least Excel accepts: one font, fill, border and cell format
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')

# XML 1.0 cannot carry C0 controls other than tab, newline and return, nor lone surrogates;
# a literal "_xHHHH_" in the data is itself escaped so Excel does not decode it.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def _safe(text: str) -> str:
    return escape(_UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", text))


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < EXACT_INT:
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_safe(str(value))}</t></is></c>'


def check_fits(table: Any) -> None:
    """Refuse, naming the row and column, what an .xlsx sheet cannot hold: called on the input
    before any row is predicted, and again on the output."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows + 1 > MAX_ROWS:
        raise InputError(f"an .xlsx sheet holds at most {MAX_ROWS - 1:,} rows and this output has "
                         f"{table.num_rows:,}: write .csv or .parquet instead")
    for name, column in zip(table.column_names, table.columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        lengths = pc.fill_null(pc.utf8_length(column), 0)
        if len(lengths) and pc.max(lengths).as_py() > MAX_CELL:
            row = pc.index(pc.greater(lengths, MAX_CELL), True).as_py()
            raise InputError(f"row {row + 1}, column '{name}': {lengths[row].as_py():,} characters, "
                             f"more than the {MAX_CELL:,} an .xlsx cell holds: write .csv or "
                             ".parquet instead")


_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def numeric_columns(table: Any) -> set[str]:
    """Text columns whose every filled cell is a plain number as a sheet shows one ("220.5",
    "-3", "0"; not "00042", an id, nor "1e5" or "1,000"): a workbook read as text and written
    back writes them as numbers again."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = set()
    for name, column in zip(table.column_names, table.columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        filled = column.filter(pc.and_(pc.is_valid(column), pc.not_equal(column, "")))
        if len(filled) and pc.all(pc.match_substring_regex(filled, f"^{_NUMBER.pattern}$")).as_py():
            found.add(name)
    return found


def _number(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None if text == "" else text  # an empty cell, as a sheet's number column has
    return int(text) if "." not in text else float(text)


def xlsx_bytes(table: Any, *, sheet_name: str = "Sheet1", numbers: set[str] | frozenset[str] = frozenset()) -> bytes:
    """The workbook for an Arrow table: a header row of its column names, then its rows, on a
    sheet of ``sheet_name``; the text columns in ``numbers`` written as number cells."""
    check_fits(table)
    letters = [column_letter(j) for j in range(table.num_columns)]
    columns = [[_number(v) for v in column.to_pylist()] if name in numbers else column.to_pylist()
               for name, column in zip(table.column_names, table.columns)]
    rows = ['<row r="1">' + "".join(_cell(f"{letters[j]}1", name)
                                    for j, name in enumerate(table.column_names)) + "</row>"]
    for i in range(table.num_rows):
        r = i + 2
        rows.append(f'<row r="{r}">' + "".join(_cell(f"{letters[j]}{r}", columns[j][i])
                                               for j in range(len(columns))) + "</row>")
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{"".join(rows)}</sheetData></worksheet>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                           ("xl/workbook.xml", _WORKBOOK.replace('name="Sheet1"',
                                                                 f'name="{escape(sheet_name[:31], {chr(34): "&quot;"})}"')),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                           ("xl/styles.xml", _STYLES), ("xl/worksheets/sheet1.xml", sheet)):
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()
