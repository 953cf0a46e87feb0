"""One-step fixes for the problems ``validation`` reports, applied in memory before storing.

A user with a messy export must never be sent to edit the file by hand outside the vault: each
blocking problem kind has a ``Fix`` here, applied to the imported Arrow table in memory (the
source file is never touched), and each applied fix is described by a ``FixStep`` that the store
keeps in the dataset's history and the audit log.

``apply_fixes(table, mapping, fixes)`` runs the fixes in a fixed order whatever order they are
given in (strip web markup, drop incomplete rows, merge spellings of a label, resolve conflicts,
drop duplicates, cap long texts, then the small classes, so that class counts are final when
they are judged, and only texts that repeat as read count as repeats),
and refuses — raising ``FixRefused``, changing nothing — a result with no rows or fewer than two
classes, or a merge into a class that does not exist. ``engine.data.fix_hints`` says which fix
resolves which problem code, so reports can print the command-line flag under each problem.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data import arrow_strings as strings
from engine.data.columns import ColumnMapping, label_array, text_array
# The base of every fix, named here as well: callers import the fixes and their report from here.
from engine.data.fix_base import (  # noqa: F401
    Fix, FixRefused, FixReport, FixStep, keep_rows as _keep, usable_classes as _classes,
    usable_rows as _usable,
)
from engine.data.labels import label_counts, label_variants, once_a_row, spelling_key, split_labels
from engine.data.markup import strip_columns
from engine.units import count_of

# The one class name a merge may create; any other target must already be a class.
NEW_CLASS = "other"
# Validation's blocking threshold (validation.MIN_EXAMPLES_ERROR): fewer rows than this and a
# class cannot appear in both training and test. Repeated here: validation sits above us.
DEFAULT_MIN_CLASS_SIZE = 2
TOKENS_PER_WORD = 1.3  # the same rough WordPiece ratio validation estimates lengths with


@dataclass(frozen=True)
class StripMarkup(Fix):
    """HTML tags and entities in the texts ("markup-in-text"): entities decoded, tags removed
    (``engine.data.markup``). First, so that a text that was only markup counts as empty and
    cleaned texts are the ones compared for repeats and measured for length."""

    kind: ClassVar[str] = "strip-markup"
    order: ClassVar[int] = 5

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        table, count = strip_columns(table, mapping.text_columns)
        return table, FixStep(self.kind, f"removed web markup (HTML tags, entities such as &amp;) "
                              f"from {count:,} text{'s' * (count != 1)}", rows_changed=count)


@dataclass(frozen=True)
class RepairEncoding(Fix):
    """Texts and labels encoded twice ("mojibake-in-text": "RÃ©clamation" for "Réclamation"),
    decoded back (``engine.data.mojibake``). First of all: the repaired texts and labels are
    the ones every other fix compares and counts."""

    kind: ClassVar[str] = "repair-encoding"
    order: ClassVar[int] = 4

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        from engine.data.mojibake import repair_columns

        columns = [*mapping.text_columns, *([mapping.label_column] if mapping.label_column else [])]
        table, count = repair_columns(table, columns)
        return table, FixStep(self.kind, f"repaired text encoded twice ('Ã©' back to 'é') in "
                              f"{count_of(count, 'row')}", rows_changed=count)


@dataclass(frozen=True)
class DropIncomplete(Fix):
    """Rows with an empty text or no label (problems "empty-text", "missing-label")."""

    kind: ClassVar[str] = "drop-empty"
    order: ClassVar[int] = 10

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        keep = _usable(table, mapping)
        removed = int((~keep).sum())
        return _keep(table, keep), FixStep(
            self.kind, f"dropped {count_of(removed, 'row')} with an empty text or no label", removed)


@dataclass(frozen=True)
class DropBlankIn(Fix):
    """Rows with no value in ``column``, such as the person column DP per person groups by
    (every row must say whose it is there)."""

    column: str = ""
    kind: ClassVar[str] = "drop-blank"
    order: ClassVar[int] = 11

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        from engine.data.columns import person_values

        if self.column not in table.column_names:
            raise FixRefused(f"--drop-blank {self.column}: there is no such column; the columns "
                             f"are {', '.join(table.column_names)}")
        keep = np.asarray(pc.not_equal(person_values(table, self.column), "").to_numpy(
            zero_copy_only=False), dtype=bool)
        removed = int((~keep).sum())
        return _keep(table, keep), FixStep(
            self.kind, f"dropped {count_of(removed, 'row')} with no value in column '{self.column}'", removed)


@dataclass(frozen=True)
class CapLength(Fix):
    """Texts longer than about ``max_tokens`` tokens are cut to that length (word boundaries).

    Training cuts long texts unless it reads them in windows (``--long-texts windows``, which
    this fix would starve); capping keeps what is stored to what a cut run uses. The count is
    estimated from words, as validation's length check does without a tokenizer. After conflicts
    and repeats: two different letters that share their first 64 tokens are not repeats of each
    other, and dropping one as "repeating an earlier row" would lose a row the file had once.
    """

    max_tokens: int = 512
    kind: ClassVar[str] = "cap-long"
    order: ClassVar[int] = 45

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        if self.max_tokens < 8:
            raise FixRefused(f"cannot cap texts at {self.max_tokens} tokens: use 8 or more")
        words = max(1, int(self.max_tokens / TOKENS_PER_WORD))
        changed = np.zeros(table.num_rows, dtype=bool)
        for name in mapping.text_columns:
            column = table.column(name)
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                continue  # numbers or dates are never long
            parts = pc.utf8_split_whitespace(pc.fill_null(column, ""), max_splits=words)
            long = np.asarray(pc.greater(pc.list_value_length(parts), words)
                              .to_numpy(zero_copy_only=False), dtype=bool)
            if not long.any():
                continue
            cut = pc.binary_join(pc.list_slice(parts, 0, words), " ")
            capped = pc.if_else(pa.array(long), cut, column)
            table = table.set_column(table.column_names.index(name), name, capped)
            changed |= long
        count = int(changed.sum())
        return table, FixStep(self.kind, f"cut {count_of(count, 'text')} longer than about "
                              f"{self.max_tokens} tokens to that length", rows_changed=count,
                              details={"max_tokens": self.max_tokens})


@dataclass(frozen=True)
class MergeLabelVariants(Fix):
    """Labels that differ only in case, spaces or how a number is written ("label-variants":
    'Positive', 'positive '; '1', '1.0') become one class, spelled as the most frequent.

    With ``label_delimiter`` (several labels a row: 'Billing;tech ') each label of a row is
    respelled on its own, and the row keeps its other labels: unlike the fixes that drop or
    relabel whole rows by class, this one is right for multi-label data."""

    label_delimiter: str | None = None
    kind: ClassVar[str] = "merge-label-variants"
    order: ClassVar[int] = 25  # before conflicts and repeats: 'Good'/'good' rows then agree
    needs_labels: ClassVar[bool] = True

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        assert mapping.label_column is not None
        if self.label_delimiter:
            return self._apply_per_label(table, mapping, self.label_delimiter)
        labels = label_array(table, mapping)
        counted = pc.value_counts(labels)
        every = {str(v): int(c) for v, c in zip(counted.field("values").to_pylist(),
                                                counted.field("counts").to_pylist()) if v is not None}
        # Ranked by the rows validation counts (with a text), as its warning names the spelling;
        # a spelling found only on rows without a text is merged too.
        usable = _classes(table, mapping)
        groups = label_variants({label: usable.get(label, 0) for label in every}, every)
        counts = every
        into = {variant: group[0] for group in groups for variant in group[1:]}
        if not into:
            return table, FixStep(self.kind, "no labels differ only in how they are written: nothing "
                                  "merged")
        index = pc.index_in(labels, value_set=pa.array(list(into), pa.string()))
        hit = pc.is_valid(index)
        spelled = pc.take(pa.array(list(into.values()), pa.string()), index)
        column = pc.if_else(hit, spelled, labels)
        table = table.set_column(table.column_names.index(mapping.label_column),
                                 mapping.label_column, column)
        count = sum(counts[v] for v in into)
        return table, FixStep(
            self.kind, f"merged {count_of(len(into), 'other spelling')} (case, spaces, accents, hidden "
            f"characters or number format) into {_merged_into(groups)}; "
            f"{count:,} row{'s' * (count != 1)} relabelled)",
            rows_changed=count,
            details={"merged": {g[0]: g[1:] for g in groups}})

    def _apply_per_label(self, table: pa.Table, mapping: ColumnMapping,
                         delimiter: str) -> tuple[pa.Table, FixStep]:
        """Arrow compute throughout, as the whole-cell merge: the page previews this fix at
        every change of column, and a Python pass over a million rows took seconds."""
        assert mapping.label_column is not None
        column = label_array(table, mapping)
        cells = (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).cast(pa.string())
        every = label_counts(cells, label_delimiter=delimiter)  # each label once a row
        usable = label_counts(cells.filter(pa.array(_usable(table, mapping))), label_delimiter=delimiter)
        groups = label_variants({label: usable.get(label, 0) for label in every}, every)
        into = {variant: group[0] for group in groups for variant in group[1:]}
        if not into:
            return table, FixStep(self.kind, "no labels differ only in how they are written: nothing "
                                  "merged")
        parts, rows = split_labels(cells, delimiter)
        index = pc.index_in(parts, value_set=pa.array(list(into), pa.string()))
        hit = np.asarray(pc.is_valid(index).to_numpy(zero_copy_only=False), dtype=bool)
        respelled = pc.if_else(pc.is_valid(index),
                               pc.take(pa.array(list(into.values()), pa.string()), index), parts)
        # Only rows with a label respelled are rebuilt; the others keep their cell as written.
        changed = np.zeros(len(cells), dtype=bool)
        changed[rows[hit]] = True
        mine = changed[rows]
        respelled, rows = respelled.filter(pa.array(mine)), rows[mine]
        # 'refund;TECH;tech' holds one label twice once respelled: each (row, label) once.
        respelled, rows = once_a_row(respelled, rows)
        per_row = np.bincount(rows, minlength=len(cells))[np.flatnonzero(changed)]
        offsets = pa.array(np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32))
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, respelled), delimiter)
        out = pc.replace_with_mask(cells, pa.array(changed), joined)
        table = table.set_column(table.column_names.index(mapping.label_column),
                                 mapping.label_column, out)
        changed_rows = int(changed.sum())
        return table, FixStep(
            self.kind, f"merged {count_of(len(into), 'other spelling')} of a label into {_merged_into(groups)}; "
            f"each row's other labels kept; {count_of(changed_rows, 'row')} relabelled)",
            rows_changed=changed_rows,
            details={"merged": {g[0]: g[1:] for g in groups}, "label_delimiter": delimiter})


def _merged_into(groups: list[list[str]]) -> str:
    """'2 labels ('billing' -> 'Billing'; 'TECH' -> 'tech'' and the groups past three counted:
    the step's words up to the rows it relabelled."""
    shown = "; ".join(f"{', '.join(repr(v) for v in g[1:])} -> {g[0]!r}" for g in groups[:3])
    more = f"; and {len(groups) - 3} more" if len(groups) > 3 else ""
    return f"{len(groups)} label{'s' * (len(groups) != 1)} ({shown}{more}"


@dataclass(frozen=True)
class ResolveConflicts(Fix):
    """The same text under different labels ("conflicting-labels").

    ``drop``: every row of such a text goes. ``majority``: the rows with the text's most frequent
    label stay and the others go; a tie has no majority, so all its rows go.
    """

    mode: Literal["drop", "majority"] = "drop"
    kind: ClassVar[str] = "resolve-conflicts"
    order: ClassVar[int] = 30
    needs_labels: ClassVar[bool] = True

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        if self.mode not in ("drop", "majority"):
            raise FixRefused(f"conflicting labels are resolved by 'drop' or 'majority', not {self.mode!r}")
        usable = _usable(table, mapping)
        text_ids = strings.codes(text_array(table, mapping))
        label_ids = strings.codes(label_array(table, mapping))
        rows = np.flatnonzero(usable)
        t, lab = text_ids[rows], label_ids[rows]
        # (text, label) pairs among usable rows, and how many distinct labels each text has.
        pairs, pair_of_row, pair_rows = np.unique(t * (int(label_ids.max(initial=0)) + 1) + lab,
                                                  return_inverse=True, return_counts=True)
        pair_text = pairs // (int(label_ids.max(initial=0)) + 1)
        labels_per_text = np.bincount(pair_text, minlength=int(text_ids.max(initial=0)) + 1)
        conflicted = labels_per_text[t] > 1
        drop = conflicted.copy()
        if self.mode == "majority" and conflicted.any():
            # The most rows any label of the text has, and how many labels reach it.
            best = np.zeros(len(labels_per_text), dtype=np.int64)
            np.maximum.at(best, pair_text, pair_rows)
            reach = np.bincount(pair_text, weights=(pair_rows == best[pair_text]),
                                minlength=len(labels_per_text))
            winner = (pair_rows[pair_of_row] == best[t]) & (reach[t] == 1)
            drop &= ~winner
        keep = np.ones(table.num_rows, dtype=bool)
        keep[rows[drop]] = False
        removed = int(drop.sum())
        texts = int(len(np.unique(t[conflicted])))
        how = ("kept each text's most frequent label (ties dropped)" if self.mode == "majority"
               else "dropped every row of those texts")
        return _keep(table, keep), FixStep(
            self.kind, f"resolved {count_of(texts, 'text')} with conflicting labels: {how}; "
            f"{count_of(removed, 'row')} dropped", removed, details={"mode": self.mode, "texts": texts})


@dataclass(frozen=True)
class DropDuplicates(Fix):
    """Rows that repeat an earlier row's text and label exactly ("duplicate-row"); the first stays.
    ``label_delimiter``: several labels a row, in any order ('a|b' repeats 'b|a')."""

    label_delimiter: str | None = None
    kind: ClassVar[str] = "drop-duplicates"
    order: ClassVar[int] = 40

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        usable = _usable(table, mapping)
        key = strings.codes(text_array(table, mapping))
        if mapping.label_column is not None:
            cells = label_array(table, mapping)
            labels = (strings.LabelCodes.of(cells).as_label_sets(self.label_delimiter).ids
                      .astype(np.int64) if self.label_delimiter else strings.codes(cells))
            key = key * (int(labels.max(initial=0)) + 1) + labels
        rows = np.flatnonzero(usable)
        _, first = np.unique(key[rows], return_index=True)
        keep = ~usable
        keep[rows[first]] = True
        removed = int((~keep).sum())
        return _keep(table, keep), FixStep(
            self.kind, f"dropped {count_of(removed, 'row')} repeating an earlier row", removed)


@dataclass(frozen=True)
class DropClasses(Fix):
    """Every row of the named classes: a placeholder such as 'N/A' or '#N/A' that marks rows
    nobody labelled ("placeholder-label"), or a class the user does not want to train."""

    labels: tuple[str, ...] = ()
    kind: ClassVar[str] = "drop-classes"
    order: ClassVar[int] = 24  # before spellings merge: 'N/A' and 'n/a' are each named as read
    needs_labels: ClassVar[bool] = True

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        counts = _classes(table, mapping)
        unknown = [label for label in self.labels if label not in counts]
        if unknown:
            known = ", ".join(repr(c) for c in sorted(counts)[:10])
            raise FixRefused(f"--drop-class {unknown[0]!r}: no such class (the classes are "
                             f"{known}{' and more' if len(counts) > 10 else ''}); labels are matched "
                             "exactly, case included")
        hit = np.asarray(pc.is_in(label_array(table, mapping), pa.array(list(self.labels), pa.string()))
                         .to_numpy(zero_copy_only=False), dtype=bool)
        count = int(hit.sum())
        return _keep(table, ~hit), FixStep(
            self.kind, f"dropped the {count:,} row{'s' * (count != 1)} labelled "
            f"{', '.join(repr(label) for label in self.labels)}", rows_removed=count,
            details={"classes": list(self.labels)})


@dataclass(frozen=True)
class SmallClasses(Fix):
    """Classes with fewer than ``min_size`` rows ("class-too-small", "class-small").

    ``merge_into=None`` drops their rows; otherwise they are relabelled ``merge_into``, which must
    be an existing class or ``NEW_CLASS`` ("other"). The merge target itself is never merged.
    """

    min_size: int = DEFAULT_MIN_CLASS_SIZE
    merge_into: str | None = None
    kind: ClassVar[str] = "small-classes"
    order: ClassVar[int] = 50
    needs_labels: ClassVar[bool] = True

    def apply(self, table: pa.Table, mapping: ColumnMapping) -> tuple[pa.Table, FixStep]:
        if self.min_size < 2:
            raise FixRefused(f"a minimum class size of {self.min_size} changes nothing: use 2 or more")
        assert mapping.label_column is not None
        counts = _classes(table, mapping)
        target = self.merge_into.strip() if self.merge_into is not None else None
        if target == NEW_CLASS and target not in counts:
            # A class already written 'Other' (or 'OTHER') is the one meant: merged into, not
            # beside it as a second class that only the spelling tells apart.
            same = sorted((c for c in counts if spelling_key(c) == spelling_key(NEW_CLASS)),
                          key=lambda c: (-counts[c], c))
            target = same[0] if same else target
        if target is not None and target not in counts and target != NEW_CLASS:
            known = ", ".join(repr(c) for c in sorted(counts)[:10])
            more = f" and {len(counts) - 10} more" if len(counts) > 10 else ""
            raise FixRefused(f"cannot merge small classes into {target!r}: it is not a class of "
                             f"this dataset (the classes are {known}{more}); name one of them, or "
                             f"merge into {NEW_CLASS!r}")
        small = sorted(c for c, n in counts.items() if n < self.min_size and c != target)
        labels = label_array(table, mapping)
        hit = np.asarray(pc.is_in(labels, pa.array(small, pa.string())).to_numpy(zero_copy_only=False),
                         dtype=bool) if small else np.zeros(table.num_rows, dtype=bool)
        count = int(hit.sum())
        details = {"min_size": self.min_size, "classes": small}
        if target is None:
            return _keep(table, ~hit), FixStep(
                self.kind, f"dropped {count_of(len(small), 'class')} with fewer than {self.min_size} rows "
                f"({count_of(count, 'row')})", rows_removed=count, details=details)
        asked_other = self.merge_into is not None and self.merge_into.strip() == NEW_CLASS
        total = counts.get(target, 0) + count  # 'Other' of the file's own, when it had one
        if asked_other and total < DEFAULT_MIN_CLASS_SIZE:
            raise FixRefused(f"merging {count} row{'s' * (count != 1)} into {target!r} would make "
                             f"{target!r} a class of {total} row{'s' * (total != 1)}, still too small "
                             "to train; drop the small classes instead (the fix that drops "
                             "them; --drop-small on the command line)")
        column = pc.if_else(pa.array(hit), pa.scalar(target), labels)
        table = table.set_column(table.column_names.index(mapping.label_column),
                                 mapping.label_column, column)
        return table, FixStep(
            self.kind, f"merged {count_of(len(small), 'class')} with fewer than {self.min_size} rows "
            f"({count_of(count, 'row')}) into {target!r}", rows_changed=count,
            details={**details, "into": target})


def apply_fixes(table: pa.Table, mapping: ColumnMapping,
                fixes: Sequence[Fix]) -> tuple[pa.Table, FixReport]:
    """The table with ``fixes`` applied, and what each did. Pure: nothing is written anywhere.

    Raises ``FixRefused`` (and returns nothing) when the result would be empty or have fewer
    than two classes, or when a fix needs a label column the mapping does not have.
    """
    kinds = [f.kind for f in fixes]
    repeated = {k for k in kinds if kinds.count(k) > 1}
    if repeated:
        raise FixRefused(f"the fix {sorted(repeated)[0]!r} is given twice; give it once")
    before_rows, before_classes = table.num_rows, len(_classes(table, mapping))
    steps = []
    for fix in sorted(fixes, key=lambda f: f.order):
        if fix.needs_labels and mapping.label_column is None:
            raise FixRefused(f"the fix {fix.kind!r} needs a label column; choose one first")
        table, step = fix.apply(table, mapping)
        steps.append(step)
    classes = _classes(table, mapping)
    if table.num_rows == 0 or not _usable(table, mapping).any():
        raise FixRefused("refused: these fixes would leave no usable rows at all; nothing was "
                         "changed. Choose other fixes or check the column choice")
    if mapping.label_column is not None and len(classes) < 2 and before_classes >= 2:
        left = f" ({next(iter(classes))!r})" if classes else ""
        raise FixRefused(f"refused: these fixes would leave fewer than two classes{left}, and a "
                         "classifier needs at least two; nothing was changed. "
                         + _fewer_classes_advice(fixes))
    return table, FixReport(before_rows, table.num_rows, before_classes, len(classes), tuple(steps))


def _fewer_classes_advice(fixes: Sequence[Fix]) -> str:
    advice = []
    if any(isinstance(f, DropClasses) for f in fixes):
        advice.append("drop fewer classes")
    small = [f for f in fixes if isinstance(f, SmallClasses)]
    if any(f.merge_into is not None for f in small):
        advice.append("lower the minimum class size (at this size the small classes and the one "
                      "they merge into make fewer than two classes)")
    elif small:
        advice.append("lower the minimum class size or merge the small classes instead of "
                      "dropping them")
    return ("Fix it: " + "; or ".join(advice) + ".") if advice else \
        "Check the label column: most rows may be missing a label."


# Fixes that drop or relabel whole rows by class: wrong for multi-label rows ('billing|urgent').
# They are the fixes that read the labels (``needs_labels``).
BY_CLASS_KINDS = frozenset(f.kind for f in Fix.__subclasses__() if f.needs_labels)
# Of those, the ones that drop or relabel whole rows: wrong for multi-label data, where a row's
# other labels would go with them. Label spellings are merged label by label there.
WHOLE_ROW_KINDS = BY_CLASS_KINDS - {MergeLabelVariants.kind}


def fixes_from_options(*, drop_empty: bool = False, drop_duplicates: bool = False,
                       resolve_conflicts: str | None = None, min_class_size: int | None = None,
                       merge_small_into: str | None = None, drop_small: bool = False,
                       cap_long: int | None = None, drop_blank: str | None = None,
                       merge_label_variants: bool = False,
                       drop_classes: Sequence[str] = (), strip_markup: bool = False,
                       repair_encoding: bool = False,
                       label_delimiter: str | None = None) -> list[Fix]:
    """The fixes a front end's options ask for (``cloister import`` flags, the desktop's buttons).
    ``label_delimiter``: multi-label data, whose label spellings are merged label by label."""
    fixes: list[Fix] = [RepairEncoding()] if repair_encoding else []
    if strip_markup:
        fixes.append(StripMarkup())
    if drop_empty:
        fixes.append(DropIncomplete())
    if merge_label_variants:
        fixes.append(MergeLabelVariants(label_delimiter))
    if drop_blank is not None:
        fixes.append(DropBlankIn(drop_blank))
    if cap_long is not None:
        fixes.append(CapLength(cap_long))
    if resolve_conflicts is not None:
        fixes.append(ResolveConflicts(resolve_conflicts))  # type: ignore[arg-type]
    if drop_duplicates:
        fixes.append(DropDuplicates(label_delimiter))
    if drop_classes:
        fixes.append(DropClasses(tuple(dict.fromkeys(drop_classes))))
    if drop_small and merge_small_into is not None:
        raise FixRefused("small classes are either dropped (--drop-small) or merged "
                         "(--merge-small-into LABEL), not both; choose one")
    if min_class_size is not None and min_class_size < 2:
        raise FixRefused(f"--min-class-size {min_class_size} makes no class small (a class of one "
                         "row is already too small to split): use 2 or more, such as 10")
    if drop_small or merge_small_into is not None:
        fixes.append(SmallClasses(min_class_size or DEFAULT_MIN_CLASS_SIZE, merge_small_into))
    elif min_class_size is not None:
        raise FixRefused(f"--min-class-size {min_class_size} needs what to do with the smaller "
                         f"classes: --drop-small, or --merge-small-into {NEW_CLASS} (or a class name)")
    return fixes
