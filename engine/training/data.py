"""Tokenize once, then batch by length: dynamic padding keeps CPU/GPU work proportional to text.

Batches are index arrays into the tokenized rows. Their order for an epoch is a pure function of
``(seed, epoch)``, so resuming needs only the epoch and the position within it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Rows are sorted by length inside windows of this many batches: long enough to group similar
# lengths, short enough that batch order stays random across the epoch.
MEGA_BATCH_FACTOR = 50
_TOKENIZE_CHUNK = 2048


@dataclass(frozen=True)
class Encoded:
    """Token ids per row, unpadded, truncated to ``max_length``."""

    input_ids: list[list[int]]
    lengths: np.ndarray  # int64, len == rows
    pad_id: int


def encode_texts(tokenizer: Any, texts: Sequence[str], *, max_length: int) -> Encoded:
    """Tokenize every text once with the fast tokenizer in batches (no padding here)."""
    ids: list[list[int]] = []
    for start in range(0, len(texts), _TOKENIZE_CHUNK):
        chunk = [str(t) for t in texts[start : start + _TOKENIZE_CHUNK]]
        out = tokenizer(chunk, truncation=True, max_length=max_length, padding=False)
        ids.extend(out["input_ids"])
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return Encoded(input_ids=ids, lengths=lengths, pad_id=int(pad_id))


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

    seqs = [encoded.input_ids[i] for i in rows]
    width = max(len(s) for s in seqs)
    if pad_to_multiple > 1:
        width = -(-width // pad_to_multiple) * pad_to_multiple
    ids = torch.full((len(seqs), width), encoded.pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[r, : len(s)] = 1
    # contiguous: Opacus's embedding norm sampler views its input flat (ghost clipping)
    positions = torch.arange(width, dtype=torch.long).unsqueeze(0).expand(len(seqs), width).contiguous()
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
