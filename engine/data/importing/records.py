"""Build an all-strings Arrow table from Python records (JSON objects, spreadsheet rows)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from engine.errors import InputError


LIST_DELIMITER = "|"  # the default --label-delimiter


def cell_text(value: Any) -> str | None:
    """A cell as the user would read it: numbers without a spurious ``.0``, dates in ISO form."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and LIST_DELIMITER not in str(v)
                                       for v in value):
        # A list of plain values (tags) reads as multi-label data is written: "billing|urgent"
        # (``--label-delimiter "|"``); an empty one is an empty cell. A tag with a "|" of its
        # own would split in two: such a list stays JSON.
        return LIST_DELIMITER.join(cell_text(v) or "" for v in value) if value else None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def table_from_columns(names: Sequence[str], columns: Sequence[Sequence[Any]], *,
                       source: Any = "the file", row: str = "row") -> pa.Table:
    """``row`` names a record in messages ("item" for a JSON array, "line" for JSON Lines)."""
    arrays = {}
    for name, values in zip(names, columns):
        texts = [cell_text(v) for v in values]
        try:
            arrays[name] = pa.array(texts, type=pa.string())
        except UnicodeEncodeError:
            # JSON can spell half a character (an escape such as \ud800 with no partner): not
            # text that any file, model or vault entry can hold.
            index = next(i for i, t in enumerate(texts) if t is not None and _unpaired(t))
            raise InputError(f"{source}: {row} {index + 1}, column '{name}' holds half of a "
                             "character (an unpaired \\ud800-\\udfff escape), which is not text: "
                             "fix the export that wrote it, or remove that escape") from None
    return pa.table(arrays)


def _unpaired(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unique_names(raw: Sequence[Any]) -> list[str]:
    """Column names from a header row: blanks become ``column_N``, repeats get a suffix."""
    names: list[str] = []
    for j, value in enumerate(raw):
        name = (cell_text(value) or "").strip() or f"column_{j + 1}"
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names
