"""Checks of labels that carry several classes a row (multi-label data, ``--label-delimiter``).

Split from ``engine.data.validation``: whether labels look like several a row where no
delimiter was given, and, where one was, the rows that carry none of the labels.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from engine.data.arrow_strings import LabelCodes
from engine.data.problems import Problem, Severity


def multi_label_hint(check: Any, counts: dict[str, int], column: str) -> list[Problem]:
    """Labels joined with "|" (a JSON or Parquet tag list reads so) or ";" (a spreadsheet's
    tag cell) in a tenth of the rows or more: probably several classes a row, which
    --label-delimiter counts one by one. Not "," nor "/": class names hold them ("Credit
    reporting, credit repair services", "Sci/Tech")."""
    best: tuple[int, str, dict[str, int]] | None = None
    for sep in ("|", ";"):
        joined = {label: n for label, n in counts.items() if sep in label.strip(sep)}
        rows = sum(joined.values())
        if joined and rows >= 0.1 * sum(counts.values()) and (best is None or rows > best[0]):
            best = (rows, sep, joined)
    if best is None:
        return []
    rows, sep, joined = best
    example = max(joined, key=lambda label: joined[label])
    return [dataclasses.replace(check.problem(
        Severity.INFO, "looks-multi-label", f"{rows:,} rows have labels joined with '{sep}' (such "
        f"as {example!r}): each combination is counted as a class of its own",
        f"If a row can carry several classes, read them one by one with --label-delimiter '{sep}' "
        "(and train with --multi-label).", column=column), fix=f"{_HINT_FLAG}'{sep}'")]


_HINT_FLAG = "--label-delimiter "


def hinted_delimiter(problem: Problem) -> str:
    """The delimiter a "looks-multi-label" hint names in its fix ('|' or ';')."""
    return problem.fix.removeprefix(_HINT_FLAG).strip("'\"") or "|"


def rows_with_no_label(check: Any, labels: LabelCodes, delimiter: str, usable: np.ndarray,
                       column: str) -> list[Problem]:
    """Rows whose label cell holds only the delimiter ('|'): trained as carrying none of the
    labels, which is right where none applies (predictions say "no label above threshold") but
    was never said; an empty cell is a missing label instead, whose hint says to write this."""
    alone = labels.where(lambda value: bool(value) and not value.replace(delimiter, "").strip())
    return check.rows(
        np.asarray(alone) & usable, Severity.INFO, "no-label-applies",
        f"the label cell holds only {delimiter!r}: the row is trained as carrying none of the "
        "labels", column, "Right for a row where none of the labels applies; otherwise fill in "
        "its labels.")


def class_fixes_read_as_one_label(history: Any) -> list[str]:
    """The fixes in ``history`` made class by class while each label cell was one label (a
    merge of spellings made with a delimiter kept each row's other labels): read with several
    labels a row afterwards, they would have dropped or relabelled a row's other labels too."""
    from engine.data.fixes import BY_CLASS_KINDS

    return [step.get("description") or step["kind"] for step in history or ()
            if step.get("kind") in BY_CLASS_KINDS
            and not (step.get("details") or {}).get("label_delimiter")]
