"""Scan a table's columns for personal data, and anonymize them under a policy.

Tables come in as ``{column: [cell, ...]}`` (the engine converts from and to Arrow), so this
module stays free of the engine and of any table library. A scan is an anonymization that
keeps the result to itself: both produce the same ``ScanReport``, so the share of text that
"would change" in a scan is exactly what an anonymization with that policy changes.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from privacy.errors import PrivacyError
from privacy.pii.columns import ColumnProposal, propose_columns
from privacy.pii.findings import Finding
from privacy.pii.operators import Context, apply, try_value
from privacy.pii.policy import Policy
from privacy.pii.pseudonym import Pseudonymizer
from privacy.pii.reversible import PseudonymMap

EXAMPLES_PER_TYPE = 3
PREFETCH_ROWS = 64  # rows whose texts the name model reads in one go (names = "model"/"both")


class EmptyDataset(PrivacyError):
    """Nothing to scan or anonymize."""

    exit_code = 2


def masked_example(value: str) -> str:
    """A found value with only the first letter of each word of 4+ letters left:
    "Maria Lopez" -> "M**** L****", "a@b.com" -> "*@*.***", "4929 5785" -> "**** ****".
    Enough to judge a finding, not to learn it."""
    def word(m: re.Match[str]) -> str:
        w = m.group()
        keep = w[0] if len(w) >= 4 and w[0].isalpha() else "*"
        return keep + "*" * (len(w) - 1)

    # Other signs ("+44 ...") are starred too: a space there read as if the value began with one.
    return re.sub(r"\w+", word, re.sub(r"[^\w \-.@/:()]", "*", value))


# Letters of scripts whose names, numbers and dates the rule-based detectors do not know.
_OTHER_SCRIPTS = re.compile("[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u1100-\u11ff"
                            "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
OTHER_SCRIPT_WARNING = 0.05


@dataclass
class ScanReport:
    rows: int = 0
    columns_scanned: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    by_column: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    chars_total: int = 0
    chars_changed: int = 0  # characters of the original text inside a finding that is not kept
    cells_changed: int = 0
    proposals: list[ColumnProposal] = field(default_factory=list)
    column_actions: dict[str, str] = field(default_factory=dict)
    other_script_chars: int = 0  # letters of scripts the detectors are not made for (CJK, Arabic...)
    filled_by_column: Counter[str] = field(default_factory=Counter)  # scanned cells with text
    changed_by_column: Counter[str] = field(default_factory=Counter)  # ... that the detectors changed
    # Per column the policy replaced or dropped: rows whose anonymized text still holds that
    # column's value as written ("Kundennummer CUST-008812" beside its pseudonym).
    values_left_in_text: Counter[str] = field(default_factory=Counter)
    # Per column whose rule could not read some of its cells (a date rule given "unknown"): how
    # many, the first rows holding one (numbered from 1, the header not counted) and their tag.
    unread_cells: Counter[str] = field(default_factory=Counter)
    unread_rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    unread_tags: dict[str, str] = field(default_factory=dict)

    def kept_as_written(self, column: str) -> int:
        """Cells of a scanned column that the detectors left unchanged: what a proposal for that
        column still leaves of its values (an identifier the detectors do not know)."""
        return self.filled_by_column[column] - self.changed_by_column[column]

    @property
    def share_changed(self) -> float:
        return self.chars_changed / self.chars_total if self.chars_total else 0.0

    @property
    def other_script_share(self) -> float:
        """Share of the scanned text in scripts the detectors are not made for: their names,
        phone numbers and dates are mostly missed, which the user must be told."""
        return self.other_script_chars / self.chars_total if self.chars_total else 0.0

    def coverage_warning(self) -> str | None:
        if self.other_script_share < OTHER_SCRIPT_WARNING:
            return None
        return (f"{self.other_script_share:.0%} of the scanned text is in scripts the detectors "
                "are not made for (Chinese, Japanese, Korean, Arabic, Hebrew, Thai, Indic): "
                "names, phone numbers, ID numbers and dates there are often missed. Check the "
                "preview, and drop or replace columns that hold such data")

    def unread_warning(self) -> str | None:
        """Which column rules met cells they could not read, by row: such a cell is tagged
        instead (never kept as written), which the user should know and may want to fix."""
        if not self.unread_cells:
            return None
        parts = []
        for column, count in self.unread_cells.items():
            rows = self.unread_rows[column]
            listed = ", ".join(f"{r:,}" for r in rows) + (", ..." if count > len(rows) else "")
            parts.append(f"column {column!r}: {count:,} cell{'s' * (count != 1)} "
                         f"(row{'s' * (len(rows) != 1)} {listed}) that "
                         f"{self.column_actions.get(column, 'its rule')} cannot read, tagged "
                         f"{self.unread_tags[column]}")
        return ("cells that their column's rule cannot read are tagged instead of kept: "
                + "; ".join(parts))

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "columns_scanned": self.columns_scanned,
            "findings": dict(self.counts.most_common()),
            "by_column": {c: dict(n.most_common()) for c, n in self.by_column.items()},
            "examples": {t: list(v) for t, v in self.examples.items()},
            "share_of_text_changed": round(self.share_changed, 6),
            "cells_changed": self.cells_changed,
            "proposed_identifier_columns": [
                {"column": p.column, "entity": p.entity, "action": p.action, "reason": p.reason}
                for p in self.proposals],
            "column_actions": self.column_actions,
            "other_script_share": round(self.other_script_share, 4),
            "coverage_warning": self.coverage_warning(),
            "unread_cells": {c: {"cells": n, "rows": list(self.unread_rows[c]),
                                 "tag": self.unread_tags[c]} for c, n in self.unread_cells.items()},
        }


@dataclass
class Result:
    columns: dict[str, list[Any]]
    report: ScanReport
    dropped: list[str]
    changed_spans: dict[tuple[str, int], list[tuple[int, int]]] = field(default_factory=dict)
    pseudonyms: PseudonymMap | None = None  # reversible pseudonyms only; None when none kept


def _scan_columns(columns: Mapping[str, Sequence[Any]], policy: Policy,
                  label_column: str | None) -> list[str]:
    if policy.scan_columns is not None:
        return list(policy.scan_columns)
    chosen = []
    for name, values in columns.items():
        if name == label_column or name in policy.columns:
            continue
        sample = [v for v in values[:200] if v is not None]
        if sample and all(isinstance(v, str) for v in sample):
            chosen.append(name)
    return chosen


def anonymize_columns(columns: Mapping[str, Sequence[Any]], policy: Policy,
                      pseudonymizer: Pseudonymizer | None, *, label_column: str | None = None,
                      keep_spans_for: int = 0, keep_mapping: bool = False,
                      progress: Callable[[int, int], None] | None = None) -> Result:
    """The anonymized columns (same order, dropped ones left out) and the report.

    ``keep_spans_for``: record the changed spans of the first N rows (the desktop preview).
    ``keep_mapping``: collect the pairs of the policy's ``reversible`` pseudonyms in
    ``Result.pseudonyms``; only for a result that is stored (a scan or preview keeps none).
    Raises EmptyDataset for a table without rows, PolicyError for a policy that names a column
    the table lacks: both before any work, so nothing is half-done.
    """
    names = list(columns)
    rows = len(columns[names[0]]) if names else 0
    if rows == 0:
        raise EmptyDataset("the data has no rows; there is nothing to scan or anonymize")
    policy.check_columns(names)
    scan = _scan_columns(columns, policy, label_column)
    report = ScanReport(rows=rows, columns_scanned=scan)
    report.proposals = propose_columns({c: columns[c] for c in names if c not in policy.columns
                                        and c != label_column})
    report.column_actions = {c: r.operator.action for c, r in policy.columns.items()}
    dropped = [c for c, r in policy.columns.items() if r.operator.action == "drop"]
    out: dict[str, list[Any]] = {c: list(columns[c]) for c in names if c not in dropped}
    pseudonyms = PseudonymMap() if keep_mapping and policy.reversible else None
    ctx = Context(pseudonymizer=pseudonymizer,
                  record=pseudonyms.record if pseudonyms is not None else None)
    shift_key = policy.date_shift_key
    spans: dict[tuple[str, int], list[tuple[int, int]]] = {}
    step = max(1, rows // 100)
    for row in range(rows):
        if row % PREFETCH_ROWS == 0:  # the name model reads a batch faster than cell by cell
            policy.prefetch(v for c in scan for v in columns[c][row:row + PREFETCH_ROWS]
                            if isinstance(v, str))
        ctx.person = None if shift_key is None or columns[shift_key][row] is None \
            else str(columns[shift_key][row])
        for column, rule in policy.columns.items():
            value = columns[column][row]
            # An empty cell names no one: replaced, every empty cell became one invented person
            # (and, as a DP person column, one person for all those rows).
            if rule.operator.action == "drop" or value is None or not str(value).strip():
                continue
            new, read = try_value(str(value), rule.entity, rule.operator, ctx)
            if not read:  # "unknown" under generalize_date: tagged, and said where
                _unread(report, column, row, new)
            out[column][row] = new
            report.cells_changed += new != str(value)
        for column in scan:
            value = columns[column][row]
            if not isinstance(value, str) or not value:
                continue
            report.chars_total += len(value)
            report.other_script_chars += len(_OTHER_SCRIPTS.findall(value))
            report.filled_by_column[column] += 1
            found = policy.find(value)
            if not found:
                continue
            _count(report, column, value, found, policy)
            new, changed = apply(value, found, policy.operators({f.type for f in found}), ctx)
            if new != value:
                out[column][row] = new
                report.cells_changed += 1
                report.changed_by_column[column] += 1
            if row < keep_spans_for:
                spans[(column, row)] = changed
        _values_left_in_text(columns, out, row, policy, scan, report)
        if progress is not None and (row % step == 0 or row == rows - 1):
            progress(row + 1, rows)
    return Result(columns=out, report=report, dropped=dropped, changed_spans=spans,
                  pseudonyms=pseudonyms)


UNREAD_ROWS_LISTED = 5  # rows named per column in the report; the count covers them all


def _unread(report: ScanReport, column: str, row: int, tag: str) -> None:
    report.unread_cells[column] += 1
    report.unread_tags[column] = tag
    if len(report.unread_rows[column]) < UNREAD_ROWS_LISTED:
        report.unread_rows[column].append(row + 1)


_MIN_VALUE_SEARCHED = 4  # shorter values ("12", "ab") are found inside words by chance


def _values_left_in_text(columns: Mapping[str, Sequence[Any]], out: Mapping[str, list[Any]],
                         row: int, policy: Policy, scan: Sequence[str], report: ScanReport) -> None:
    """Count, per column the policy replaces or drops, whether this row's anonymized texts still
    hold the column's value as written: the detectors do not know a customer number, and beside
    its pseudonym it links the two. Checked after the texts' own findings are replaced."""
    for column, rule in policy.columns.items():
        value = columns[column][row]
        if rule.operator.action == "keep" or value is None:
            continue
        value = str(value).strip()
        if len(value) < _MIN_VALUE_SEARCHED:
            continue
        holding = [text for c in scan if c != column and c in out
                   for text in (out[c][row],) if isinstance(text, str) and value in text]
        whole = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)") if holding else None
        if whole is not None and any(whole.search(text) for text in holding):  # not "Bill" in "Billing"
            report.values_left_in_text[column] += 1


def _count(report: ScanReport, column: str, value: str, found: list[Finding],
           policy: Policy) -> None:
    for f in found:
        report.counts[f.type] += 1
        report.by_column[column][f.type] += 1
        if policy.operator_for(f.type).action != "keep":
            report.chars_changed += f.length
        examples = report.examples[f.type]
        if len(examples) < EXAMPLES_PER_TYPE:
            example = masked_example(f.text(value))
            if example not in examples:
                examples.append(example)


def scan_columns(columns: Mapping[str, Sequence[Any]], policy: Policy | None = None, *,
                 label_column: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> ScanReport:
    """The report alone; without a policy every finding counts as changed (tagged)."""
    policy = policy or Policy()
    # No pseudonyms are needed to count: a throwaway key keeps pseudonym/shift rules working.
    return anonymize_columns(columns, policy, Pseudonymizer(b"\x00" * 32), label_column=label_column,
                             progress=progress).report
