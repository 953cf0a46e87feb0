"""Long texts read in overlapping windows instead of cut at ``max_length``.

A text longer than ``max_length`` tokens is split into windows of ``max_length`` tokens (each with
the model's own special tokens), consecutive windows sharing ``overlap`` tokens so that a sentence
cut by one window's edge is whole in the next. Training sees every window as an example with its
text's labels; prediction scores every window and **averages the windows' probabilities** into
the text's (the mean of softmax outputs, or of sigmoid outputs for multi-label): a text is judged
on all of it, each part counting as much as any other. At most ``MAX_WINDOWS`` windows are read
per text (the start of a longer text), so one huge document cannot take over training or memory.

The windows come from the fast tokenizer's own overflow (``return_overflowing_tokens``), so
training and prediction cut a text the same way.
"""
from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import InputError
from engine.training.data import Done, Encoded, Packer, run_through

# Saved in the trained model's config: prediction reads long texts the way training did.
WINDOW_OVERLAP_KEY = "cloister_window_overlap"
MAX_WINDOWS = 16  # per text: 16 windows of 512 tokens read about 6,000 tokens of a document
_CHUNK = 512  # texts tokenized at a time


@dataclass(frozen=True)
class Windows:
    """Token ids per window, the text each window comes from (``source[i]``), and the texts
    longer than their windows read (``cut[t]``: more than ``max_windows`` windows, the rest
    dropped; a text ending exactly where its last window does is read whole)."""

    encoded: Encoded
    source: np.ndarray  # int64, one per window, ascending: a text's windows are consecutive
    cut: np.ndarray  # bool, one per text


def default_overlap(max_length: int) -> int:
    """Tokens two consecutive windows share when the user sets none: a quarter of a window."""
    return max(0, max_length // 4)


def check_overlap(max_length: int, overlap: int) -> str | None:
    """Why ``overlap`` cannot be used with ``max_length`` (None when it can)."""
    if overlap < 0:
        return f"window overlap is {overlap} tokens: use 0 or more"
    if overlap > max_length // 2:
        return (f"window overlap is {overlap} tokens with windows of {max_length}: use at most "
                f"half a window ({max_length // 2}), or each window would add few new tokens")
    return None


def encoding_windows(tokenizer: Any, texts: Sequence[str], *, max_length: int, overlap: int,
                     max_windows: int = MAX_WINDOWS) -> Generator[Done, None, Windows]:
    """Every text as one or more windows of at most ``max_length`` tokens (no padding),
    yielding the texts done after each chunk (``engine.training.data.encoding_texts``)."""
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("reading long texts in windows needs the model's fast tokenizer "
                         "(tokenizer.json in the model folder); cut long texts instead")
    packer = Packer(tokenizer.pad_token_id)
    sources: list[np.ndarray] = []
    cut = np.zeros(len(texts), dtype=bool)
    for start in range(0, len(texts), _CHUNK):
        chunk = [str(t) for t in texts[start : start + _CHUNK]]
        out = tokenizer(chunk, truncation=True, max_length=max_length, stride=overlap,
                        return_overflowing_tokens=True, padding=False)
        kept: list[list[int]] = []
        source: list[int] = []
        seen: dict[int, int] = {}
        for window, text in zip(out["input_ids"], out["overflow_to_sample_mapping"]):
            count = seen.get(text, 0)
            if count < max_windows:
                kept.append(window)
                source.append(start + int(text))
            seen[text] = count + 1
        cut[[start + int(text) for text, count in seen.items() if count > max_windows]] = True
        packer.add(kept)
        sources.append(np.asarray(source, dtype=np.int64))
        yield min(len(texts), start + _CHUNK), len(texts)
    return Windows(packer.encoded(),
                   np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64), cut)


def encode_windows(tokenizer: Any, texts: Sequence[str], *, max_length: int, overlap: int,
                   max_windows: int = MAX_WINDOWS) -> Windows:
    """``encoding_windows`` without progress."""
    return run_through(encoding_windows(tokenizer, texts, max_length=max_length, overlap=overlap,
                                        max_windows=max_windows))


def windows_of(source: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """The windows (positions in ``source``) of the texts ``texts``, in ascending order."""
    return np.flatnonzero(np.isin(source, texts))


def mean_by_text(probs: np.ndarray, window_texts: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Each text's probabilities, the mean of its windows', in the order of ``texts``.

    ``probs[i]`` belongs to the window of text ``window_texts[i]``; every text in ``texts`` has
    at least one window.
    """
    position = {int(t): i for i, t in enumerate(texts)}
    where = np.fromiter((position[int(t)] for t in window_texts), dtype=np.int64,
                        count=len(window_texts))
    sums = np.zeros((len(texts), probs.shape[1]), dtype=np.float64)
    np.add.at(sums, where, probs)
    counts = np.bincount(where, minlength=len(texts)).astype(np.float64)
    return (sums / np.maximum(counts, 1.0)[:, None]).astype(np.float32)


def window_counts(lengths: np.ndarray, *, max_length: int, overlap: int,
                  special_tokens: int = 2, max_windows: int = MAX_WINDOWS) -> np.ndarray:
    """How many windows texts of ``lengths`` tokens (untruncated, special tokens included) make,
    as ``encode_windows`` cuts them: for the estimate, before anything is tokenized again."""
    content = np.maximum(np.asarray(lengths, dtype=np.int64) - special_tokens, 0)
    room = max(1, max_length - special_tokens)
    step = max(1, room - overlap)
    extra = np.ceil(np.maximum(content - room, 0) / step).astype(np.int64)
    return np.minimum(1 + extra, max_windows)


def reach(max_length: int, overlap: int, *, special_tokens: int = 2,
          max_windows: int = MAX_WINDOWS) -> int:
    """How many tokens of a text (special tokens included) its ``max_windows`` windows read."""
    room = max(1, max_length - special_tokens)
    return special_tokens + room + (max_windows - 1) * max(1, room - overlap)


@dataclass(frozen=True)
class LongTexts:
    """How texts of measured lengths fare at a max length: the share it cuts, the windows a text
    makes on average, how far ``MAX_WINDOWS`` windows reach and the share longer than that.
    What the dry run and the Train page say, each in its own words."""

    cut_share: float
    windows_per_text: float
    reach: int
    past_reach_share: float


def long_texts(lengths: Sequence[int] | np.ndarray, *, max_length: int, overlap: int) -> LongTexts:
    lengths = np.asarray(lengths, dtype=np.int64)
    farther = reach(max_length, overlap)
    if not len(lengths):
        return LongTexts(0.0, 1.0, farther, 0.0)
    counts = window_counts(lengths, max_length=max_length, overlap=overlap)
    return LongTexts(float((lengths > max_length).mean()), float(counts.mean()), farther,
                     float((lengths > farther).mean()))
