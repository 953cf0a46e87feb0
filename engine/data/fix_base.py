"""What every one-step fix is built on (``engine.data.fixes``): the step it reports, the
report of a run of fixes, the refusal, and the counts a fix judges classes by."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.columns import ColumnMapping, complete_rows, label_array, text_array
from engine.errors import InputError


class FixRefused(InputError):
    """A fix that would leave an unusable dataset, or that names something that is not there."""


@dataclass(frozen=True)
class FixStep:
    """What one fix did; kept (as ``as_dict``) in the dataset's history. Names labels, never text."""

    kind: str
    description: str
    rows_removed: int = 0
    rows_changed: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description,
                "rows_removed": self.rows_removed, "rows_changed": self.rows_changed,
                **({"details": self.details} if self.details else {})}


@dataclass(frozen=True)
class FixReport:
    rows_before: int
    rows_after: int
    classes_before: int
    classes_after: int
    steps: tuple[FixStep, ...]

    @property
    def rows_removed(self) -> int:
        return self.rows_before - self.rows_after

    def history(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]

    def lines(self) -> list[str]:
        return [s.description for s in self.steps]


class Fix:
    """A one-step change to the table. ``order`` places it among the others (lower first)."""

    kind: ClassVar[str] = ""
    order: ClassVar[int] = 0
    needs_labels: ClassVar[bool] = False

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        raise NotImplementedError


def usable_rows(table: pa.Table, mapping: ColumnMapping) -> np.ndarray:
    texts = text_array(table, mapping)
    if mapping.label_column is None:
        mask = pc.not_equal(pc.utf8_trim_whitespace(texts), "")
    else:
        mask = complete_rows(texts, label_array(table, mapping))
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def keep_rows(table: pa.Table, keep: np.ndarray) -> pa.Table:
    return table.filter(pa.array(keep))


def usable_classes(table: pa.Table, mapping: ColumnMapping) -> dict[str, int]:
    """Usable rows per class, as validation counts them (rows with an empty text don't count)."""
    if mapping.label_column is None:
        return {}
    counted = pc.value_counts(label_array(table, mapping).filter(pa.array(usable_rows(table, mapping))))
    pairs = zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist())
    return {str(v): int(c) for v, c in pairs if v}
