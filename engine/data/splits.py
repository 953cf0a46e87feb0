"""Seeded, stratified train/validation/test splits, and train/test leakage detection.

Each class is shuffled with its own seeded generator and cut by the fractions, so every class
keeps its share in every split and the same labels and seed always give the same split.
"""
from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import InputError


@dataclass(frozen=True)
class Splits:
    """Row indices (0-based, sorted) into the dataset the labels came from."""

    train: list[int]
    validation: list[int]
    test: list[int]

    def label_counts(self, labels: Sequence[str]) -> dict[str, dict[str, int]]:
        """``{"train": {label: n}, "validation": {...}, "test": {...}}``, labels sorted."""
        out: dict[str, dict[str, int]] = {}
        for name, rows in (("train", self.train), ("validation", self.validation), ("test", self.test)):
            counts = Counter(labels[i] for i in rows)
            out[name] = dict(sorted(counts.items()))
        return out

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def _check_fractions(train: float, validation: float, test: float) -> None:
    for name, value in (("train", train), ("validation", validation), ("test", test)):
        if not (0.0 <= value <= 1.0) or math.isnan(value):
            raise InputError(f"the {name} fraction must be between 0 and 1, not {value}.")
    if train <= 0:
        raise InputError("the train fraction must be above 0: the model needs rows to learn from.")
    if not math.isclose(train + validation + test, 1.0, abs_tol=1e-6):
        raise InputError(
            f"the split fractions must add up to 1 (train {train} + validation {validation} + "
            f"test {test} = {train + validation + test:g}); e.g. 0.8, 0.1, 0.1."
        )


def _cut(n: int, validation: float, test: float) -> tuple[int, int]:
    """How many of a class's n rows go to validation and test.

    Rounded per class; a class with at least 3 rows gets at least one row in each non-empty
    held-out split (so it is evaluated at all), and training always keeps at least one row.
    """
    n_test = round(n * test)
    n_val = round(n * validation)
    if n >= 3:
        n_test = max(n_test, 1) if test > 0 else 0
        n_val = max(n_val, 1) if validation > 0 else 0
    while n_test + n_val > n - 1 and (n_test or n_val):
        if n_val >= n_test and n_val:
            n_val -= 1
        else:
            n_test -= 1
    return n_val, n_test


def split_indices(
    labels: Sequence[str],
    *,
    train: float = 0.8,
    validation: float = 0.1,
    test: float = 0.1,
    seed: int = 13,
) -> Splits:
    """Stratified split of row indices by label. Set ``test=0`` when the user gives a test file
    (and ``validation=0`` with a validation file); those splits are then empty."""
    _check_fractions(train, validation, test)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    out_train: list[int] = []
    out_val: list[int] = []
    out_test: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        # A generator per class, seeded by the seed and the label: adding a class elsewhere
        # does not reshuffle this one.
        random.Random(f"{seed}\x00{label}").shuffle(rows)
        n_val, n_test = _cut(len(rows), validation, test)
        out_test += rows[:n_test]
        out_val += rows[n_test : n_test + n_val]
        out_train += rows[n_test + n_val :]
    return Splits(train=sorted(out_train), validation=sorted(out_val), test=sorted(out_test))


def multi_label_strata(labels: Sequence[str], delimiter: str) -> list[str]:
    """A stratum per row of multi-label data: the row's rarest label (counted over every row;
    ties by name), so each label keeps its share in every split. Stratified on the label
    strings themselves, "a|b" and "b|a" were two classes, and every combination of one or two
    rows (most of those with several labels) went to training whole: the test split held the
    common, simple rows and overstated the scores. A row with no label is its own stratum."""
    sets = [sorted({part.strip() for part in str(label).split(delimiter)} - {""}) for label in labels]
    counts = Counter(part for labels_of_row in sets for part in labels_of_row)
    return [min(row, key=lambda part: (counts[part], part)) if row else "" for row in sets]


def split_by_group(
    labels: Sequence[str],
    groups: Sequence[str],
    *,
    train: float = 0.8,
    validation: float = 0.1,
    test: float = 0.1,
    seed: int = 13,
) -> Splits:
    """``split_indices`` over groups (the people rows are about), so that all of a group's rows
    land in one split: a test row's person was never seen in training. Each group is stratified
    by its most frequent label (ties: the first in sorted order)."""
    members: dict[str, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[str(group)].append(index)
    names = sorted(members)
    strata = []
    for name in names:
        counts = Counter(labels[i] for i in members[name])
        strata.append(min(counts, key=lambda label: (-counts[label], label)))
    by_group = split_indices(strata, train=train, validation=validation, test=test, seed=seed)

    def rows(picked: list[int]) -> list[int]:
        return sorted(i for g in picked for i in members[names[g]])

    return Splits(train=rows(by_group.train), validation=rows(by_group.validation),
                  test=rows(by_group.test))


def normalize_text(text: str) -> str:
    """Case, Unicode form and whitespace folded: leaks hide behind trivial differences."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def find_leakage(train_texts: Sequence[str], other_texts: Sequence[str]) -> list[int]:
    """Indices into ``other_texts`` (a test or validation set) whose text also appears in train.

    Texts are compared after ``normalize_text``; blank texts are never counted as leaks.
    """
    seen = {normalize_text(t) for t in train_texts}
    seen.discard("")
    return [i for i, text in enumerate(other_texts) if (key := normalize_text(text)) and key in seen]
