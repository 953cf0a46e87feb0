"""CSV and TSV: sniff the delimiter, quoting and header on a sample, then parse with pyarrow.

Sniffing uses Python's ``csv`` module on the first megabyte (it understands quotes); the full
parse is pyarrow's reader streaming the file (UTF-8) or the transcoded text (other encodings),
with every column read as strings. Quoting is turned off for files whose quotes are not RFC 4180 quoting (SMS
exports with a message like ``"Hi" she said``), otherwise a stray quote would swallow rows.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from engine.errors import InputError
from engine.data.importing.registry import ReadRequest, reader
from engine.data.importing.source import (
    Encoding,
    decode_body,
    detect_encoding,
    named_encoding,
    non_utf8_encoding,
    os_error,
    read_bytes,
    read_head,
)
from engine.data.importing.header_names import LABEL_NAMES, TEXT_NAMES, name_score
from engine.data.importing.open_quote import (LastSkippedRecord, check_closed, csv_fields_up_to,
                                              rows_inside_cells)
from engine.data.importing.table import RAGGED_SKIPPED, ImportedTable
from engine.data.importing.tidy import header_key, tidy
from engine.data.problems import MAX_ROWS_LISTED, Problem, Severity

SAMPLE_BYTES = 1024**2
# pyarrow's parse block: small blocks keep peak memory near the table's own size.
_BLOCK_BYTES = 4 * 1024**2
_MAX_BLOCK_BYTES = 1024**3
# On two cores, parse threads compete with the app's own (measured slower than one thread).
_PARSE_THREADS = (os.cpu_count() or 1) > 2
_SAMPLE_RECORDS = 500
_MAX_HEADER_CHARS = 64
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?%?$")
NEWLINE = b"\n"
_ROW_TEXT = re.compile(r"(Expected \d+ columns, got \d+):.*")
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    quoting: bool
    header: bool
    column_names: tuple[str, ...]
    consistency: float  # share of sample records with the most common field count
    header_fields: tuple[str, ...] = ()  # the header record as written (blank names included)
    preamble: int = 0  # lines before the header: Excel's "sep=;" line


def _parse_sample(sample: str, delimiter: str, quoting: bool) -> list[list[str]] | None:
    """Records of the sample, or None when quoting is on and the quotes are not RFC quoting."""
    if quoting:
        rows_iter = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"',
                               doublequote=True, strict=True)
    else:
        rows_iter = csv.reader(io.StringIO(sample), delimiter=delimiter, quoting=csv.QUOTE_NONE)
    rows: list[list[str]] = []
    try:
        for row in rows_iter:
            if row and any(field.strip() for field in row):
                rows.append(row)
            if len(rows) >= _SAMPLE_RECORDS:
                break
    except csv.Error as exc:
        # The sample may end inside a quoted multi-line field: that is truncation, not bad quoting.
        if "unexpected end of data" not in str(exc):
            return None
    return rows


def _consistency(rows: list[list[str]]) -> tuple[int, float]:
    if not rows:
        return 0, 0.0
    counts = Counter(len(r) for r in rows)
    mode, hits = counts.most_common(1)[0]
    return mode, hits / len(rows)


def is_header(rows: list[list[str]]) -> bool:
    """Whether the first record names the columns rather than holding data.

    Evidence against a header: a number, a long value, or a value that also occurs further down
    the same column (``Sci/Tech`` as the first row's label in a headerless AG News file).
    """
    first, rest = rows[0], rows[1:]
    named = [f.strip() for f in first if f.strip()]
    if not named:
        return False
    # A name twice ("message,label,label") is a header still when a name is one headers use;
    # read as data, that row became a class of one and the columns column_1, column_2...
    if len(set(named)) != len(named) and not any(
            name_score(f, TEXT_NAMES)[0] or name_score(f, LABEL_NAMES)[0] for f in named):
        return False
    if any(len(f) > _MAX_HEADER_CHARS or _NUMBER.match(f) for f in named):
        return False
    # The header again further down (several exports joined into one file) is no evidence
    # against it, when the first row reads as names on other evidence: those rows are left out
    # on read (``tidy``). A first row of data that merely repeats stays data.
    # A later export's "sep=;" line (read as a row) is no data, but a sign of joined files.
    seps = [r for r in rest if r and re.fullmatch(r'\ufeff?"?sep=.?"?', r[0].strip())]
    rest = [r for r in rest if r not in seps]
    copies = [r for r in rest if header_key(r) == header_key(first)]
    data = [r for r in rest if header_key(r) != header_key(first)]
    if copies and (seps or _reads_as_names(first, copies, data)):
        rest = data
    for j, field in enumerate(first):
        value = field.strip()
        if value and any(len(r) > j and r[j].strip() == value for r in rest):
            return False
    return True


def _reads_as_names(first: list[str], copies: list[list[str]], data: list[list[str]]) -> bool:
    """Evidence that a first row which comes again names the columns, rather than being a row
    of data that repeats (besides a later export's sep= line): a word headers use ("text", "label", "Product"); a copy that starts
    with a BOM (a whole file pasted in); or a column of numbers under a short word ("ID" over
    1, 2, 3). Long texts under a short first value are no evidence: a greeting that users send
    again and again ("hi") sits above longer messages too."""
    if any(name_score(f, TEXT_NAMES)[0] or name_score(f, LABEL_NAMES)[0] for f in first):
        return True
    if any(r and r[0].startswith("\ufeff") for r in copies):
        return True
    for j, field in enumerate(first):
        value = field.strip().lstrip("\ufeff")
        below = [r[j].strip() for r in data if len(r) > j and r[j].strip()]
        if value and len(below) >= 3 and sum(bool(_NUMBER.match(v)) for v in below) >= 0.9 * len(below):
            return True
    return False


_EXCEL_SEP = re.compile(r'^\ufeff?"?sep=(.)"?[ \t]*\r?$')


def excel_separator(sample: str) -> tuple[str | None, str]:
    """Excel's first line ``sep=;`` names the delimiter: (that delimiter, the sample without the
    line), or (None, the sample) when the file has no such line."""
    first, newline, rest = sample.partition("\n")
    match = _EXCEL_SEP.match(first)
    return (match.group(1), rest) if match and newline else (None, sample)


def _names_from(first: list[str], width: int) -> tuple[str, ...]:
    names: list[str] = []
    for j in range(max(width, len(first))):
        name = first[j].strip() if j < len(first) else ""
        name = name or f"column_{j + 1}"
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return tuple(names)


def sniff(sample: str, *, delimiters: tuple[str, ...], header: bool | None = None) -> Dialect:
    """Delimiter, quoting and header from a text sample; the earlier delimiter wins ties.

    A delimiter under which the first record has the other records' width beats one under which
    it does not: in a European export (``Beschreibung;Kategorie;Preis`` over ``…;Anfrage;12,50``)
    the decimal commas split every data row in two as evenly as the semicolons split it in
    three, but only the semicolons split the header too.
    """
    best: tuple[tuple[bool, float, bool, int], str, bool, list[list[str]]] = (
        (False, 0.0, False, 0), delimiters[0], False, [])
    with csv_fields_up_to(len(sample)):  # a long document is one field
        for rank, delimiter in enumerate(delimiters):
            for quoting in (True, False):
                rows = _parse_sample(sample, delimiter, quoting)
                if rows is None:
                    continue
                width, share = _consistency(rows)
                score = (width >= 2, round(share, 2), len(rows[0]) == width, -rank)
                if not best[3] or score > best[0]:
                    best = (score, delimiter, quoting, rows)
    _, delimiter, quoting, rows = best
    if not rows:
        return Dialect(delimiter, quoting, False, (), 0.0)
    width, share = _consistency(rows)
    has_header = is_header(rows) if header is None else header
    names = _names_from(rows[0], width) if has_header else tuple(f"column_{j + 1}" for j in range(width))
    return Dialect(delimiter, quoting, has_header, names, share,
                   header_fields=tuple(rows[0]) if has_header else ())


def _sample_text(head: bytes, encoding: Encoding, *, truncated: bool) -> str:
    text = codecs.decode(head[encoding.bom :], encoding.name.replace("-sig", ""), "replace")
    if truncated and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop the partial last line
    return text


def _utf8_payload(path: Path, data: bytes, encoding: Encoding) -> pa.Buffer:
    """The file body as UTF-8 for pyarrow: zero-copy when it already is UTF-8."""
    if encoding.is_utf8 and not encoding.replace_errors:
        return pa.py_buffer(memoryview(data)[encoding.bom :])
    return pa.py_buffer(decode_body(path, data, encoding).encode("utf-8"))


class _RaggedRows:
    """pyarrow's invalid-row callback: skip the row, keep a few for the report (thread-safe)."""

    def __init__(self, last: LastSkippedRecord) -> None:
        self.count = 0
        self.examples: list[tuple[int, int, str]] = []
        self.problems: list[Problem] = []
        self.last = last
        self._lock = threading.Lock()

    def __call__(self, row: pacsv.InvalidRow) -> str:
        with self._lock:
            if _EXCEL_SEP.match(row.text):  # a later export's "sep=;" line: no data, no word
                return "skip"
            self.last.offer(row.text)
            self.count += 1
            if len(self.examples) < MAX_ROWS_LISTED:
                self.examples.append((row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def locate(self, path: Path, body: bytes, delimiter: str) -> None:
        """Turn the skipped rows into problems, with the line each was on."""
        # pyarrow does not say where a skipped row was; find its line so the user can fix it.
        # Skipped rows come in file order: two identical ones are found one after the other,
        # each searched for after the line of the one before.
        after: dict[bytes, int] = {}
        for expected, actual, text in self.examples:
            needle = text.encode("utf-8")
            start = after.get(needle, 0)
            if start == 0 and body.startswith(needle):
                at = 0
            else:
                at = body.find(b"\n" + needle, max(start - 1, 0)) + 1
            found = at > 0 or (start == 0 and body.startswith(needle))
            if found:
                after[needle] = at + len(needle)
            where = f"line {body.count(NEWLINE, 0, at) + 1:,}" if found else "a row"
            # A row read over several lines ran from a quote to the next one: the lines between
            # were taken into it, and they are what is lost with it.
            spans = text.count("\n") + 1
            over = (f" (read as one row over {spans:,} lines: check its quotes, one may open a "
                    "field that is closed only further down)") if spans > 1 else ""
            self.problems.append(Problem(
                severity=Severity.WARNING, code="ragged-row",
                message=f"{where} has {actual} field{'s' * (actual != 1)} where the header has "
                f"{expected}{over}{RAGGED_SKIPPED}",
                hint=f"Quote fields that contain the {_DELIMITER_NAMES.get(delimiter, repr(delimiter))} "
                "delimiter, or fix the row's number of fields.",
                file=str(path),
            ))
        if self.count > len(self.examples):
            self.problems.append(Problem(
                severity=Severity.WARNING, code="ragged-row",
                message=f"{self.count:,} rows in all had the wrong number of fields and were skipped "
                f"(the first {len(self.examples)} are listed)",
                hint="Check the delimiter and quoting of the file.", file=str(path),
            ))


class _NotUtf8(Exception):
    pass


class _UndecodableRaggedRow:
    """Notice when pyarrow cannot hand a skipped row to ``_RaggedRows`` because the row is not
    valid UTF-8 (it decodes the row first, fails, and prints "Exception ignored" to stderr).

    That means the file is not UTF-8 after all: the caller re-reads it in its real encoding.
    The process-wide hook is swapped only around one parse, and passes on anything not ours.
    """

    def __enter__(self) -> _UndecodableRaggedRow:
        self.seen = False
        self._previous = sys.unraisablehook
        sys.unraisablehook = self._hook
        return self

    def _hook(self, unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, UnicodeDecodeError) and isinstance(
                unraisable.object, _RaggedRows):
            self.seen = True
            return
        self._previous(unraisable)

    def __exit__(self, *exc_info: object) -> None:
        sys.unraisablehook = self._previous


def _parse(path: Path, source: pa.NativeFile, dialect: Dialect, what: str, *,
           utf8_checked_here: bool, tail: Callable[[int], bytes],
           block_bytes: int = _BLOCK_BYTES) -> tuple[pa.Table, _RaggedRows]:
    ragged = _RaggedRows(LastSkippedRecord(tail(4096).decode("utf-8", "ignore")))
    parse = pacsv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char='"' if dialect.quoting else False,
        double_quote=True,
        # Quoted fields may span lines; costs little, and a CSV without quotes never needs it.
        newlines_in_values=dialect.quoting,
        invalid_row_handler=ragged,
    )
    names = list(dialect.column_names)
    options = pacsv.ReadOptions(column_names=names, skip_rows=dialect.preamble + dialect.header,
                                block_size=block_bytes, use_threads=_PARSE_THREADS)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        with _UndecodableRaggedRow() as undecodable:
            table = pacsv.read_csv(source, read_options=options, parse_options=parse,
                                   convert_options=convert)
        if undecodable.seen and utf8_checked_here:
            raise _NotUtf8
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # pyarrow quotes the offending row after the reason; reports never echo data.
        detail = _ROW_TEXT.sub(r"\1", str(exc).splitlines()[0])
        if ("invalid UTF8" in detail or undecodable.seen) and utf8_checked_here:
            raise _NotUtf8 from None
        if "straddl" in detail and block_bytes < _MAX_BLOCK_BYTES:
            # One row is longer than a parse block (a whole document in one cell): retry with
            # blocks big enough for it.
            source.seek(0)
            return _parse(path, source, dialect, what, utf8_checked_here=utf8_checked_here,
                          tail=tail, block_bytes=block_bytes * 16)
        raise InputError(
            f"{path} could not be read as {what}: {detail}. Check that it is a "
            f"{_DELIMITER_NAMES.get(dialect.delimiter, 'delimiter')}-separated text file."
        ) from None
    except OSError as exc:
        raise os_error(path, exc) from exc
    if dialect.quoting:
        check_closed(path, table, ragged.last, dialect.delimiter, tail=tail,
                     whole_text=lambda: bytes(tail(-1)).decode("utf-8", "replace"))
    return table, ragged


def read_delimited(path: Path, request: ReadRequest, *, format_name: str,
                   delimiters: tuple[str, ...]) -> ImportedTable:
    what = "a TSV file" if format_name == "tsv" else "a CSV file"
    head, size = read_head(path, max_bytes=request.max_bytes, head_bytes=SAMPLE_BYTES)
    truncated = size > len(head)
    # UTF-8 is checked by pyarrow while parsing (a separate pass would cost ~20% of the import);
    # on its "invalid UTF8" error the file is read again in the encoding it really has.
    encoding = (named_encoding(head, request.encoding, path) if request.encoding
                else detect_encoding(path, head, what=what, verify_utf8=False))
    dialect = _sniff_file(_sample_text(head, encoding, truncated=truncated), delimiters,
                          request.header)
    if not dialect.column_names:
        raise InputError(f"{path} has no rows. Export the data again and check that it has rows.")
    table: pa.Table | None = None
    if encoding.is_utf8:
        try:
            # pyarrow streams the file in blocks (and skips a UTF-8 BOM): the whole file is
            # never in memory as bytes next to the table, which bounds peak memory.
            with pa.OSFile(str(path), "rb") as stream:
                table, ragged = _parse(path, stream, dialect, what, utf8_checked_here=True,
                                       tail=lambda n: _file_tail(path, n))
        except _NotUtf8:
            pass
    if table is None:
        data = read_bytes(path, max_bytes=request.max_bytes)
        if encoding.is_utf8 and request.encoding:
            raise InputError(f"{path} is not valid UTF-8, as --encoding {request.encoding} says; "
                             "leave --encoding out to have it detected, or name the encoding "
                             "the file was saved in (cp1252 for Western European Excel)")
        if encoding.is_utf8:  # it was not, after all: damaged UTF-8 or a legacy encoding
            encoding = non_utf8_encoding(path, data)
        # Sniff again: header names in the sample were decoded as UTF-8 the first time.
        dialect = _sniff_file(_sample_text(data[:SAMPLE_BYTES], encoding, truncated=truncated),
                              delimiters, request.header)
        payload = _utf8_payload(path, data, encoding)
        del data
        table, ragged = _parse(path, pa.BufferReader(payload), dialect, what, utf8_checked_here=False,
                               tail=lambda n: payload.to_pybytes() if n < 0 else
                               payload[max(payload.size - n, 0):].to_pybytes())
        if ragged.count:
            ragged.locate(path, payload.to_pybytes(), dialect.delimiter)
    elif ragged.count:
        ragged.locate(path, read_bytes(path, max_bytes=request.max_bytes), dialect.delimiter)
    if table.num_rows == 0:
        raise InputError(
            f"{path} has a header line ({', '.join(dialect.column_names)}) but no data rows. "
            "Export the data again with its rows."
            if dialect.header else f"{path} has no data rows."
        )
    inside = rows_inside_cells(path, table, dialect.delimiter) if dialect.quoting else []
    first_line = dialect.preamble + dialect.header + 1
    fields = dialect.header_fields
    unnamed = [n for j, n in enumerate(dialect.column_names) if j >= len(fields) or not fields[j].strip()]
    table, tidied = tidy(table, path, header_fields=fields or None, unnamed=unnamed) \
        if request.tidy else (table, [])
    return ImportedTable(
        table=table, source=path, format=format_name, encoding=encoding.name,
        problems=(*encoding.problems, *ragged.problems, *inside, *tidied),
        first_data_line=first_line, has_header=dialect.header, delimiter=dialect.delimiter,
        skipped_rows=ragged.count,
    )


def _file_tail(path: Path, n: int) -> bytes:
    """The last ``n`` bytes of the file (all of it for a negative ``n``)."""
    try:
        with open(path, "rb") as handle:
            if n >= 0:
                handle.seek(max(os.fstat(handle.fileno()).st_size - n, 0))
            return handle.read()
    except OSError as exc:
        raise os_error(path, exc) from exc


def _sniff_file(sample: str, delimiters: tuple[str, ...], header: bool | None) -> Dialect:
    """``sniff``, honouring Excel's ``sep=`` first line (the delimiter it names, and one more
    line to skip)."""
    named, sample = excel_separator(sample)
    if named is None:
        return sniff(sample, delimiters=delimiters, header=header)
    return dataclasses.replace(sniff(sample, delimiters=(named,), header=header), preamble=1)


@reader("csv", suffixes=(".csv",), description="comma-separated values (.csv)")
def read_csv(path: Path, request: ReadRequest) -> ImportedTable:
    return read_delimited(path, request, format_name="csv", delimiters=(",", ";", "\t", "|"))


@reader("tsv", suffixes=(".tsv", ".tab"), description="tab-separated values (.tsv)")
def read_tsv(path: Path, request: ReadRequest) -> ImportedTable:
    return read_delimited(path, request, format_name="tsv", delimiters=("\t", ",", ";", "|"))
