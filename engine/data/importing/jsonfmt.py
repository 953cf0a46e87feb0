"""JSON (an array of objects) and JSON Lines (one object per line)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.data.problems import Problem, Severity
from engine.errors import InputError
from engine.data.importing.records import table_from_columns
from engine.data.importing.registry import ReadRequest, reader
from engine.data.importing.source import decode, read_bytes
from engine.data.importing.table import ImportedTable

# json.loads turns text into Python objects several times its size.
_EXPANSION = 4
_SHAPE = 'Cloister reads a JSON array of objects, one per row: [{"text": "...", "label": "..."}, ...]'


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


# An object with more keys than this is a map keyed by ids (a chat export's message map), not
# a record's fields: it stays one cell instead of becoming a column per id.
_MAX_FIELDS = 50
# Keys under which exports wrap their rows ({"data": [...], "count": 2}).
_WRAPPERS = {"data", "rows", "records", "items", "results", "entries", "examples", "values",
             "documents", "messages", "hits"}


def flatten(record: dict[str, Any], prefix: str = "", flat: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested objects become columns named by their path: ``{"userInput": {"text": "hi"}}``
    gives a column ``userInput.text``, as exports from APIs and chat tools nest their fields.
    An array of plain values (``["billing", "urgent"]``) becomes one cell ``billing|urgent``, as
    multi-label data is written (``--label-delimiter "|"``); other arrays stay one cell of JSON
    text. Their items are never columns of the row. An empty
    object has no fields, so it adds no column (the row's cells under that path are empty).
    A path that is already a key (``{"a.b": 1, "a": {"b": 2}}``) gets a suffix (``a.b_2``)."""
    flat = {} if flat is None else flat
    for key, value in record.items():
        name = base = f"{prefix}{key}"
        k = 2
        while name in flat:
            name, k = f"{base}_{k}", k + 1
        if isinstance(value, dict) and len(value) <= _MAX_FIELDS:
            flatten(value, f"{name}.", flat)
        else:  # a list of plain values becomes "a|b" in ``cell_text``
            flat[name] = value
    return flat


def _columns(records: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    flat = [flatten(record) for record in records]
    names: dict[str, None] = {}
    for record in flat:
        names.update(dict.fromkeys(record))
    keys = list(names)
    return keys, [[record.get(key) for record in flat] for key in keys]


@reader("json", suffixes=(".json",), description="JSON array of objects (.json)")
def read_json(path: Path, request: ReadRequest) -> ImportedTable:
    value, decoded, problems = _array_records(path, request)
    names, columns = _columns(value)
    return ImportedTable(table=table_from_columns(names, columns, source=path, row="item"),
                         source=path, format="json",
                         encoding=decoded.encoding, problems=problems, first_data_line=1)


def records_of(path: Path, fmt: str) -> list[dict[str, Any]]:
    """The objects of a JSON or JSON Lines file as written (nested, typed), one per row as
    ``read_json``/``read_jsonl`` read them: predictions written back beside them keep them so."""
    from engine.data.importing.source import max_bytes_default

    request = ReadRequest(sheet=None, header=None, max_bytes=max_bytes_default())
    return _array_records(path, request)[0] if fmt == "json" else _line_records(path, request)[0]


def _array_records(path: Path, request: ReadRequest) -> tuple[list[dict[str, Any]], Any, tuple[Problem, ...]]:
    decoded = decode(path, read_bytes(path, max_bytes=request.max_bytes, expansion=_EXPANSION),
                     what="a JSON file")
    try:
        value = json.loads(decoded.text)
    except RecursionError:
        raise InputError(
            f"{path} is nested too deeply to read (arrays or objects inside each other thousands "
            f"of levels deep). {_SHAPE}."
        ) from None
    except json.JSONDecodeError as exc:
        hint = ""
        if exc.msg == "Extra data" and decoded.text.lstrip().startswith("{"):
            hint = " It looks like JSON Lines (one object per line): rename it to .jsonl."
        raise InputError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).{hint or ' Fix the file or export it again.'}"
        ) from None
    problems = tuple(decoded.problems)
    if isinstance(value, dict):
        # Many exports wrap the rows: {"data": [...], "count": 2}. One array of objects is
        # unambiguous; several would be a guess.
        arrays = [k for k, v in value.items()
                  if isinstance(v, list) and v and all(isinstance(item, dict) for item in v)]
        # A wrapper names its rows as wrappers do, or holds nothing else of text: a single
        # record ({"text": ..., "entities": [...]}) is not one.
        wrapper = len(arrays) == 1 and (arrays[0].lower() in _WRAPPERS or not any(
            isinstance(v, str) for k, v in value.items() if k != arrays[0]))
        if wrapper:
            value = value[arrays[0]]
            problems += (Problem(
                severity=Severity.INFO, code="json-wrapped",
                message=f"the rows were read from the array under the key {arrays[0]!r}",
                hint="The file is an object that holds its rows in that array.", file=str(path)),)
        elif len(arrays) > 1:
            raise InputError(f"{path} is an object with several arrays of objects (under the keys "
                             f"{', '.join(repr(k) for k in arrays)}): save the one that holds the "
                             f"rows as the file. {_SHAPE}.")
    if not isinstance(value, list):
        extra = ""
        if isinstance(value, dict):
            lists = [k for k, v in value.items() if isinstance(v, list)]
            if lists:
                extra = f" (its key {lists[0]!r} holds an array: save that array as the file)"
        raise InputError(f"{path} is {_kind(value)}, not an array of objects{extra}. {_SHAPE}.")
    if not value:
        raise InputError(f"{path} is an empty JSON array: it has no rows. {_SHAPE}.")
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise InputError(
                f"{path}: item {index} of the array is {_kind(item)}, not an object. {_SHAPE}."
            )
    return value, decoded, problems


@reader("jsonl", suffixes=(".jsonl", ".ndjson"), description="JSON Lines, one object per line (.jsonl)")
def read_jsonl(path: Path, request: ReadRequest) -> ImportedTable:
    records, decoded, first_line = _line_records(path, request)
    names, columns = _columns(records)
    return ImportedTable(table=table_from_columns(names, columns, source=path, row="record"),
                         source=path, format="jsonl",
                         encoding=decoded.encoding, problems=decoded.problems,
                         first_data_line=first_line or 1)


def _line_records(path: Path, request: ReadRequest) -> tuple[list[dict[str, Any]], Any, int]:
    decoded = decode(path, read_bytes(path, max_bytes=request.max_bytes, expansion=_EXPANSION),
                     what="a JSON Lines file")
    records: list[dict[str, Any]] = []
    first_line = 0
    for number, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except RecursionError:
            raise InputError(f"{path}, line {number}: nested too deeply to read.") from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}, line {number}: not valid JSON ({exc.msg}, column {exc.colno}). "
                "Each line must hold one JSON object; fix or delete that line."
            ) from None
        if not isinstance(item, dict):
            raise InputError(
                f"{path}, line {number}: the line holds {_kind(item)}, not an object. "
                'Each line must hold one JSON object like {"text": "...", "label": "..."}.'
            )
        first_line = first_line or number
        records.append(item)
    return records, decoded, first_line
