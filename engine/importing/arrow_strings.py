"""Whole-column operations on Arrow string arrays, straight from their buffers.

Validation of a million rows must not cost a second copy of every text: these helpers read
Arrow's offsets and character bytes in place (numpy views, no copies) to fingerprint strings
and find repeated keys without building a hash table of the strings themselves.
"""
from __future__ import annotations

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
    Arrow's character buffer.
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
        last = np.maximum(ends - _WINDOW, starts)
        # Strings shorter than a window: one load, its bytes past the end masked to 0 (and
        # shifted back where the load had to start early, at the end of the buffer).
        short = np.flatnonzero(lengths < _WINDOW)
        begin = starts[short]
        load = np.minimum(begin, len(words) - 1)
        short_word = (words[load] >> (np.uint64(8) * (begin - load).astype(np.uint64))) & (
            (np.uint64(1) << (np.uint64(8) * lengths[short].astype(np.uint64))) - np.uint64(1))
        mixed = lengths.astype(np.uint64) * _MIX[4]
        for k, window in enumerate((starts, np.minimum(starts + lengths // 2, last), last)):
            # Long strings' windows lie inside the string, so inside the buffer: a plain load.
            word = words[np.minimum(window, len(words) - 1)]
            word[short] = short_word
            mixed ^= (word + np.uint64(k)) * _MIX[k]
            mixed ^= mixed >> np.uint64(29)
        out[at : at + len(chunk)] = mixed
        at += len(chunk)
    return out


_BUCKET_BITS_MAX = 22


def repeated(keys: np.ndarray) -> np.ndarray:
    """Boolean mask: the key occurs more than once.

    Keys are well-mixed hashes, so their top bits spread them over buckets; a bucket count
    (linear time) rules most keys out, and only the rest are sorted.
    """
    result = np.zeros(len(keys), dtype=bool)
    if len(keys) < 2:
        return result
    bits = min(_BUCKET_BITS_MAX, int(np.ceil(np.log2(len(keys)))) + 1)
    buckets = (keys >> np.uint64(64 - bits)).astype(np.intp)
    maybe = np.flatnonzero(np.bincount(buckets, minlength=1 << bits)[buckets] > 1)
    subset = keys[maybe]
    ordered = np.sort(subset)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(twice):
        result[maybe] = np.isin(subset, twice)
    return result


def codes(values: pa.ChunkedArray) -> np.ndarray:
    """Dense int64 ids per row, numbered in order of first appearance (one shared dictionary)."""
    encoded = pc.dictionary_encode(values)
    parts = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
