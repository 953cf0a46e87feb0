"""CSV and TSV: sniff the delimiter, quoting and header on a sample, then parse with pyarrow.

Sniffing uses Python's ``csv`` module on the first megabyte (it understands quotes); the full
parse is pyarrow's multi-threaded reader over the bytes already in memory, with every column
read as strings. Quoting is turned off for files whose quotes are not RFC 4180 quoting (SMS
exports with a message like ``"Hi" she said``), otherwise a stray quote would swallow rows.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from engine.errors import InputError
from engine.importing.registry import ReadRequest, reader
from engine.importing.source import Encoding, decode_body, detect_encoding, read_bytes
from engine.importing.table import ImportedTable
from engine.validation import MAX_ROWS_LISTED, Problem, Severity

SAMPLE_BYTES = 1024**2
_SAMPLE_RECORDS = 500
_MAX_HEADER_CHARS = 64
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?%?$")
NEWLINE = b"\n"
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    quoting: bool
    header: bool
    column_names: tuple[str, ...]
    consistency: float  # share of sample records with the most common field count


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
    if not named or len(set(named)) != len(named):
        return False
    if any(len(f) > _MAX_HEADER_CHARS or _NUMBER.match(f) for f in named):
        return False
    for j, field in enumerate(first):
        value = field.strip()
        if value and any(len(r) > j and r[j].strip() == value for r in rest):
            return False
    return True


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
    """Delimiter, quoting and header from a text sample; the earlier delimiter wins ties."""
    best: tuple[tuple[bool, float, int], str, bool, list[list[str]]] | None = None
    for rank, delimiter in enumerate(delimiters):
        for quoting in (True, False):
            rows = _parse_sample(sample, delimiter, quoting)
            if rows is None:
                continue
            width, share = _consistency(rows)
            score = (width >= 2, round(share, 2), -rank)
            if best is None or score > best[0]:
                best = (score, delimiter, quoting, rows)
    assert best is not None  # QUOTE_NONE parsing never fails
    (_, share, _), delimiter, quoting, rows = best
    if not rows:
        return Dialect(delimiter, quoting, False, (), 0.0)
    width, share = _consistency(rows)
    has_header = is_header(rows) if header is None else header
    names = _names_from(rows[0], width) if has_header else tuple(f"column_{j + 1}" for j in range(width))
    return Dialect(delimiter, quoting, has_header, names, share)


def _sample_text(data: bytes, encoding: Encoding) -> str:
    chunk = data[encoding.bom : encoding.bom + SAMPLE_BYTES]
    text = codecs.decode(chunk, encoding.name.replace("-sig", ""), "replace")
    if len(data) - encoding.bom > SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop the partial last line
    return text


def _utf8_payload(path: Path, data: bytes, encoding: Encoding) -> pa.Buffer:
    """The file body as UTF-8 for pyarrow: zero-copy when it already is UTF-8."""
    if encoding.is_utf8 and not encoding.replace_errors:
        return pa.py_buffer(memoryview(data)[encoding.bom :])
    return pa.py_buffer(decode_body(path, data, encoding).encode("utf-8"))


class _RaggedRows:
    """pyarrow's invalid-row callback: skip the row, keep a few for the report (thread-safe)."""

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()

    def __call__(self, row: pacsv.InvalidRow) -> str:
        with self._lock:
            self.count += 1
            if len(self.examples) < MAX_ROWS_LISTED:
                self.examples.append((row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def problems(self, path: Path, payload: pa.Buffer, delimiter: str) -> list[Problem]:
        if not self.count:
            return []
        # pyarrow does not say where a skipped row was; find its line so the user can fix it.
        body = payload.to_pybytes()
        out = []
        for expected, actual, text in self.examples:
            needle = text.encode("utf-8")
            found = body.startswith(needle) or body.find(b"\n" + needle) >= 0
            at = 0 if body.startswith(needle) else body.find(b"\n" + needle) + 1
            where = f"line {body.count(NEWLINE, 0, at) + 1:,}" if found else "a row"
            out.append(Problem(
                severity=Severity.WARNING, code="ragged-row",
                message=f"{where} has {actual} fields where the header has {expected}; "
                "the row was skipped",
                hint=f"Quote fields that contain the {_DELIMITER_NAMES.get(delimiter, repr(delimiter))} "
                "delimiter, or fix the row's number of fields.",
                file=str(path),
            ))
        if self.count > len(self.examples):
            out.append(Problem(
                severity=Severity.WARNING, code="ragged-row",
                message=f"{self.count:,} rows in all had the wrong number of fields and were skipped "
                f"(the first {len(self.examples)} are listed)",
                hint="Check the delimiter and quoting of the file.", file=str(path),
            ))
        return out


def read_delimited(path: Path, request: ReadRequest, *, format_name: str,
                   delimiters: tuple[str, ...]) -> ImportedTable:
    what = "a TSV file" if format_name == "tsv" else "a CSV file"
    data = read_bytes(path, max_bytes=request.max_bytes)
    encoding = detect_encoding(path, data, what=what)
    dialect = sniff(_sample_text(data, encoding), delimiters=delimiters, header=request.header)
    if not dialect.column_names:
        raise InputError(f"{path} has no rows. Export the data again and check that it has rows.")
    # Multi-line fields are slower to parse; only a file with a quote character can have them.
    may_span_lines = dialect.quoting and data.find(b'"', encoding.bom) >= 0
    payload = _utf8_payload(path, data, encoding)
    del data  # the payload may be a transcoded copy; drop the original before parsing
    ragged = _RaggedRows()
    parse = pacsv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char='"' if dialect.quoting else False,
        double_quote=True,
        newlines_in_values=may_span_lines,
        invalid_row_handler=ragged,
    )
    names = list(dialect.column_names)
    options = pacsv.ReadOptions(column_names=names, skip_rows=1 if dialect.header else 0,
                                block_size=16 * 1024**2)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        table = pacsv.read_csv(pa.BufferReader(payload), read_options=options,
                               parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        detail = str(exc).splitlines()[0]
        raise InputError(
            f"{path} could not be read as {what}: {detail}. Check that it is a "
            f"{_DELIMITER_NAMES.get(dialect.delimiter, 'delimiter')}-separated text file."
        ) from None
    if table.num_rows == 0:
        raise InputError(
            f"{path} has a header line ({', '.join(names)}) but no data rows. "
            "Export the data again with its rows."
            if dialect.header else f"{path} has no data rows."
        )
    problems = [*encoding.problems, *ragged.problems(path, payload, dialect.delimiter)]
    return ImportedTable(
        table=table, source=path, format=format_name, encoding=encoding.name,
        problems=tuple(problems), first_data_line=2 if dialect.header else 1,
        has_header=dialect.header,
    )


@reader("csv", suffixes=(".csv",), description="comma-separated values (.csv)")
def read_csv(path: Path, request: ReadRequest) -> ImportedTable:
    return read_delimited(path, request, format_name="csv", delimiters=(",", ";", "\t", "|"))


@reader("tsv", suffixes=(".tsv", ".tab"), description="tab-separated values (.tsv)")
def read_tsv(path: Path, request: ReadRequest) -> ImportedTable:
    return read_delimited(path, request, format_name="tsv", delimiters=("\t", ",", ";", "|"))
