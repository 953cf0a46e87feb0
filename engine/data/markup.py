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
import html.entities
import re
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The model config attribute that names the cleaning its training texts had.
TEXT_CLEANING_KEY = "cloister_text_cleaning"
MARKUP = "strip-markup"

# What counts as markup is kept narrow, so that ordinary text is never changed: tags are those
# of HTML's own elements (``List<String>``, ``<Enter>`` and ``a<b and c>d`` stay), named entities
# are the ones web text uses (``&count;`` in C code stays), and only the full ``&name;`` form is
# decoded (``?a=1&current=2`` in a URL stays, where ``html.unescape`` alone would make it ``¤t``).
_TAG_NAMES = (
    "a abbr address article aside b bdi bdo big blockquote body br button caption center cite code "
    "col colgroup dd del details dfn div dl dt em fieldset figcaption figure font footer form h1 h2 "
    "h3 h4 h5 h6 head header hr html i iframe img input ins kbd label legend li link main mark meta "
    "nav noscript ol optgroup option p pre q s samp script section select small span strike strong "
    "style sub summary sup table tbody td textarea tfoot th thead time title tr tt u ul var wbr"
).split()
_COMMON_NAMES = (
    "amp lt gt quot apos nbsp copy reg trade hellip mdash ndash lsquo rsquo sbquo ldquo rdquo bdquo "
    "laquo raquo lsaquo rsaquo bull middot euro pound yen cent curren deg times divide plusmn sect "
    "para shy iexcl iquest szlig aelig AElig oelig OElig eth ETH thorn THORN frac12 frac14 frac34 "
    "sup1 sup2 sup3 micro ordf ordm macr dagger Dagger permil prime Prime ensp emsp thinsp"
).split()
_ACCENTED = re.compile(r"[A-Za-z](?:acute|grave|circ|uml|tilde|ring|cedil|slash)")
_NAMES = sorted({n for n in _COMMON_NAMES} | {n[:-1] for n in html.entities.html5
                                             if n.endswith(";") and _ACCENTED.fullmatch(n[:-1])})
# Feeds that lost the "&" (AG News: "#39;s", " quot;"): only these few, after a space or quote,
# so that "ticket #4521; please" keeps its number.
_BARE_NAMES = ("quot", "amp", "lt", "gt", "nbsp", "apos")
_BARE_CODES = ("36", "38", "39", "145", "146", "147", "148", "149", "150", "151", "160")

# After its name a tag holds attributes, and real ones carry "name=value": words with no "="
# ("a<b and c>d", "x<i if y>") are prose comparing things, not a tag.
_TAG = rf"(?i:</?(?:{'|'.join(_TAG_NAMES)})(?:[ \t\r\n\f]+(?:[^<>=]*=[^<>]*)?)?/?>)"
_ENTITY = rf"&(?:{'|'.join(_NAMES)}|#[0-9]{{1,7}}|#[xX][0-9A-Fa-f]{{1,6}});"
_BARE = rf"(?:{'|'.join(_BARE_NAMES)}|#(?:{'|'.join(_BARE_CODES)}));"
_BEFORE_BARE = "[ \t\r\n\f\v\"'(]"  # spelled out: Python's \s and RE2's differ beyond ASCII
# RE2 (Arrow) has no look-behind: a bare entity starts the text or follows _BEFORE_BARE.
_DETECT = rf"{_TAG}|{_ENTITY}|(?:^|{_BEFORE_BARE}){_BARE}"

_BARE_RE = re.compile(rf"(?<!{_BEFORE_BARE.replace('[', '[^', 1)}){_BARE}")
_ENTITY_RE = re.compile(_ENTITY)
_TAG_RE = re.compile(_TAG)
_SPACES_RE = re.compile(r"[ \t]{2,}")


def has_markup(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, whether the text holds a tag or an entity (null and non-string rows: False)."""
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        return np.zeros(len(texts), dtype=bool)
    hit = pc.fill_null(pc.match_substring_regex(texts, _DETECT), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def strip_markup(text: str) -> str:
    """``text`` with its entities decoded and its tags removed; spaces the tags leave are merged.

    Decoding can reveal more (an escaped tag ``&lt;br&gt;``, a double escape ``&amp;lt;``), so
    the rounds repeat until nothing changes: cleaning a cleaned text changes nothing.
    """
    for _ in range(8):  # exports escape twice at most; eight rounds leave a margin
        cleaned = _BARE_RE.sub(lambda m: "&" + m.group(0), text.replace("\u00a0", " "))
        cleaned = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), cleaned)
        cleaned = _TAG_RE.sub(" ", cleaned)
        if cleaned == text:
            break
        text = cleaned
    return _SPACES_RE.sub(" ", text).strip()


def strip_texts(texts: Sequence[str]) -> list[str]:
    """Every text cleaned as ``strip_markup`` does; texts without markup are returned as given."""
    hit = has_markup(pa.array(list(texts), pa.string()))
    return [strip_markup(t) if h else t for t, h in zip(texts, hit)]


def rows_with_markup(table: pa.Table, columns: Sequence[str]) -> int:
    """Rows whose ``columns`` hold markup: the rows ``strip_columns`` changes, since what is
    looked for is exactly what is removed (a Fix button's count, without cleaning anything)."""
    hit = np.zeros(table.num_rows, dtype=bool)
    for name in columns:
        hit |= has_markup(table.column(name))
    return int(hit.sum())


def strip_columns(table: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, int]:
    """``table`` with markup removed from ``columns`` (string columns only), and how many rows
    changed. Only the rows that hold markup go through Python; the rest are not touched."""
    return rewrite_columns(table, columns, has_markup, strip_markup)


def rewrite_columns(table: pa.Table, columns: Sequence[str], hits: Callable[[pa.ChunkedArray], np.ndarray],
                    rewrite: Callable[[str], str]) -> tuple[pa.Table, int]:
    """``table`` with ``rewrite`` applied to the rows of ``columns`` that ``hits`` marks, and how
    many rows it changed (the markup and double-encoding fixes)."""
    changed = np.zeros(table.num_rows, dtype=bool)
    for name in dict.fromkeys(columns):
        column = table.column(name)
        hit = hits(column)
        if not hit.any():
            continue
        values = column.to_pylist()
        for i in np.flatnonzero(hit):
            new = rewrite(values[i])
            changed[i] |= new != values[i]
            values[i] = new
        table = table.set_column(table.column_names.index(name), name,
                                 pa.array(values, type=column.type))
    return table, int(changed.sum())
