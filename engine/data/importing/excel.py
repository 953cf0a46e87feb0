"""Excel workbooks (.xlsx): the first sheet or a named one, read in openpyxl's streaming mode."""
from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.data.problems import Problem, Severity
from engine.data.importing.delimited import is_header
from engine.data.importing.tidy import tidy
from engine.data.importing.records import cell_text, table_from_columns, unique_names
from engine.data.importing.registry import ReadRequest, reader
from engine.data.importing.source import (MAX_BYTES_ENV, read_bytes, zip_holds_a_workbook,
                                          zip_said)
from engine.units import human_size
from engine.data.importing.table import ImportedTable
from engine.data.importing.xlsx_cells import (fill_merged, formulas_without_values,
                                               merged_down, sheet_xml)

log = logging.getLogger(__name__)

_SAMPLE_ROWS = 500
# An .xlsx is compressed XML; its cells become Python objects: far bigger in memory than on disk.
_EXPANSION = 8


def _cell(column: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column)}{row}"


def _damaged(path: Path, exc: BaseException) -> InputError:
    # The zip or XML layer's error is for a developer, not the user's message (its type only:
    # an XML parser's text can quote the cell it stopped in).
    log.debug("%s cannot be read as a workbook: %s", path, type(exc).__name__)
    return InputError(
        f"{path} is damaged or truncated: it is not a complete .xlsx workbook. "
        "Open it in Excel and save it again, or export the sheet as CSV."
    )


def _check_unpacked(path: Path, data: bytes, max_bytes: int) -> None:
    """Refuse a workbook whose parts unpack past the limit, before any is read: an .xlsx is a
    ZIP archive, and 1.5 MB of it can hold a sheet of 1.5 GB (each part's size is in the
    archive's directory, and a part is never read past it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _damaged(path, exc) from None
    if unpacked > max_bytes:
        raise InputError(
            f"{path} unpacks to {human_size(unpacked)} (an .xlsx file is compressed: the file is "
            f"{human_size(len(data))}); Cloister reads datasets into memory and accepts up to "
            f"{human_size(max_bytes)}. Save the sheet as CSV, split it into smaller workbooks, or "
            f"raise the limit with the {MAX_BYTES_ENV} environment variable if this machine has "
            "the memory.")


def _pick_sheet(path: Path, workbook: Any, sheet: str | None) -> Any:
    if not workbook.worksheets:
        raise InputError(f"{path} has no worksheets (only charts, or a damaged workbook). "
                         "Open it in Excel, check it holds the data sheet, and save it again.")
    if sheet is None:
        return workbook.worksheets[0]
    if sheet in workbook.sheetnames:
        return workbook[sheet]
    folded = {name.casefold(): name for name in workbook.sheetnames}
    if sheet.casefold() in folded:
        return workbook[folded[sheet.casefold()]]
    raise InputError(
        f"{path} has no sheet named {sheet!r}; its sheets are: "
        f"{', '.join(repr(n) for n in workbook.sheetnames)}."
    )


def _rows(worksheet: Any) -> tuple[list[list[Any]], int]:
    """Non-empty rows, trailing empty cells trimmed; and the sheet row of the first one."""
    rows: list[list[Any]] = []
    first_row = 0
    pending_blank = 0
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells = list(values)
        while cells and (cells[-1] is None or cell_text(cells[-1]) == ""):
            cells.pop()
        if not cells:
            pending_blank += 1
            continue
        if not rows:
            first_row = number
        elif pending_blank:
            # Blank rows in the middle of the data keep their place so row numbers match Excel.
            rows.extend([[] for _ in range(pending_blank)])
        pending_blank = 0
        rows.append(cells)
    return rows, first_row


def _without_title_rows(rows: list[list[Any]], first_row: int) -> tuple[list[list[Any]], int]:
    """Drop a title block above the header ("Tickets, Q3" in A1, a blank row, then the column
    names): rows of one filled cell, when what follows them has a header row of two or more
    columns. Otherwise the title became the header and the real header a row of data."""
    def filled(row: list[Any]) -> int:
        return sum(1 for v in row if v is not None and cell_text(v) != "")

    start = 0
    while start < len(rows) and filled(rows[start]) <= 1:
        start += 1
    if start == 0 or start >= len(rows) or filled(rows[start]) < 2:
        return rows, first_row
    rest = [[cell_text(v) or "" for v in r] for r in rows[start:start + _SAMPLE_ROWS] if r]
    if not is_header(rest):
        return rows, first_row  # one-cell rows of data, not a title: keep them
    return rows[start:], first_row + start


def sheet_names(path: Path) -> list[str]:
    """A workbook's worksheets, in order, without reading their cells (a choice to offer); an
    empty list for a file that is no workbook."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - reading it for real says what is wrong with it
        return []
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


@reader("xlsx", suffixes=(".xlsx", ".xlsm"), description="Excel workbook (.xlsx), first or named sheet")
def read_xlsx(path: Path, request: ReadRequest) -> ImportedTable:
    import openpyxl  # only Excel imports pay for openpyxl

    data = read_bytes(path, max_bytes=request.max_bytes, expansion=_EXPANSION)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # an Office 97 container
        raise InputError(
            f"{path} is a password-protected (encrypted) workbook, or an old .xls one: Excel saves "
            "both in this format. Open it in Excel, remove the password (File > Info > Protect "
            "Workbook > Encrypt with Password, cleared) or save it as an .xlsx workbook, and "
            "import that.")
    if data.startswith(b"PK\x03\x04") and not zip_holds_a_workbook(path):
        raise InputError(f"{path} is not an Excel .xlsx workbook: {zip_said(path)}")
    if not data.startswith(b"PK"):
        raise InputError(
            f"{path} is not an Excel .xlsx workbook (an .xlsx file is a ZIP archive and this is "
            "not one). If it is an old .xls file or a CSV, save it as .xlsx or rename it to .csv."
        )
    _check_unpacked(path, data, request.max_bytes)
    # openpyxl reports a damaged workbook through whatever its zip, zlib and XML layers raise
    # (BadZipFile, KeyError, ParseError, TypeError, ...): all of them mean "this file is broken",
    # and the user needs that sentence, not a traceback.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - see above
        raise _damaged(path, exc) from None
    try:
        worksheet = _pick_sheet(path, workbook, request.sheet)
        sheets = tuple(ws.title for ws in workbook.worksheets)
        # No sheet named: the first that holds data (a header and a row at least); a cover
        # sheet or an empty "Sheet1" before the data is passed over, and the note says so.
        candidates = [worksheet] if request.sheet is not None else list(workbook.worksheets)
        tried: list[tuple[Any, list[list[Any]], int]] = []  # (sheet, rows, first row), in order
        for candidate in candidates:
            try:
                tried.append((candidate, *_rows(candidate)))
            except Exception as exc:  # noqa: BLE001 - see above
                raise _damaged(path, exc) from None
            if sum(1 for r in tried[-1][1] if r) >= 2:
                break
        else:  # none holds data: the first one's error below says so
            tried = tried[:1]
        worksheet, rows, first_row = tried[-1]
        passed_over = [sheet.title for sheet, _, _ in tried[:-1]]
        title = worksheet.title
        xml = sheet_xml(worksheet)
        merges = merged_down(xml)
        unsaved = formulas_without_values(xml)
        del xml
    finally:
        workbook.close()
    others = (f" Its sheets are: {', '.join(repr(n) for n in sheets)}; choose the one that holds "
              "the data (the Sheet box, or --sheet NAME)." if len(sheets) > 1 else "")
    if not rows:
        raise InputError(f"{path}: sheet {title!r} is empty." + (others or " Save the data in "
                         "it, or export the sheet that holds it."))
    if request.header is None:
        rows, first_row = _without_title_rows(rows, first_row)
    width = max(len(r) for r in rows)
    sample = [[cell_text(v) or "" for v in r] for r in rows[:_SAMPLE_ROWS] if r]
    header = is_header(sample) if request.header is None else request.header
    # Filled where the data is: a title merged over two rows above the header was counted.
    merged = fill_merged(rows, first_row, merges, skip=1 if header else 0)
    if header:
        names, body = unique_names(rows[0] + [None] * (width - len(rows[0]))), rows[1:]
    else:
        names, body = [f"column_{j + 1}" for j in range(width)], rows
    if not body:
        raise InputError(f"{path}: sheet {title!r} has a header row but no data rows.{others}")
    columns = [[r[j] if j < len(r) else None for r in body] for j in range(width)]
    fields = [cell_text(v) or "" for v in rows[0]] if header else []
    unnamed = [n for j, n in enumerate(names) if j >= len(fields) or not fields[j].strip()]
    # Sheets pasted together repeat the header; a column with no name and no value is left over.
    table, notes = tidy(table_from_columns(names, columns), path, header_fields=fields or None,
                        unnamed=unnamed) if request.tidy else (table_from_columns(names, columns), [])
    if merged:
        c1, r1, c2, r2 = merged[0]
        notes = [*notes, Problem(
            severity=Severity.INFO, code="merged-cells",
            message=f"{len(merged):,} block{'s' * (len(merged) != 1)} of merged cells (such as "
            f"{_cell(c1, r1)}:{_cell(c2, r2)}) read as the value shown on every row of the block",
            hint="Each row gets the value its merged cell shows, as the sheet displays it.",
            file=str(path))]
    if unsaved:
        shown = ", ".join(unsaved[:5]) + (f" and {len(unsaved) - 5:,} more" if len(unsaved) > 5 else "")
        notes = [*notes, Problem(
            severity=Severity.WARNING, code="formula-without-value",
            message=f"{len(unsaved):,} cell{'s hold formulas' if len(unsaved) != 1 else ' holds a formula'} "
            f"whose result was never saved ({shown}), so read as empty",
            hint="Open the file in Excel or LibreOffice and save it: the results are saved with "
                 "the formulas, and are what is read.", file=str(path))]
    if request.sheet is None and len(sheets) > 1:  # read, but never without saying which
        which = (f"the first of {len(sheets)}" if not passed_over else
                 f"the first holding data ({', '.join(repr(n) for n in passed_over)} "
                 f"{'has' if len(passed_over) == 1 else 'have'} none) of {len(sheets)}")
        notes = [*notes, Problem(
            severity=Severity.INFO, code="other-sheets",
            message=f"read sheet {title!r}, {which} ({', '.join(repr(n) for n in sheets)})",
            hint="If the data is on another sheet, choose it: the Sheet box in the app, or "
                 "--sheet NAME on the command line.", file=str(path))]
    return ImportedTable(table=table, source=path, format="xlsx", encoding=None,
                         problems=tuple(notes), first_data_line=first_row + (1 if header else 0),
                         sheet=title, has_header=header, sheets=sheets)
