"""Tokenize once, then batch by length: dynamic padding keeps CPU/GPU work proportional to text.

Batches are index arrays into the tokenized rows. Their order for an epoch is a pure function of
``(seed, epoch)``, so resuming needs only the epoch and the position within it.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

# Rows are sorted by length inside windows of this many batches: long enough to group similar
# lengths, short enough that batch order stays random across the epoch.
MEGA_BATCH_FACTOR = 50
_TOKENIZE_CHUNK = 2048
T = TypeVar("T")


@dataclass(frozen=True)
class Encoded:
    """Token ids of every row, unpadded, truncated to ``max_length``, packed end to end.

    One int32 array instead of a Python list per row: a list costs ~40 bytes a token (an int
    object and its pointer), so 600,000 sst2 rows took 330 MB that way, 32 MB packed, and a
    million long texts several GB before the first step.
    """

    ids: np.ndarray  # int32, every row's tokens end to end
    offsets: np.ndarray  # int64, len == rows + 1: row i is ids[offsets[i]:offsets[i + 1]]
    pad_id: int

    @functools.cached_property
    def lengths(self) -> np.ndarray:  # int64, len == rows
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]

    def padded(self, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """``rows`` as int64 ids padded with ``pad_id`` to ``width``, and their 0/1 mask."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.offsets[rows + 1] - self.offsets[rows]
        mask = np.arange(width)[None, :] < lengths[:, None]
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        # A boolean mask fills in row-major order: each row's tokens, left to right.
        ids[mask] = np.concatenate([self.row(int(i)) for i in rows]) if len(rows) else []
        return ids, mask.astype(np.int64)


class Packer:
    """Collects tokenized chunks into one ``Encoded``, a chunk's lists freed as they come."""

    def __init__(self, pad_id: int | None) -> None:
        self.pad_id = int(pad_id) if pad_id is not None else 0
        self._ids: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []

    def add(self, rows: Sequence[Sequence[int]]) -> None:
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        self._ids.append(np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int32,
                                     count=int(lengths.sum())))
        self._lengths.append(lengths)

    def encoded(self) -> Encoded:
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.concatenate(self._ids) if self._ids else np.zeros(0, np.int32)
        return Encoded(ids=ids, offsets=offsets, pad_id=self.pad_id)


# What a step-wise encoder yields after each chunk: (texts done, texts in all).
Done = tuple[int, int]


def encoding_texts(tokenizer: Any, texts: Sequence[str], *,
                   max_length: int) -> Generator[Done, None, Encoded]:
    """Tokenize every text once with the fast tokenizer in chunks (no padding here), yielding
    the texts done after each chunk, so that a caller can report progress and stop."""
    packer = Packer(tokenizer.pad_token_id)
    for start in range(0, len(texts), _TOKENIZE_CHUNK):
        chunk = [str(t) for t in texts[start : start + _TOKENIZE_CHUNK]]
        packer.add(tokenizer(chunk, truncation=True, max_length=max_length, padding=False,
                             return_attention_mask=False, return_token_type_ids=False)["input_ids"])
        yield min(len(texts), start + _TOKENIZE_CHUNK), len(texts)
    return packer.encoded()


def run_through(steps: Generator[Done, None, T]) -> T:
    """The value of a step-wise encoder, run to its end without reporting."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


def encode_texts(tokenizer: Any, texts: Sequence[str], *, max_length: int) -> Encoded:
    """``encoding_texts`` without progress."""
    return run_through(encoding_texts(tokenizer, texts, max_length=max_length))


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(epoch)])


def length_grouped_batches(
    lengths: np.ndarray, *, batch_size: int, seed: int, epoch: int
) -> list[np.ndarray]:
    """Seeded batches of row positions, similar lengths together, longest batch first.

    Rows are shuffled, cut into mega-batches, sorted by length (descending) inside each, cut
    into batches, and the batches shuffled. The longest batch goes first so an out-of-memory
    error shows up at step 1, not an hour in.
    """
    n = len(lengths)
    if n == 0:
        return []
    rng = epoch_rng(seed, epoch)
    order = rng.permutation(n)
    mega = batch_size * MEGA_BATCH_FACTOR
    batches: list[np.ndarray] = []
    for start in range(0, n, mega):
        window = order[start : start + mega]
        window = window[np.argsort(-lengths[window], kind="stable")]
        batches.extend(window[i : i + batch_size] for i in range(0, len(window), batch_size))
    batch_order = rng.permutation(len(batches))
    batches = [batches[i] for i in batch_order]
    longest = max(range(len(batches)), key=lambda i: int(lengths[batches[i]].max()))
    batches[0], batches[longest] = batches[longest], batches[0]
    return batches


def sorted_batches(lengths: np.ndarray, *, batch_size: int) -> list[np.ndarray]:
    """Evaluation batches: sorted by length for the least padding; order does not matter."""
    order = np.argsort(-lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def collate(encoded: Encoded, rows: np.ndarray, *, pad_to_multiple: int = 1) -> dict[str, Any]:
    """Pad one batch to its own longest row.

    ``position_ids`` and ``token_type_ids`` are passed explicitly, expanded to the batch, so
    that per-sample gradient tools (Opacus) see plain inputs rather than buffers.
    """
    import torch

    rows = np.asarray(rows, dtype=np.int64)
    width = int(encoded.lengths[rows].max())
    if pad_to_multiple > 1:
        width = -(-width // pad_to_multiple) * pad_to_multiple
    padded, filled = encoded.padded(rows, width)
    ids, mask = torch.from_numpy(padded), torch.from_numpy(filled)
    # contiguous: Opacus's embedding norm sampler views its input flat (ghost clipping)
    positions = torch.arange(width, dtype=torch.long).unsqueeze(0).expand(len(rows), width).contiguous()
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": torch.zeros_like(ids),
        "position_ids": positions,
    }


@dataclass(frozen=True)
class LabelCoding:
    """Label names and the targets for every row (class ids, or multi-hot rows)."""

    names: tuple[str, ...]
    targets: np.ndarray  # int64 (rows,) or float32 (rows, classes) for multi-label
    multi_label: bool


def code_labels(labels: Sequence[str], *, multi_label: bool, delimiter: str = "|") -> LabelCoding:
    """Sorted label names and targets. Multi-label rows split on ``delimiter``."""
    if multi_label:
        sets = [[p.strip() for p in str(v).split(delimiter) if p.strip()] for v in labels]
        names = tuple(sorted({p for s in sets for p in s}))
        index = {n: i for i, n in enumerate(names)}
        targets = np.zeros((len(sets), len(names)), dtype=np.float32)
        for r, s in enumerate(sets):
            for p in s:
                targets[r, index[p]] = 1.0
        return LabelCoding(names=names, targets=targets, multi_label=True)
    values = [str(v) for v in labels]
    names = tuple(sorted(set(values)))
    index = {n: i for i, n in enumerate(names)}
    return LabelCoding(
        names=names,
        targets=np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values)),
        multi_label=False,
    )


def class_weight_vector(coding: LabelCoding, rows: np.ndarray) -> np.ndarray:
    """Inverse-frequency weights over ``rows`` (the training split), mean 1.

    Single-label: weight_c = n / (k * count_c). Multi-label: BCE ``pos_weight`` = negatives /
    positives per label. Classes absent from the split get weight 1.
    """
    targets = coding.targets[rows]
    if coding.multi_label:
        pos = targets.sum(axis=0)
        neg = len(rows) - pos
        return np.where(pos > 0, neg / np.maximum(pos, 1), 1.0).astype(np.float32)
    k = len(coding.names)
    counts = np.bincount(targets, minlength=k).astype(np.float64)
    weights = np.where(counts > 0, len(rows) / (k * np.maximum(counts, 1)), 1.0)
    return weights.astype(np.float32)
