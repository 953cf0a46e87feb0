"""Dataset import: a user's file or folder into an in-memory, all-strings Arrow table.

    from engine.data.importing import read_table
    imported = read_table(Path("complaints.csv"))        # -> ImportedTable

Readers register by format name and suffix (``registry.reader``). A file without a suffix is
sniffed (JSON, Parquet, xlsx magic, or delimited text with a consistent number of columns);
a file with an unknown suffix is refused with the list of supported formats rather than
guessed at. Nothing is written to disk: no plaintext copy, no ``datasets`` Arrow cache.
"""
from __future__ import annotations

import codecs
import dataclasses
import logging
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import InputError
from engine.data.importing import delimited, excel, folder, jsonfmt, parquet  # noqa: F401  (registers)
from engine.data.importing.registry import ReadRequest, reader, reader_for_suffix, reader_named, registered
from engine.data.importing.source import (DEFAULT_MAX_BYTES, MAX_BYTES_ENV, looks_utf16, max_bytes_default,
                                          os_error)
from engine.data.importing.table import ImportedTable

SUPPORTED_FORMATS: tuple[str, ...] = tuple(r.name for r in registered())
# For file dialogs: every suffix a reader claims (folders are picked as folders).
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(s for r in registered() for s in r.suffixes)

_SNIFF_BYTES = 64 * 1024
# Excel's "Unicode Text" (.txt) is UTF-16 with a BOM: zero bytes, yet text.
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
              (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_BYTES", "MAX_BYTES_ENV", "SUPPORTED_FORMATS", "SUPPORTED_SUFFIXES",
    "ImportedTable", "NotTabular", "read_table",
    "reader", "supported_formats_text",
]


def supported_formats_text() -> str:
    # .txt and suffix-less files are read by what they hold (an export saved as text), which
    # the list of readers alone did not say.
    return "; ".join(r.description for r in registered()) + \
        "; a .txt file or one without a suffix that holds one of the text formats above"


class NotTabular(InputError):
    """A text file (no suffix, or .txt) that is no table: a dataset cannot be read from it, but
    a list of texts to classify can (``engine.evaluation.file_prediction``)."""


def _unsupported(path: Path, why: str, kind: type[InputError] = InputError) -> InputError:
    extra = ""
    if path.suffix.lower() == ".xls":
        extra = " Open it in Excel and save it as .xlsx (Excel Workbook)."
    elif path.suffix.lower() == ".txt":
        extra = " For one example per .txt file, put the files in one sub-folder per label."
    elif path.suffix.lower() in (".gz", ".zip", ".bz2", ".xz", ".7z"):
        extra = " Decompress it first and import the file inside."
    return kind(
        f"{path}: {why}, so Cloister cannot read it.{extra} Supported formats: "
        f"{supported_formats_text()}. Convert the file to one of these (e.g. a CSV with a text "
        "and a label column)."
    )


def _sniff_format(path: Path) -> str:
    """The format of a suffix-less file (``SMSSpamCollection``) or a ``.txt`` one (an export
    saved as text, or what ``cloister predict --output x.txt`` writes) from its first bytes."""
    kind = "has no suffix" if not path.suffix else f"is a {path.suffix} file"
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise os_error(path, exc) from exc
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if not head.strip():
        raise InputError(f"{path} is empty. Export the data again and check that the file has rows.")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    wide = next(((bom, codec) for bom, codec in _WIDE_BOMS if head.startswith(bom)), None)
    if wide is None and b"\x00" in head:
        # UTF-16 without its byte-order mark (some exports of Japanese or Chinese text) is
        # text: read as what it holds, as the CSV and TSV readers do.
        bare = looks_utf16(head[:8192])
        if bare is None:
            raise _unsupported(path, f"the file {kind} and holds binary data")
        wide = (b"", bare)
    text = (head[len(wide[0]):].decode(wide[1], errors="replace") if wide
            else head.decode("utf-8", errors="replace"))
    if len(head) == _SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    dialect = delimited.sniff(text, delimiters=("\t", ",", ";", "|"))
    # Only a clearly tabular file is accepted; anything looser would be a guess.
    if len(dialect.column_names) >= 2 and dialect.consistency >= 0.95:
        return "tsv" if dialect.delimiter == "\t" else "csv"
    raise _unsupported(path, f"the file {kind} and is not recognisably CSV, TSV or JSON", NotTabular)


def read_table(path: str | Path, *, sheet: str | None = None, header: bool | None = None,
               max_bytes: int | None = None, tidy: bool = True, compose: bool = True,
               encoding: str | None = None) -> ImportedTable:
    """Read a dataset file or folder into memory.

    ``sheet`` picks an Excel sheet (default: the first). ``header`` forces whether the first
    row of a CSV/TSV/sheet holds column names (default: detected). ``encoding`` names a CSV/TSV
    file's text encoding (default: detected, ``importing.legacy_encodings``). ``compose=False`` keeps the
    values as written instead of NFC (a file written back with predictions added, whose key
    columns must still join with the source). ``max_bytes`` bounds what is
    read into memory (default 1 GiB or ``CLOISTER_MAX_IMPORT_BYTES``). ``tidy=False`` keeps every
    row (a file to predict; ``importing.tidy`` says what a dataset leaves out). Raises ``InputError``
    with a message naming the file and what to do.
    """
    path = Path(path).expanduser()
    limit = max_bytes if max_bytes is not None else max_bytes_default()
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as exc:
        raise os_error(path, exc) from exc
    if not exists:
        raise InputError(f"{path} does not exist. Check the path and the file name.")
    if not is_dir and not path.is_file():
        # A named pipe would block the reader forever; a device has no end.
        raise InputError(f"{path} is not a regular file (it is a pipe, socket or device). "
                         "Save the data to a file and use that.")
    if encoding is not None:
        from engine.data.importing.legacy_encodings import check_codec

        encoding = check_codec(encoding)
    request = ReadRequest(sheet=sheet, header=header, max_bytes=limit, tidy=tidy, encoding=encoding)
    if is_dir:
        _encoding_applies(path, "folder", encoding)
        return _logged(reader_named("folder").read(path, request), compose)
    if sheet is not None and path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(f"--sheet applies to Excel workbooks only; {path.name} is not one.")
    if not path.suffix or path.suffix.lower() == ".txt":  # read by what it holds
        name = _sniff_format(path)
        _encoding_applies(path, name, encoding)
        return _logged(reader_named(name).read(path, request), compose)
    found = reader_for_suffix(path.suffix)
    if found is None:
        raise _unsupported(path, f"the {path.suffix!r} format is not supported")
    _encoding_applies(path, found.name, encoding)
    return _logged(found.read(path, request), compose)


def _encoding_applies(path: Path, reader: str, encoding: str | None) -> None:
    """``--encoding`` is for delimited text; other formats say their encoding themselves."""
    if encoding is not None and reader not in ("csv", "tsv"):
        raise InputError(f"--encoding applies to CSV and TSV files; {path.name} is read as "
                         f"{reader}, which says its own encoding: leave --encoding out.")


def _logged(imported: ImportedTable, compose: bool = True) -> ImportedTable:
    imported = _composed(imported) if compose else imported
    # Shape only: the log never holds a value from the data (not even column names).
    log.debug("read %s: %d rows x %d columns, encoding %s, %d read-time problems",
              imported.format, imported.num_rows, imported.table.num_columns, imported.encoding,
              len(imported.problems))
    return imported


def _all_ascii(column: pa.ChunkedArray) -> bool:
    """No byte of the column's text is 0x80 or above: read from Arrow's buffers in place
    (5x faster than ``string_is_ascii``, which builds an array to answer one question)."""
    for chunk in column.chunks:
        buffers = chunk.buffers()
        if len(chunk) == 0 or buffers[2] is None:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=width)[chunk.offset: chunk.offset + len(chunk) + 1]
        data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
        if data.size and int(data.max()) >= 0x80:
            return False
    return True


def _composed(imported: ImportedTable) -> ImportedTable:
    """Every value and column name in Unicode NFC: 'é' typed as one letter (Windows, most
    keyboards) and as 'e' with a combining accent (macOS, some exports) is one label, one
    column name and one word for the detectors, instead of two classes that look the same.
    Columns that are all ASCII (nearly all, in most files) are only scanned."""
    table = imported.table
    changed = False
    for i, column in enumerate(table.columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        if _all_ascii(column):
            continue
        table = table.set_column(i, table.field(i), pc.utf8_normalize(column, form="NFC"))
        changed = True
    names = [unicodedata.normalize("NFC", name) for name in table.column_names]
    # Two names that only NFC makes equal stay as they were written, told apart.
    if names != table.column_names and len(set(names)) == len(names):
        table = table.rename_columns(names)
        changed = True
    return dataclasses.replace(imported, table=table) if changed else imported
