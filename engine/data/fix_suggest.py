"""Which one-step fixes a validation report calls for, and what each would do to the table.

The Datasets page shows one "Fix" button per problem group; ``suggest_fixes`` gives it the
fixes (``engine.data.fixes``) for the problem codes present, each previewed on the table in
memory — the rows it would remove or relabel, or why it would be refused — so the button can
say so before it is pressed. Runs on a worker thread (a preview is one pass over the table).
"""
from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from engine.data.columns import ColumnMapping
from engine.data.fixes import (
    NEW_CLASS,
    CapLength,
    DropClasses,
    DropDuplicates,
    DropIncomplete,
    Fix,
    FixRefused,
    MergeLabelVariants,
    RepairEncoding,
    ResolveConflicts,
    SmallClasses,
    WHOLE_ROW_KINDS,
    StripMarkup,
    apply_fixes,
)
from engine.data.fix_hints import fix_for
from engine.data.markup import rows_with_markup
from engine.data.problems import Problem

# (problem codes, button text, fix) in the order the page lists them.
_CANDIDATES: tuple[tuple[frozenset[str], str, Fix], ...] = (
    (frozenset({"empty-text", "missing-label"}), "Drop rows with empty text or no label",
     DropIncomplete()),
    (frozenset({"label-variants"}), "Merge labels that differ only in how they are written",
     MergeLabelVariants()),
    (frozenset({"conflicting-labels"}), "Keep each text's majority label",
     ResolveConflicts("majority")),
    (frozenset({"conflicting-labels"}), "Drop texts with conflicting labels",
     ResolveConflicts("drop")),
    (frozenset({"duplicate-row"}), "Drop repeated rows", DropDuplicates()),
    (frozenset({"class-too-small"}), f"Merge classes under 2 rows into {NEW_CLASS!r}",
     SmallClasses(2, NEW_CLASS)),
    (frozenset({"class-too-small"}), "Drop classes under 2 rows", SmallClasses(2)),
    (frozenset({"class-small"}), f"Merge classes under 10 rows into {NEW_CLASS!r}",
     SmallClasses(10, NEW_CLASS)),
    (frozenset({"text-too-long"}), "Cut texts at 512 tokens", CapLength(512)),
    (frozenset({"markup-in-text"}), "Remove web markup from the texts", StripMarkup()),
    (frozenset({"mojibake-in-text", "mojibake-in-label"}), "Repair text encoded twice ('Ã©' back to 'é')",
     RepairEncoding()),
)


@dataclass(frozen=True)
class FixOption:
    label: str
    fix: Fix
    codes: frozenset[str]
    rows_removed: int = 0
    rows_changed: int = 0
    refused: str = ""  # why it cannot be applied; empty when it can
    blocking: bool = False  # it resolves an error (not only warnings)

    def summary(self) -> str:
        if self.refused:
            return f"{self.label} — not possible: {self.refused}"
        parts = []
        if self.rows_removed:
            parts.append(f"removes {self.rows_removed:,} row{'s' * (self.rows_removed != 1)}")
        if self.rows_changed:
            parts.append(f"changes {self.rows_changed:,} row{'s' * (self.rows_changed != 1)}")
        return f"{self.label} ({', '.join(parts) or 'changes nothing'})"


def suggest_fixes(table: pa.Table, mapping: ColumnMapping, problems: Iterable[Problem], *,
                  label_delimiter: str | None = None) -> list[FixOption]:
    """One previewed option per fix that resolves a problem in ``problems``. With
    ``label_delimiter`` (several labels a row) none that drops or relabels whole rows by class
    is offered, and label spellings are merged label by label."""
    problems = list(problems)
    # A problem whose own fix is another one (a tiny class that is another spelling of a label,
    # or a placeholder) does not call for the fixes of its code: merging 'billing' into 'other'
    # would be wrong. The per-label options below cover those.
    present = {p.code for p in problems
               if not (p.code in ("class-too-small", "class-small") and p.fix.startswith(_OWN_FIXES))}
    blocking = {p.code for p in problems if p.blocking}
    # An error can name another code's fix (a tiny class that is another spelling of a label).
    blocking_flags = {p.fix for p in problems if p.blocking and p.fix}
    options = []
    for codes, label, fix, flag in [*((c, t, f, _flag(c)) for c, t, f in _CANDIDATES), *_per_label(problems)]:
        if not codes & present:
            continue
        if label_delimiter:
            if fix.kind in WHOLE_ROW_KINDS:
                continue
            if isinstance(fix, MergeLabelVariants):
                fix = MergeLabelVariants(label_delimiter)
            if isinstance(fix, DropDuplicates):  # 'a|b' repeats 'b|a'
                fix = DropDuplicates(label_delimiter)
        resolves_error = bool(codes & blocking) or flag in blocking_flags
        if isinstance(fix, StripMarkup):
            # Counted, not applied: cleaning is a Python pass over the rows with markup (seconds
            # for a million), and the page previews again at every change of column or fix.
            options.append(FixOption(label, fix, codes, rows_changed=rows_with_markup(table, mapping.text_columns),
                                     blocking=resolves_error))
            continue
        try:
            _, report = apply_fixes(table, mapping, [fix])
        except FixRefused as exc:
            options.append(FixOption(label, fix, codes, refused=str(exc), blocking=resolves_error))
            continue
        step = report.steps[0]
        options.append(FixOption(label, fix, codes, step.rows_removed, step.rows_changed,
                                 blocking=resolves_error))
    return options


# Fixes that a small class gets instead of its code's when it is a spelling or a placeholder.
_OWN_FIXES = ("--merge-label-variants", "--drop-class ")


def _flag(codes: frozenset[str]) -> str | None:
    hints = [hint.flag for code in codes if (hint := fix_for(code)) is not None]
    return hints[0] if hints else None


def _per_label(problems: list[Problem]) -> list[tuple[frozenset[str], str, Fix, str]]:
    """A "drop the rows labelled X" option for each placeholder label ('N/A') validation named;
    the label is read back from the problem's own flag (``--drop-class 'N/A'``)."""
    out: list[tuple[frozenset[str], str, Fix, str]] = []
    for p in problems:
        if p.code == "placeholder-label" and p.fix.startswith("--drop-class "):
            label = shlex.split(p.fix)[1]
            out.append((frozenset({p.code}), f"Drop the rows labelled {label!r}",
                        DropClasses((label,)), p.fix))
    return out

