"""Finding the rows that name one person, for an erasure request (``engine.erasure``).

A value matches case-insensitively wherever it stands as a whole in any column: "Jane Doe" is
found in "Call from jane doe today" but not in "Mary-Jane Doe" or "Jane Doerr", and
"jane@example.com" not in "mary.jane@example.com" or "jane@example.com.au" (a letter, digit, or
one of ``_JOINERS`` next to it continues it; a full stop that ends a sentence does not). Any
run of spaces (no-break and ideographic ones included) stands for the spaces between its words.
A value of mostly digits (a phone or account number) also matches with other spaces, dots,
dashes or brackets between its digits. Chinese and Japanese are written without spaces, so a
value in those scripts matches inside a longer run ("日本太郎さん"). With ``columns``, a value
matches only the whole value of a cell of those columns (a customer id "42" is that id), spaces
collapsed and case ignored as above. Patterns are RE2 (``pyarrow.compute``).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import InputError

# Shorter values would match inside too many other names and words to be about one person.
MIN_VALUE_LENGTH = 3
_SPACE = r"[\s\pZ]"  # RE2's \s is ASCII only: no-break, narrow and ideographic spaces too
_DASHES = "\u2010-\u2015\u2212"  # hyphen, en and em dashes, minus
# Characters that join words into one address, handle or name: "mary.jane@", "Mary-Jane".
_JOINERS = r"_.@+\-"
_NOT_WORD = rf"[^\pL\pN{_JOINERS}]"
_DIGIT_SEPARATORS = rf"(?:{_SPACE}|[./()\-{_DASHES}])*"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def check_values(values: Iterable[str], *, whole_cells: bool = False) -> tuple[str, ...]:
    """The values, trimmed, NFC (as imports store text) and without repeats; InputError for an
    empty one, or (outside ``whole_cells``) one too short to be about one person."""
    out: list[str] = []
    for raw in values:
        value = " ".join(unicodedata.normalize("NFC", raw).split())
        if not value:
            raise InputError("an empty value identifies nobody: give a name, an e-mail address or "
                             "an identifier")
        if not whole_cells and len(value) < MIN_VALUE_LENGTH and not _CJK.search(value):
            raise InputError(f"{value!r} is too short to identify one person (it would match "
                             "inside other words and names): give a full name, an e-mail address "
                             "or an identifier, or match it against one column's whole values "
                             "(--column on the command line)")
        if value.casefold() not in {v.casefold() for v in out}:
            out.append(value)
    if not out:
        raise InputError("give at least one value that identifies the person")
    return tuple(out)


def value_pattern(value: str) -> str:
    """An RE2 pattern finding ``value`` as a whole, whatever the spaces between its words."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and re.fullmatch(rf"[\d\s+./()\-{_DASHES}]+", value):  # a phone number
        return rf"(?:^|[^\pN]){_DIGIT_SEPARATORS.join(digits)}(?:$|[^\pN])"
    body = rf"{_SPACE}+".join(re.escape(part) for part in value.split())
    before = rf"(?:^|{_NOT_WORD})" if _continues(value[0]) else ""
    # A full stop after it ends the sentence ("write to jane@example.com."), not the address.
    after = rf"(?:$|{_NOT_WORD}|\.(?:$|{_SPACE}))" if _continues(value[-1]) else ""
    return before + body + after


def _continues(char: str) -> bool:
    """Whether a letter or digit next to ``char`` would make one word with it."""
    return (char.isalnum() or char == "_") and not _CJK.match(char)


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # lists and other nested values hold no text a person is named by


def _whole(strings: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.utf8_lower(pc.utf8_trim_whitespace(
        pc.replace_substring_regex(strings, rf"{_SPACE}+", " ")))


def column_matches(column: pa.ChunkedArray | pa.Array, value: str, *,
                   whole_cells: bool = False) -> np.ndarray:
    """A mask of the cells of ``column`` that name ``value`` (see the module's rules)."""
    strings = _as_strings(pa.chunked_array([column]) if isinstance(column, pa.Array) else column)
    if strings is None:
        return np.zeros(len(column), dtype=bool)
    if whole_cells:
        found = pc.equal(_whole(strings), value.lower())
    else:
        found = pc.match_substring_regex(strings, value_pattern(value), ignore_case=True)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def rows_matching(table: pa.Table, values: Sequence[str], columns: Sequence[str] = ()
                  ) -> tuple[np.ndarray, dict[str, int]]:
    """Which rows of ``table`` name any of ``values`` (a mask), and how many rows each names;
    with ``columns``, by those columns' whole cells only."""
    searched = list(columns) or list(table.column_names)
    missing = [c for c in searched if c not in table.column_names]
    if missing:
        raise InputError(f"no column {missing[0]!r} here: the columns are "
                         f"{', '.join(table.column_names)}")
    mask = np.zeros(table.num_rows, dtype=bool)
    per_value: dict[str, int] = {}
    for value in values:
        hit = np.zeros(table.num_rows, dtype=bool)
        for name in searched:
            hit |= column_matches(table.column(name), value, whole_cells=bool(columns))
        per_value[value] = int(hit.sum())
        mask |= hit
    return mask, per_value
