"""Labels as they are written: the spellings of one label, placeholders that stand for no label,
and rows per label (several a row for multi-label data). Shared by validation, which names what
it finds, and the fixes, which act on it; below both, with no dependency on either.
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.folding import fold

# Labels that stand for "no label": Excel's failed lookups and errors, R's and pandas' missing
# values. Compared by ``spelling_key``. Not "-" or "?": those can be classes (a +/- sentiment).
PLACEHOLDER_LABELS = frozenset({"n/a", "#n/a", "na", "nan", "null", "undefined", "#value!", "#ref!"})


def spelling_key(label: str) -> str:
    """What two spellings of one label share: case and runs of spaces do not count, nor how a
    number is written ('1' and '1.0', as pandas writes an integer column that had a gap), nor
    accents ('Reclamation', 'Réclamation'), a full stop at the end ('Beschwerde.'), Arabic's
    decorative tatweel or its everyday letter variants (ى/ي, أ/إ/آ/ا), characters that do not
    show (a byte-order mark, a soft hyphen, a zero-width space: "Lob\u200b" looked like "Lob" in
    every list and trained as another class), nor Turkish dotless ı against i (KISITLAMA and
    Kısıtlama)."""
    folded = fold(label.translate(_INVISIBLE)).replace("\u0640", "").translate(_ARABIC_VARIANTS)
    folded = folded.replace("\u0131", "i")
    key = " ".join(folded.split()).rstrip(".。")
    if _DECIMAL.fullmatch(key) and "." in key:
        key = key.rstrip("0").rstrip(".")  # '1.0' -> '1', '2.50' -> '2.5'; '007' stays itself
    return key


_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_INVISIBLE = str.maketrans(dict.fromkeys("\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"))
# Letters Arabic typists use for one another: alef maqsura for ya, hamza-carrying alefs for alef.
_ARABIC_VARIANTS = str.maketrans({"\u0649": "\u064a", "\u0623": "\u0627", "\u0625": "\u0627",
                                  "\u0622": "\u0627"})


def label_variants(counts: dict[str, int], tiebreak: dict[str, int] | None = None) -> list[list[str]]:
    """Groups of labels (rows per label: ``counts``) that differ only in how they are written, each
    with the spelling the others merge into first: the most frequent, then (``tiebreak``) the
    most frequent over other rows, then the plainest ('0' over '0.0', lower case), then one with
    no stray spaces, then the alphabetically last
    (so the choice never depends on row order). Placeholders such as 'N/A' and 'n/a' are not
    spellings of a class: they are dropped, not merged (``DropClasses``)."""
    groups: dict[str, list[str]] = {}
    for label in counts:
        if label.strip() and spelling_key(label) not in PLACEHOLDER_LABELS:
            groups.setdefault(spelling_key(label), []).append(label)
    more = tiebreak or {}
    return [sorted(g, key=lambda s: (counts[s], more.get(s, 0), s == spelling_key(s),
                                     s == " ".join(s.split()), s), reverse=True)
            for g in groups.values() if len(g) > 1]


def label_counts(labels: pa.ChunkedArray, *, label_delimiter: str | None = None) -> dict[str, int]:
    """Rows per label, in order of first appearance (a hash count; no Acero query engine).

    With ``label_delimiter`` each row counts once for every label it carries.
    """
    if label_delimiter:
        labels = once_a_row(*split_labels(labels, label_delimiter))[0]
    counted = pc.value_counts(labels)
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist()))


def split_labels(labels: pa.Array | pa.ChunkedArray, delimiter: str) -> tuple[pa.Array, np.ndarray]:
    """Each label of each row (several a row, joined by ``delimiter``), trimmed, empty ones left
    out, with the row it is in."""
    # One chunk, so that a part's parent index is its row in the whole column.
    split = pc.split_pattern(labels.combine_chunks() if isinstance(labels, pa.ChunkedArray)
                             else labels, delimiter)
    parts = pc.utf8_trim_whitespace(pc.list_flatten(split))
    rows = np.asarray(pc.list_parent_indices(split).to_numpy(zero_copy_only=False), dtype=np.int64)
    kept = np.asarray(pc.not_equal(parts, "").to_numpy(zero_copy_only=False), dtype=bool)
    return parts.filter(pa.array(kept)), rows[kept]


def once_a_row(parts: pa.Array, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """``split_labels``'s pairs with each (row, label) once, in their order: "a|a" is one label
    of its row, as training reads it."""
    codes = np.asarray(pc.dictionary_encode(parts).indices.to_numpy(zero_copy_only=False),
                       dtype=np.int64) if len(parts) else rows
    _, first = np.unique(rows * (int(codes.max(initial=0)) + 1) + codes, return_index=True)
    first = np.sort(first)
    return parts.take(pa.array(first)), rows[first]
