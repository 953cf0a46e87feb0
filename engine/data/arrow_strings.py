"""Whole-column operations on Arrow string arrays, straight from their buffers.

Validation of a million rows must not cost a second copy of every text: these helpers read
Arrow's offsets and character bytes in place (numpy views, no copies) to fingerprint strings
and find repeated keys without building a hash table of the strings themselves.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WINDOW = 8
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                 0xFF51AFD7ED558CCD], dtype=np.uint64)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def string_buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (int64, one more than rows) and character bytes of a string chunk, zero-copy."""
    buffers = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets.astype(np.int64), data


def fingerprints(values: pa.ChunkedArray) -> np.ndarray:
    """A uint64 per string from its length and three 8-byte windows (start, middle, end).

    Equal strings always get equal fingerprints; different ones rarely do, and callers confirm
    equality exactly. Each window is one unaligned 64-bit load per row, read straight from
    Arrow's character buffer; the windows are mixed with few whole-array passes (every pass
    over a million rows costs about a millisecond).
    """
    out = np.empty(len(values), dtype=np.uint64)
    at = 0
    for chunk in values.chunks:
        offsets, data = string_buffers(chunk)
        if len(data) < _WINDOW:
            data = np.concatenate([data, np.zeros(_WINDOW - len(data), np.uint8)])
        # Every byte position as the start of a little-endian uint64 (overlapping, no copy).
        words = np.ndarray(shape=(len(data) - _WINDOW + 1,), dtype="<u8", buffer=data, strides=(1,))
        starts, ends = offsets[:-1], offsets[1:]
        lengths = ends - starts
        last = ends - _WINDOW  # inside a long string; short ones are replaced below
        # Strings shorter than a window: one load, its bytes past the end masked to 0 (and
        # shifted back where the load had to start early, at the end of the buffer).
        short = np.flatnonzero(lengths < _WINDOW)
        begin = starts[short]
        load = np.minimum(begin, len(words) - 1)
        short_word = (words[load] >> (np.uint64(8) * (begin - load).astype(np.uint64))) & (
            (np.uint64(1) << (np.uint64(8) * lengths[short].astype(np.uint64))) - np.uint64(1))
        mixed = lengths.astype(np.uint64) * _MIX[4]
        for k, window in enumerate((starts, (starts + last) >> 1, last)):
            # Long strings' windows lie inside the string, so inside the buffer; short ones'
            # (replaced just below) are kept inside it too.
            word = words[np.clip(window, 0, len(words) - 1)]
            word[short] = short_word
            word *= _MIX[k]
            mixed ^= word
        mixed ^= mixed >> np.uint64(29)
        mixed *= _MIX[3]
        mixed ^= mixed >> np.uint64(32)
        out[at : at + len(chunk)] = mixed
        at += len(chunk)
    return out


# Bucket tables of at most 2**21 counts (16 MiB): bigger ones filter more per pass but cost more
# in cache misses than the extra pass they save (measured on 1M keys: 16 ms against 32 ms).
_BUCKET_BITS_MAX = 21
_BUCKET_PASSES = (42, 21, 0)  # which bits of the key each counting pass looks at


def repeated(keys: np.ndarray) -> np.ndarray:
    """Boolean mask: the key occurs more than once.

    Keys are well-mixed hashes, so any slice of their bits spreads them over buckets; a bucket
    count (linear time) rules most keys out, counts over other bits rule out most of the rest,
    and only the few left are sorted.
    """
    result = np.zeros(len(keys), dtype=bool)
    where: np.ndarray | None = None  # positions of the keys still in play
    for shift in _BUCKET_PASSES:
        if len(keys) < 2:
            return result
        bits = min(_BUCKET_BITS_MAX, int(np.ceil(np.log2(len(keys)))) + 4)
        buckets = ((keys >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.intp)
        maybe = np.flatnonzero(np.bincount(buckets, minlength=1 << bits)[buckets] > 1)
        keys = keys[maybe]
        where = maybe if where is None else where[maybe]
    ordered = np.sort(keys)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(twice) and where is not None:
        result[where[np.isin(keys, twice)]] = True
    return result


def codes(values: pa.ChunkedArray) -> np.ndarray:
    """Dense int64 ids per row, numbered in order of first appearance (one shared dictionary)."""
    encoded = pc.dictionary_encode(values)
    parts = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


class LabelCodes:
    """A label column hashed once: an id per row over its distinct trimmed values.

    Labels are few and repeat (a million rows, a handful of classes), so validation's label
    checks — missing, undecodable, class counts, conflicts — work on the small set of distinct
    values and an integer per row, never on a million strings again. Trimming and null handling
    match ``engine.data.columns.label_array``: ' spam' and 'spam' are one class, null is missing ('').
    """

    def __init__(self, ids: np.ndarray, values: list[str], empty_id: int) -> None:
        self.ids = ids  # int32 per row, an index into values
        self.values = values  # distinct trimmed labels, in order of first appearance
        self.empty_id = empty_id

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> LabelCodes:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.string())
        encoded = pc.dictionary_encode(column)
        chunks = encoded.chunks
        # The chunks of one encoding share the dictionary; the last one holds all of it.
        raw = chunks[-1].dictionary if chunks else pa.array([], pa.string())
        trimmed = pc.dictionary_encode(pc.utf8_trim_whitespace(raw))
        values: list[str] = trimmed.dictionary.to_pylist()
        empty_id = values.index("") if "" in values else len(values)
        if empty_id == len(values):
            values.append("")
        # Raw id -> trimmed id, plus one slot (len(raw)) for nulls, which are missing labels.
        remap = np.append(trimmed.indices.to_numpy(zero_copy_only=False), empty_id).astype(np.int32)
        null_slot = len(raw)
        # Indices without nulls are read in place (int32, no copy until the concatenation).
        parts = [(pc.fill_null(c.indices, null_slot) if c.indices.null_count else c.indices)
                 .to_numpy(zero_copy_only=False) for c in chunks]
        raw_ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        if np.array_equal(remap[:-1], np.arange(len(raw))) and not column.null_count:
            return cls(raw_ids, values, empty_id)  # trimming merged nothing: ids as they are
        return cls(remap[raw_ids], values, empty_id)

    def as_label_sets(self, delimiter: str) -> LabelCodes:
        """The same rows with each value read as a set of labels (multi-label data, where the
        order of a row's labels means nothing): 'billing|refund' and 'refund | billing' are one
        value, written in sorted order. Only the distinct values are split, never the rows."""
        canonical = [delimiter.join(sorted({p.strip() for p in v.split(delimiter) if p.strip()}))
                     for v in self.values]
        index: dict[str, int] = {}
        remap = np.asarray([index.setdefault(c, len(index)) for c in canonical], dtype=np.int32)
        return LabelCodes(remap[self.ids], list(index), int(remap[self.empty_id]))

    def __getitem__(self, row: int) -> str:
        return self.values[int(self.ids[row])]

    def where(self, test: Callable[[str], bool]) -> np.ndarray:
        """Boolean mask of the rows whose label passes ``test`` (run once per distinct label)."""
        hits = [i for i, value in enumerate(self.values) if test(value)]
        if not hits:
            return np.zeros(len(self.ids), dtype=bool)
        return np.isin(self.ids, hits)

    def counts(self, rows: np.ndarray) -> dict[str, int]:
        """Rows per label among the selected rows (a boolean mask)."""
        # All rows counted, less the few that are not selected: no copy of the selected ids.
        counted = np.bincount(self.ids, minlength=len(self.values))
        counted -= np.bincount(self.ids[~rows], minlength=len(self.values))
        return {self.values[i]: int(counted[i]) for i in np.flatnonzero(counted)}
