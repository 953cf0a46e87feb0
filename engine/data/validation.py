"""The dataset report: every problem names the file, row and column and says what to do.

``validate(imported, mapping)`` returns a list of ``Problem``; errors block training, warnings
don't. Checks run column-wise on the Arrow table (a million rows: under 0.1 s). When a
check hits many rows the report lists the first ``MAX_ROWS_LISTED`` and one summary with the
total, so it stays readable. Messages name rows and labels but never quote a row's text: reports
end up in logs and screenshots.
"""
from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data import arrow_strings as strings
from engine.data.arrow_strings import LabelCodes
from engine.data.column_scan import (
    REPLACEMENT, InBackground, blank_rows, contains_replacement, lengths_and_first_bytes, mask_rows,
    repeated_texts,
)
from engine.data.columns import ColumnMapping, label_array, text_array
from engine.data.fix_hints import FIX_FOR_CODE, cap_long, fix_for
from engine.data.fixes import NEW_CLASS
from engine.data.importing.table import RAGGED_SKIPPED, ImportedTable
from engine.data.labels import PLACEHOLDER_LABELS, label_counts, label_variants, spelling_key
from engine.data.markup import has_markup
from engine.data.mojibake import TWICE_HINT, has_mojibake, twice
from engine.data.label_columns import hint_problem
from engine.data.multi_label_checks import multi_label_hint, rows_with_no_label
from engine.data.problems import MAX_ROWS_LISTED, Problem, Severity, has_blocking

__all__ = ["MAX_ROWS_LISTED", "Problem", "Severity", "has_blocking", "validate", "label_counts"]


MIN_EXAMPLES_ERROR = 2
MIN_EXAMPLES_WARNING = 10
IMBALANCE_RATIO = 20.0  # largest class / smallest class
TOKENS_PER_WORD = 1.3  # rough WordPiece ratio for English when no tokenizer is given
FAR_BEYOND = 2.0  # "far beyond" the limit: more than twice the model's max tokens


def validate(
    imported: ImportedTable,
    mapping: ColumnMapping,
    *,
    max_tokens: int | None = None,
    token_counter: Callable[[str], int] | None = None,
    skip_incomplete: bool = False,
    label_delimiter: str | None = None,
) -> list[Problem]:
    """Check a table against a mapping; errors first, then warnings, then notes.

    ``token_counter`` (a tokenizer's length function) makes the length check exact; without it,
    lengths are estimated from word counts. With ``skip_incomplete`` blank texts and missing
    labels are warnings (those rows will be left out) instead of errors. ``label_delimiter``
    is for multi-label data (``"billing|urgent"``): classes are then counted label by label.
    """

    check = _Checker(imported, mapping)
    problems: list[Problem] = list(imported.problems)
    if imported.skipped_rows:
        # Left out silently, they once cost a quarter of a file whose texts held commas (and
        # the longer texts most): an import must not lose them unless the user says so.
        n = imported.skipped_rows
        problems.append(check.problem(
            Severity.WARNING if skip_incomplete else Severity.ERROR, "unreadable-rows",
            f"{n:,} row{'s' * (n != 1)} of the file could not be read (the wrong number of "
            "fields; each is listed by its line)" + (" and will be left out" if skip_incomplete
                                                    else ", so would be left out"),
            "Quote the fields that hold the delimiter and export the file again" + (
                " to keep them." if skip_incomplete else
                ", or leave these rows out with --skip-incomplete.")))
        if not skip_incomplete:  # the reader's "the row was skipped": not while it is refused
            problems = [dataclasses.replace(p, message=p.message.replace(
                RAGGED_SKIPPED, "; it cannot be read")) if p.code == "ragged-row" else p
                for p in problems]
    if imported.num_rows == 0:
        problems.append(check.problem(Severity.ERROR, "no-rows", "the file has no data rows",
                                      "Check that the right file and sheet were chosen."))
        return _ordered(problems)

    texts = text_array(imported.table, mapping)
    text_col = mapping.text_columns[0] if len(mapping.text_columns) == 1 else " + ".join(mapping.text_columns)
    # The duplicate search's first stage (fingerprint every text, keep those that repeat) needs
    # nothing from the other checks, so it runs on a second core while they do.
    repeats = InBackground(repeated_texts, texts) if mapping.label_column is not None else None
    # Byte lengths straight from the offsets, shared by the blank and the length checks.
    lengths, first_bytes = lengths_and_first_bytes(texts)
    blank_text = blank_rows(texts, lengths, first_bytes)
    incomplete = Severity.WARNING if skip_incomplete else Severity.ERROR
    skip_note = " These rows will be left out of training." if skip_incomplete else ""
    problems += check.rows(
        blank_text, incomplete, "empty-text", "the text is empty", text_col,
        "Fill in the text or delete the row, or choose another text column." + skip_note,
    )
    problems += check.rows(contains_replacement(texts), Severity.WARNING, "undecodable-text",
                           f"the text contains undecodable characters ({REPLACEMENT})", text_col,
                           "Re-export the file as UTF-8, or fix the characters in these rows.")
    problems += check.rows(has_mojibake(texts), Severity.WARNING, "mojibake-in-text", f"the text {twice('')}",
                           text_col, TWICE_HINT, lambda i: f"the text {twice(texts[i].as_py())}")
    problems += check.rows(
        has_markup(texts), Severity.WARNING, "markup-in-text", "the text holds web markup (HTML "
        "tags or entities such as &amp; or &#39;)", text_col, "Remove it: the model would spend "
        "its length on it and learn where rows came from instead of what they say.")
    if max_tokens is not None:
        problems += _length_problems(check, texts, lengths, text_col, max_tokens, token_counter)
    problems += _id_like_texts(check, texts, text_col)
    problems += check.rows(
        pc.match_substring_regex(texts, _SPREADSHEET_ERROR), Severity.WARNING, "spreadsheet-error",
        "the text is a spreadsheet error value (#VALUE!, #N/A, #REF!, ...), not text", text_col,
        "Fix the formula in the source sheet and export again, or delete these rows: repeated, "
        "the same error also reads as one text with several labels.")

    if mapping.label_column is None:
        # Columns of 0/1 values, one label each (engine.data.label_columns): the way to read them.
        if (found := hint_problem(imported, mapping.text_columns)) is not None:
            return _ordered([*problems, found])
        alone = imported.table.num_columns == 1  # "choose the label column" where there is none
        problems.append(check.problem(
            Severity.ERROR, "no-label-column", "the file has one column, the texts, and no labels"
            if alone else "no label column was found or chosen",
            "Add a column that gives each row's class (its label) and export the file again: a "
            "model learns from labelled rows." if alone else
            "Choose the column that holds the labels (the class of each row).",
        ))
        return _label_column_fix(_ordered(problems), imported, mapping)

    label_col = mapping.label_column
    labels = strings.LabelCodes.of(imported.table.column(label_col))
    missing_label = labels.ids == labels.empty_id
    problems += check.rows(
        missing_label, incomplete, "missing-label", "the label is missing", label_col,
        "Fill in the label or delete the row." + skip_note + (
            f" For a row where none of the labels applies, write {label_delimiter!r} alone in "
            "the cell." if label_delimiter else ""),
    )
    problems += check.rows(
        labels.where(lambda value: REPLACEMENT in value), Severity.WARNING, "undecodable-label",
        f"the label contains undecodable characters ({REPLACEMENT})", label_col,
        "Re-export the file as UTF-8, or fix the label in these rows.",
    )
    raw = imported.table.column(label_col)
    problems += check.rows(has_mojibake(raw), Severity.WARNING, "mojibake-in-label", f"the label {twice('')}",
                           label_col, TWICE_HINT, lambda i: f"the label {twice(str(raw[i].as_py()), quote=True)}")
    usable = ~(blank_text | missing_label)
    assert repeats is not None
    # Multi-label: 'billing|refund' and 'refund|billing' are the same labels, so a repeat.
    problems += _duplicate_problems(check, texts, labels.as_label_sets(label_delimiter)
                                    if label_delimiter else labels,
                                    usable & repeats.result(), text_col, label_col)
    if label_delimiter:
        counts = label_counts(label_array(imported.table, mapping).filter(pa.array(usable)),
                              label_delimiter=label_delimiter)
    else:
        counts = labels.counts(usable)
    if not label_delimiter:
        problems += multi_label_hint(check, counts, label_col)
    else:
        problems += rows_with_no_label(check, labels, label_delimiter, usable, label_col)
    variants = label_variants(counts)  # multi-label: of each label ('Billing;tech', 'billing')
    problems += _variant_problems(check, variants, counts, label_col)
    # Not the largest class alone (one as large as another is said): a column that is mostly
    # 'NA' is more likely a real class or the wrong column, and its own warnings say so.
    largest = max(counts.values(), default=0)
    placeholders = [] if label_delimiter or len(counts) < 2 else \
        [label for label in counts if spelling_key(label) in PLACEHOLDER_LABELS
         and (counts[label] < largest or sum(n == largest for n in counts.values()) > 1)]
    problems += [_with_fix(check.problem(
        Severity.WARNING, "placeholder-label", f"{counts[label]:,} row{'s' * (counts[label] != 1)} "
        f"labelled {label!r}, which looks like a missing label, not a class",
        f"If nobody labelled these rows, drop them: kept as a class, they would teach the model "
        f"to answer {label!r}.", column=label_col), f"--drop-class {shlex.quote(label)}")
        for label in placeholders]
    # A tiny class that is another spelling of a label, or a placeholder, has a better fix than
    # dropping it with the small classes or merging it into "other".
    better = {v: (f"It is another spelling of {g[0]!r}: merge the spellings.",
                  FIX_FOR_CODE["label-variants"].flag) for g in variants for v in g[1:]}
    better |= {label: ("It looks like a missing label: drop these rows.",
                       f"--drop-class {shlex.quote(label)}") for label in placeholders}
    problems += _class_problems(check, counts, label_col, better=better)
    return _label_column_fix(_ordered(problems, multi_label=bool(label_delimiter)), imported, mapping)


def _label_column_fix(problems: list[Problem], imported: ImportedTable,
                      mapping: ColumnMapping) -> list[Problem]:
    """"--label-column L" names a placeholder: the column named like labels, where the file has
    one; where it has no other column at all, no flag (the printed fix and import command
    failed as given)."""
    if not any(p.fix == _LABEL_COLUMN_PLACEHOLDER for p in problems):
        return problems
    from engine.data.columns import other_label_columns

    others = other_label_columns(imported, mapping)
    spare = [c for c in imported.table.column_names
             if c not in (*mapping.text_columns, mapping.label_column)]
    flag = (f"--label-column {shlex.quote(others[0])}" if others
            else _LABEL_COLUMN_PLACEHOLDER if spare else "")
    return [dataclasses.replace(p, fix=flag) if p.fix == _LABEL_COLUMN_PLACEHOLDER else p
            for p in problems]


_LABEL_COLUMN_PLACEHOLDER = "--label-column L"


def as_stored(problem: Problem | str) -> Problem | str:
    """``problem`` as the stored dataset keeps it: rows that could not be read are not in the
    stored table, whatever was passed, so they are a note of what was left out, not an error
    (stored with --force, such a dataset could never be trained, nor fixed)."""
    if isinstance(problem, str) or problem.code != "unreadable-rows":
        return problem
    said = problem.message.split(" (the wrong number")[0]  # the message made in ``validate``
    return dataclasses.replace(problem, severity=Severity.WARNING, fix="",
                               message=f"{said} (the wrong number of fields) and were left out")


def _with_fix(problem: Problem, flag: str) -> Problem:
    return dataclasses.replace(problem, fix=flag)


def _variant_problems(check: _Checker, variants: list[list[str]], counts: dict[str, int],
                      column: str) -> list[Problem]:
    return [check.problem(
        Severity.WARNING, "label-variants",
        "labels " + ", ".join(f"{v!r} ({counts[v]:,} row{'s' * (counts[v] != 1)})" for v in group)
        + " differ only in how they are written (case, spaces, accents, hidden characters, 1 or "
        "1.0): they would be trained "
        "as different classes",
        f"Merge them into {group[0]!r}, the most frequent spelling.", column=column)
        for group in variants[:MAX_ROWS_LISTED]]


# Fixes that drop or relabel whole rows by class: with several classes in a row (multi-label)
# they would also drop or relabel the row's other classes, so import refuses them there.
_ROW_WISE_CLASS_FIXES = frozenset({"class-too-small", "class-small", "conflicting-labels"})


# What Excel shows (and exports) in place of a formula's result that failed.
_SPREADSHEET_ERROR = r"^\s*#(?:VALUE!|N/A|REF!|DIV/0!|NAME\?|NUM!|NULL!|SPILL!|CALC!|FIELD!)\s*$"
# ASCII only: \w also takes Chinese or Japanese, whose sentences have no spaces ("价格199元太贵了").
_ID_LIKE = re.compile(r"[A-Za-z0-9_\-./#:+]{1,40}")
_ID_SAMPLE = 2_000


def _id_like_texts(check: _Checker, texts: pa.ChunkedArray, column: str) -> list[Problem]:
    """A text column of codes ("12345", "INV-2024-001") rather than text: the model would learn
    nothing it can use (numbers are the id column's, chosen as the text by mistake)."""
    sample = [t for t in texts.slice(0, _ID_SAMPLE).to_pylist() if t and t.strip()]
    if len(sample) < 10:
        return []
    coded = sum(bool(_ID_LIKE.fullmatch(t.strip())) and any(c.isdigit() for c in t) for t in sample)
    if coded < 0.9 * len(sample):
        return []
    return [check.problem(
        Severity.WARNING, "text-looks-like-ids",
        f"{coded / len(sample):.0%} of the texts are codes or numbers, not text",
        "Check that the right text column is chosen: this looks like an id column.",
        column=column)]


def _ordered(problems: list[Problem], *, multi_label: bool = False) -> list[Problem]:
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    # Each problem says which one-step fix resolves it (engine.data.fixes), where one exists.
    # Small classes were given theirs as they were found (``small_class_fix``: the one that works
    # for these counts, or none); row-wise class fixes do not apply to multi-label rows.
    problems = [dataclasses.replace(p, fix=hint.flag) if not p.fix and (hint := fix_for(p.code))
                and p.code not in ("class-too-small", "class-small")
                and not (p.code == "unreadable-rows" and not p.blocking)  # already left out
                else p for p in problems]
    if multi_label:
        problems = [dataclasses.replace(p, fix="") if p.code in _ROW_WISE_CLASS_FIXES else p
                    for p in problems]
    return sorted(problems, key=lambda p: rank[p.severity])  # stable: check order kept within


class _Checker:
    """Builds problems that carry the right file for a row (folders have one file per row)."""

    def __init__(self, imported: ImportedTable, mapping: ColumnMapping) -> None:
        self.imported = imported
        self.source = str(imported.source)
        names = imported.table.column_names
        self.files = (
            imported.table.column("file") if imported.format == "folder" and "file" in names else None
        )
        # Excel rows map onto sheet rows one to one (blank rows keep their place), unless rows
        # repeating the header were left out above them.
        shifted = any(p.code == "header-repeated" for p in imported.problems)
        self.first_sheet_row = imported.first_data_line if imported.format == "xlsx" and not shifted \
            else None

    def file_for(self, index: int | None) -> str:
        if index is None or self.files is None:
            return self.source
        return str(self.imported.source / self.files[index].as_py())

    def problem(self, severity: Severity, code: str, message: str, hint: str, *,
                index: int | None = None, column: str | None = None) -> Problem:
        return Problem(severity=severity, code=code, message=message, hint=hint,
                       file=self.file_for(index), row=None if index is None else index + 1,
                       column=column,
                       sheet_row=None if index is None or self.first_sheet_row is None
                       else self.first_sheet_row + index)

    def rows(self, mask: pa.ChunkedArray | np.ndarray, severity: Severity, code: str,
             message: str, column: str, hint: str,
             describe: Callable[[int], str] | None = None) -> list[Problem]:
        """One problem per hit row, the first MAX_ROWS_LISTED of them plus a summary."""
        hits = mask_rows(mask)
        return self.listed(hits, severity, code, message, column, hint, describe)

    def listed(self, hits: np.ndarray, severity: Severity, code: str, message: str, column: str,
               hint: str, describe: Callable[[int], str] | None = None) -> list[Problem]:
        out = [
            self.problem(severity, code, describe(int(i)) if describe else message, hint,
                         index=int(i), column=column)
            for i in hits[:MAX_ROWS_LISTED]
        ]
        if len(hits) > MAX_ROWS_LISTED:
            out.append(self.problem(
                severity, code,
                f"{len(hits):,} rows in all: {message}",  # each front end says how many it lists
                hint, column=column,
            ))
        return out


def _length_problems(check: _Checker, texts: pa.ChunkedArray, lengths: np.ndarray, column: str,
                     max_tokens: int, counter: Callable[[str], int] | None) -> list[Problem]:
    limit = max_tokens * FAR_BEYOND
    # ``lengths`` are byte lengths: never below the character count, so the prefilters below
    # stay safe, and no per-row kernel runs.
    counts = np.zeros(len(lengths), dtype=np.float64)
    if counter is None:
        # n words need at least 2n-1 characters, so only texts that long are counted (the word
        # count is a regex pass, too slow to run on a million rows for nothing).
        candidates = np.flatnonzero(lengths > 2 * limit / TOKENS_PER_WORD - 1)
        if len(candidates):
            chosen = np.zeros(len(lengths), dtype=bool)
            chosen[candidates] = True
            subset = texts.filter(pa.array(chosen))  # filter, unlike take, never concatenates
            words = pc.add(pc.count_substring_regex(pc.utf8_trim_whitespace(subset), r"\s+"), 1)
            counts[candidates] = words.to_numpy(zero_copy_only=False) * TOKENS_PER_WORD
        how = "about"
    else:
        # Word-piece tokenizers emit at most one token per character plus [CLS] and [SEP], so
        # only texts near the limit in bytes can be too long.
        for i in np.flatnonzero(lengths + 2 > limit):
            counts[i] = counter(texts[int(i)].as_py())
        how = ""
    hits = np.flatnonzero(counts > limit)
    # The cut that resolves them is at the limit checked, not the usual 512.
    fix = cap_long(max_tokens).flag
    return [dataclasses.replace(p, fix=fix) for p in check.listed(
        hits, Severity.WARNING, "text-too-long",
        f"the text is far longer than the model's limit of {max_tokens} tokens and will be cut",
        column,
        "If their end matters, train with long texts read in windows (`cloister train "
        "--long-texts windows`; Train page: Advanced → Long texts), or split them into passages.",
        describe=lambda i: f"the text has {how + ' ' if how else ''}{int(counts[i]):,} tokens, far "
        f"beyond the model's limit of {max_tokens}; only the first {max_tokens} will be used unless "
        "long texts are read in windows",
    )]


def _duplicate_problems(check: _Checker, texts: pa.ChunkedArray, labels: LabelCodes,
                        candidates: np.ndarray, text_col: str, label_col: str) -> list[Problem]:
    """Exact repeats among ``candidates``: usable rows whose text's fingerprint repeats."""

    # A fingerprint may repeat only through an unusable row (or by chance): the exact
    # comparison below sorts that out, so the candidates may be a superset.
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return []
    selected = pa.array(candidates)
    text_ids = strings.codes(texts.filter(selected))  # exact; in the order of ``rows``
    label_ids = labels.ids[rows]
    m = len(rows)
    positions = np.arange(m)

    # Exact repeats of (text, label): every row after the first of its kind.
    pair_ids = strings.codes(pa.chunked_array([pa.array(text_ids * (int(label_ids.max()) + 1) + label_ids)]))
    first = np.full(int(pair_ids.max()) + 1, m, dtype=np.int64)
    np.minimum.at(first, pair_ids, positions)
    first_pos = first[pair_ids]
    repeats = positions[first_pos != positions]
    first_row = dict(zip(rows[repeats[:MAX_ROWS_LISTED]].tolist(),
                         rows[first_pos[repeats[:MAX_ROWS_LISTED]]].tolist()))
    problems = check.listed(
        rows[repeats], Severity.WARNING, "duplicate-row", "the row repeats an earlier row", text_col,
        "Remove repeated rows: they weigh those examples more and can leak into the test split.",
        describe=lambda i: f"the row repeats row {first_row[i] + 1:,} (same text and label)",
    )

    # The same text under different labels: the model is told two answers for one input.
    labels_per_text = np.bincount(text_ids[first])
    if (labels_per_text > 1).any():
        first_text = np.full(len(labels_per_text), m, dtype=np.int64)
        np.minimum.at(first_text, text_ids, positions)
        anchor = first_text[text_ids]
        later = positions[(labels_per_text[text_ids] > 1) & (label_ids != label_ids[anchor])]
        anchor_row = dict(zip(rows[later[:MAX_ROWS_LISTED]].tolist(),
                              rows[anchor[later[:MAX_ROWS_LISTED]]].tolist()))

        def conflict(i: int) -> str:
            j = anchor_row[i]  # multi-label: '' is the empty set, a row of none of the labels
            said = [repr(labels[k]) if labels[k] else "none of the labels" for k in (i, j)]
            return f"the same text as row {j + 1:,} has a different label ({said[0]} here, {said[1]} there)"

        problems += check.listed(
            rows[later], Severity.WARNING, "conflicting-labels",
            "the same text appears with different labels", label_col,
            "Decide which label is right and fix or remove the other rows.", describe=conflict,
        )
    return problems


def _class_problems(check: _Checker, counts: dict[str, int], column: str,
                    better: dict[str, tuple[str, str]] | None = None) -> list[Problem]:
    """``better``: for a label whose smallness has a better fix than the small-class ones (another
    spelling of a label, a placeholder), the hint and the fix to give instead."""
    problems: list[Problem] = []
    if not counts:
        return problems
    if len(counts) == 1:
        only = next(iter(counts))
        return [check.problem(
            Severity.ERROR, "single-class", f"every usable row has the same label {only!r}",
            "A classifier needs at least two classes: add examples of the other classes, or "
            "check that the right label column is chosen.", column=column,
        )]
    rows = sum(counts.values())
    if len(counts) > _MIN_ROWS_FOR_CARDINALITY and len(counts) > rows // 2:
        problems.append(check.problem(
            Severity.WARNING, "too-many-classes",
            f"{len(counts):,} different labels for {rows:,} rows — most labels occur once",
            "Check that the right label column is chosen: this looks like free text or an id.",
            column=column,
        ))
    ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    too_few = [(k, v) for k, v in ordered if v < MIN_EXAMPLES_ERROR]
    few = [(k, v) for k, v in ordered if MIN_EXAMPLES_ERROR <= v < MIN_EXAMPLES_WARNING]
    better = better or {}
    problems += _class_list(check, too_few, Severity.ERROR, "class-too-small", column,
                            f"fewer than {MIN_EXAMPLES_ERROR} examples, so it cannot appear in both "
                            "training and test",
                            "Add examples of this class, merge it into another, or delete its rows.",
                            better, small_class_fix(counts, MIN_EXAMPLES_ERROR, better))
    problems += _class_list(check, few, Severity.WARNING, "class-small", column,
                            f"fewer than {MIN_EXAMPLES_WARNING} examples; the model will learn it poorly",
                            "Add examples of this class if you can.", better,
                            small_class_fix(counts, MIN_EXAMPLES_WARNING, better))
    largest, smallest = ordered[-1], ordered[0]
    if smallest[1] and largest[1] / smallest[1] >= IMBALANCE_RATIO:
        problems.append(check.problem(
            Severity.WARNING, "imbalance",
            f"the classes are heavily imbalanced: {largest[0]!r} has {largest[1]:,} rows, "
            f"{smallest[0]!r} only {smallest[1]:,} ({largest[1] / smallest[1]:.0f}:1)",
            "Add examples of the small classes, or judge the model by per-class metrics (macro F1) "
            "rather than accuracy.", column=column,
        ))
    return problems


_MIN_ROWS_FOR_CARDINALITY = 20


def small_class_fix(counts: dict[str, int], min_size: int, better: dict[str, tuple[str, str]]) -> str:
    """The flag that fixes the classes under ``min_size`` rows, or "" when none would work:
    merging them into "other" needs enough rows for "other" to be trainable (2; it may still be
    small, a warning) and a class of at least ``min_size`` to stay beside it; dropping them needs
    two such classes. Classes with a ``better`` fix of their own (a spelling, a placeholder) are
    not counted."""
    small = sum(n for label, n in counts.items() if n < min_size and label not in better)
    big = sum(1 for n in counts.values() if n >= min_size)
    if small >= MIN_EXAMPLES_ERROR and big >= 1:
        return f"--min-class-size {min_size} --merge-small-into {NEW_CLASS}"
    if big >= 2:
        return f"--min-class-size {min_size} --drop-small"
    return ""


def _class_list(check: _Checker, classes: list[tuple[str, int]], severity: Severity, code: str,
                column: str, why: str, hint: str, better: dict[str, tuple[str, str]],
                fix: str) -> list[Problem]:
    out = [_with_fix(check.problem(severity, code, f"class {label!r} has {count} example{'s' if count != 1 else ''}: {why}",
                                   hint, column=column), fix) if label not in better else
           _with_fix(check.problem(severity, code, f"class {label!r} has {count} example{'s' if count != 1 else ''}: {why}",
                                   better[label][0], column=column), better[label][1])
           for label, count in classes[:MAX_ROWS_LISTED]]
    if len(classes) > MAX_ROWS_LISTED:
        out.append(_with_fix(check.problem(severity, code, f"{len(classes):,} classes in all have {why}",
                                           hint, column=column), fix))
    return out
