"""Web markup in texts: the HTML tags and entities that exports from web tools leave in a field.

Ticketing systems, CRMs, survey tools and scraped news keep text as HTML, and their CSV exports
write it as it is: ``&lt;b&gt;``, ``&amp;``, ``&#39;``, ``<br>``, and even entities that lost
their ampersand on the way (``#39;s``, ``quot;`` in AG News). A tokenizer reads each as several
word pieces: they spend the model's length budget (AG News: a quote link of ~40 tokens in 7% of
its rows, cut at 80) and teach the model where a row came from instead of what it says.

``has_markup`` finds such texts column-wise (RE2 through Arrow, no Python loop), ``strip_markup``
cleans one text, ``strip_columns`` cleans the rows of a table that need it. The dataset fix
``--strip-markup`` (``engine.data.fixes.StripMarkup``) applies it at import; a model trained on
cleaned texts says so in its config (``TEXT_CLEANING_KEY``), and prediction cleans its input the
same way, so the model never sees at prediction what it was not trained on.
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The model config attribute that names the cleaning its training texts had.
TEXT_CLEANING_KEY = "cloister_text_cleaning"
MARKUP = "strip-markup"

# Named entities web exports use, for the forms that lost their "&" (few, so that an ordinary
# word followed by ";" is never taken for one).
_NAMES = "quot|amp|lt|gt|nbsp|apos|mdash|ndash|hellip|rsquo|lsquo|rdquo|ldquo"
# A tag: "<" and a letter, or "</" and a letter, up to the next ">"; "a < b" and "<3" are not.
_TAG = r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
_ENTITY = r"&(?:[A-Za-z]{2,8}|#[0-9]{2,5}|#[xX][0-9A-Fa-f]{2,4});"
_BARE_ENTITY = rf"(?:#[0-9]{{2,4}}|{_NAMES});"
# RE2 (Arrow) has no look-behind: a bare entity starts the text or follows a space or quote.
_DETECT = rf"{_TAG}|{_ENTITY}|(?:^|[\s\"'(]){_BARE_ENTITY}"

_BARE_RE = re.compile(rf"(?<![^\s\"'(]){_BARE_ENTITY}")
_TAG_RE = re.compile(_TAG)
_SPACES_RE = re.compile(r"[ \t\u00a0]{2,}")


def has_markup(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, whether the text holds a tag or an entity (null and non-string rows: False)."""
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        return np.zeros(len(texts), dtype=bool)
    hit = pc.fill_null(pc.match_substring_regex(texts, _DETECT), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def strip_markup(text: str) -> str:
    """``text`` with its entities decoded and its tags removed; spaces the tags leave are merged.

    Entities are decoded before tags are looked for, so an escaped tag (``&lt;br&gt;``) goes too,
    and twice over for a double escape (``&amp;lt;``).
    """
    cleaned = _BARE_RE.sub(lambda m: "&" + m.group(0), text)
    for _ in range(3):  # "&amp;lt;" -> "&lt;" -> "<"; three rounds cover what exports produce
        decoded = html.unescape(cleaned)
        if decoded == cleaned:
            break
        cleaned = decoded
    cleaned = _TAG_RE.sub(" ", cleaned)
    return _SPACES_RE.sub(" ", cleaned.replace("\u00a0", " ")).strip()


def strip_texts(texts: Sequence[str]) -> list[str]:
    """Every text cleaned as ``strip_markup`` does; texts without markup are returned as given."""
    hit = has_markup(pa.array(list(texts), pa.string()))
    return [strip_markup(t) if h else t for t, h in zip(texts, hit)]


def strip_columns(table: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, int]:
    """``table`` with markup removed from ``columns`` (string columns only), and how many rows
    changed. Only the rows that hold markup go through Python; the rest are not touched."""
    changed = np.zeros(table.num_rows, dtype=bool)
    for name in columns:
        column = table.column(name)
        hit = has_markup(column)
        if not hit.any():
            continue
        values = column.to_pylist()
        for i in np.flatnonzero(hit):
            values[i] = strip_markup(values[i])
        table = table.set_column(table.column_names.index(name), name,
                                 pa.array(values, type=column.type))
        changed |= hit
    return table, int(changed.sum())
