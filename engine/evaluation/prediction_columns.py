"""The columns batch prediction adds to a file, collected batch by batch.

A model with few labels gets a ``prob_<label>`` column per label. Beyond ``MANY_LABELS`` a file
gets the ``TOP_FOR_MANY`` most probable labels of each row instead (``top_1_label``,
``top_1_prob``, ...), unless the user asks for another number (``--top-k``): a model of 5,000
diagnosis codes wrote 5,000 columns, far past what anyone reads in a spreadsheet, and held a
rows x labels matrix in memory several times over (about 25 GB for 60,000 rows). The top few
are taken from each batch as it comes, so memory grows with rows x k, not rows x labels.
"""
from __future__ import annotations

from typing import Any

import numpy as np

MANY_LABELS = 50
TOP_FOR_MANY = 5


def top_k_for(labels: int, asked: int | None) -> int | None:
    """How many labels a row's columns name: None for a column per label."""
    if asked is not None:
        return min(asked, labels)
    return min(TOP_FOR_MANY, labels) if labels > MANY_LABELS else None


class PredictionColumns:
    """Each row's predicted label and confidence, with every label's probability or the top
    ``k``, filled batch by batch (``add``) and turned into Arrow columns (``arrays``)."""

    def __init__(self, labels: tuple[str, ...], rows: int, *, k: int | None,
                 multi_label: bool = False, threshold: float = 0.5, delimiter: str = "|") -> None:
        self.labels, self.k, self.multi_label, self.threshold = labels, k, multi_label, threshold
        self.delimiter = delimiter  # several labels, joined as the training data joined them
        self._names = np.asarray(labels, dtype=object)  # picked by position, a batch at a time
        self.confidence = np.zeros(rows, dtype=np.float32)
        self.best = np.zeros(rows, dtype=np.int64)  # single-label: the label's position
        self.chosen: list[str] = [""] * rows if multi_label else []
        if k is None:
            self.probs = np.zeros((rows, len(labels)), dtype=np.float32)
        else:
            self.top = np.zeros((rows, k), dtype=np.int64)
            self.top_probs = np.zeros((rows, k), dtype=np.float32)

    def add(self, rows: np.ndarray, probs: np.ndarray) -> None:
        """The probabilities of ``rows`` (one batch, every label)."""
        self.confidence[rows] = probs.max(axis=1)
        self.best[rows] = probs.argmax(axis=1)
        if self.multi_label:
            for row, on in zip(rows, probs >= self.threshold):
                self.chosen[int(row)] = self.delimiter.join(self._names[np.flatnonzero(on)])
        if self.k is None:
            self.probs[rows] = probs
            return
        order = np.argsort(-probs, axis=1, kind="stable")[:, : self.k]
        self.top[rows] = order
        self.top_probs[rows] = np.take_along_axis(probs, order, axis=1)

    def arrays(self, blank: np.ndarray | None = None) -> dict[str, Any]:
        """Column name -> Arrow array; rows in ``blank`` (no text) get empty cells."""
        import pyarrow as pa

        mask = blank if blank is not None and blank.any() else None
        predicted = self.chosen if self.multi_label else self._names[self.best].tolist()
        out = {"predicted_label": pa.array(predicted, pa.string(), mask=mask),
               "confidence": pa.array(self.confidence.astype(np.float64), pa.float64(), mask=mask)}
        if self.k is None:
            for j, label in enumerate(self.labels):
                out[f"prob_{label}"] = pa.array(self.probs[:, j].astype(np.float64), pa.float64(),
                                                mask=mask)
            return out
        for j in range(self.k):
            out[f"top_{j + 1}_label"] = pa.array(self._names[self.top[:, j]].tolist(), pa.string(),
                                                 mask=mask)
            out[f"top_{j + 1}_prob"] = pa.array(self.top_probs[:, j].astype(np.float64),
                                                pa.float64(), mask=mask)
        return out

    def note(self) -> str:
        """What the user is told when the top few were written on their own account."""
        return (f"The model has {len(self.labels):,} labels: each row's {self.k} most probable "
                f"are written (top_1_label, top_1_prob, ... top_{self.k}_prob), not a column per "
                "label.")
