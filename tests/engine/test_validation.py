"""Each validation check on small tables: severity, row, column, and what to do."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.columns import ColumnMapping
from engine.data.importing import ImportedTable
from engine.data.arrow_strings import fingerprints, repeated
from engine.data.problems import MAX_ROWS_LISTED, Problem, Severity, has_blocking
from engine.data.validation import validate

MAPPING = ColumnMapping(text_columns=("text",), label_column="label")


def table(texts: list[str | None], labels: list[str | None], **kwargs) -> ImportedTable:
    data = pa.table({"text": pa.array(texts, pa.string()), "label": pa.array(labels, pa.string())})
    return ImportedTable(table=data, source=Path("/data/set.csv"), format="csv", **kwargs)


def balanced(n: int = 40) -> tuple[list[str], list[str]]:
    return [f"distinct text {i}" for i in range(n)], ["a", "b"] * (n // 2)


def by_code(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


def test_clean_data_has_no_problems() -> None:
    assert validate(table(*balanced()), MAPPING) == []


def test_empty_text_and_missing_label_block_with_row_and_column() -> None:
    texts, labels = balanced()
    texts[3], texts[7], labels[5], labels[9] = "   ", None, None, " "
    problems = validate(table(texts, labels), MAPPING)
    assert has_blocking(problems)
    empty, missing = by_code(problems, "empty-text"), by_code(problems, "missing-label")
    assert [(p.row, p.column, p.severity) for p in empty] == [(4, "text", Severity.ERROR), (8, "text", Severity.ERROR)]
    assert [(p.row, p.column) for p in missing] == [(6, "label"), (10, "label")]
    assert str(empty[0]) == ("error: /data/set.csv, row 4, column 'text': the text is empty. Fill in "
                             "the text or delete the row, or choose another text column.")


def test_skip_incomplete_turns_them_into_warnings() -> None:
    texts, labels = balanced()
    texts[0] = ""
    problems = validate(table(texts, labels), MAPPING, skip_incomplete=True)
    (empty,) = by_code(problems, "empty-text")
    assert empty.severity is Severity.WARNING and "left out of training" in empty.hint
    assert not has_blocking(problems)


def test_duplicates_point_at_the_first_row_without_quoting_text() -> None:
    texts, labels = balanced()
    texts[10], labels[10] = texts[2], labels[2]
    (dup,) = validate(table(texts, labels), MAPPING)
    assert (dup.code, dup.row, dup.severity) == ("duplicate-row", 11, Severity.WARNING)
    assert "repeats row 3" in dup.message and texts[2] not in str(dup)


def test_conflicting_labels() -> None:
    texts, labels = balanced()
    texts[5] = texts[2]  # row 3 is 'a', row 6 is 'b'
    (conflict,) = validate(table(texts, labels), MAPPING)
    assert conflict.code == "conflicting-labels" and conflict.row == 6 and conflict.column == "label"
    assert "same text as row 3 has a different label ('b' here, 'a' there)" in conflict.message


def test_class_sizes_single_class_and_imbalance() -> None:
    texts = [f"text {i}" for i in range(105)]
    labels = ["big"] * 100 + ["few"] * 4 + ["one"]
    problems = validate(table(texts, labels), MAPPING)
    assert [p.message.split(":")[0] for p in by_code(problems, "class-too-small")] == ["class 'one' has 1 example"]
    assert by_code(problems, "class-too-small")[0].severity is Severity.ERROR
    assert by_code(problems, "class-small")[0].message.startswith("class 'few' has 4 examples")
    (imbalance,) = by_code(problems, "imbalance")
    assert "'big' has 100 rows, 'one' only 1 (100:1)" in imbalance.message
    single = validate(table(texts[:12], ["x"] * 12), MAPPING)
    assert [p.code for p in single] == ["single-class"] and single[0].blocking


def test_label_that_looks_like_an_id() -> None:
    texts = [f"t{i}" for i in range(30)]
    problems = validate(table(texts, [f"id{i}" for i in range(30)]), MAPPING)
    assert by_code(problems, "too-many-classes")[0].message == "30 different labels for 30 rows — most labels occur once"


def test_long_texts_estimated_and_counted() -> None:
    texts, labels = balanced()
    texts[4] = " ".join(["word"] * 400)  # ~520 estimated tokens
    texts[6] = " ".join(["word"] * 150)  # above 128 but not far beyond
    problems = validate(table(texts, labels), MAPPING, max_tokens=128)
    (long,) = by_code(problems, "text-too-long")
    assert long.row == 5 and "about 520 tokens, far beyond the model's limit of 128" in long.message
    calls: list[int] = []

    def counter(text: str) -> int:
        calls.append(len(text))
        return len(text.split())  # one token per word: 400 is far beyond 128, 150 is not

    (exact,) = by_code(validate(table(texts, labels), MAPPING, max_tokens=128, token_counter=counter),
                       "text-too-long")
    assert exact.row == 5 and "the text has 400 tokens" in exact.message
    assert len(calls) == 2  # only texts long enough to be too long were tokenized


def test_undecodable_characters_and_read_time_problems_are_reported() -> None:
    texts, labels = balanced()
    texts[1] = "caf\ufffd"
    ragged = Problem(severity=Severity.WARNING, code="ragged-row", message="line 9 has 3 fields",
                     file="/data/set.csv")
    problems = validate(table(texts, labels, problems=(ragged,)), MAPPING)
    assert problems[0] is ragged
    (bad,) = by_code(problems, "undecodable-text")
    assert bad.row == 2 and "Re-export the file as UTF-8" in bad.hint


def test_thousands_of_hits_are_summarised() -> None:
    texts = [""] * 3000 + [f"t{i}" for i in range(40)]
    labels = ["a", "b"] * 1520
    empty = by_code(validate(table(texts, labels), MAPPING), "empty-text")
    assert len(empty) == MAX_ROWS_LISTED + 1
    assert [p.row for p in empty[:MAX_ROWS_LISTED]] == list(range(1, MAX_ROWS_LISTED + 1))
    assert empty[-1].row is None and empty[-1].message.startswith("3,000 rows in all: the text is empty")


def test_errors_come_first_and_no_label_column_is_an_error() -> None:
    texts, labels = balanced()
    texts[1] = texts[0] = "same"
    problems = validate(table(texts, labels), ColumnMapping(text_columns=("text",), label_column=None))
    assert [p.code for p in problems] == ["no-label-column"]
    texts[2] = ""
    problems = validate(table(texts, labels), MAPPING)
    assert problems[0].severity is Severity.ERROR and problems[-1].severity is Severity.WARNING


def test_empty_table() -> None:
    (problem,) = validate(table([], []), MAPPING)
    assert problem.code == "no-rows" and problem.blocking


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=40), st.integers(1, 5))
def test_equal_strings_get_equal_fingerprints_wherever_they_sit(texts: list[str], pieces: int) -> None:
    # Chunk boundaries and buffer positions must not matter: the same text anywhere, same print.
    values = texts + list(reversed(texts))
    size = max(1, len(values) // pieces)
    chunked = pa.chunked_array([pa.array(values[i : i + size], pa.string())
                                for i in range(0, len(values), size)])
    prints = fingerprints(chunked)
    by_text: dict[str, set[int]] = {}
    for text, value in zip(values, prints.tolist()):
        by_text.setdefault(text, set()).add(value)
    assert all(len(v) == 1 for v in by_text.values())


def test_fingerprint_collisions_are_not_reported_as_duplicates() -> None:
    # Same length, same start, quarter, middle and end windows: only exact comparison tells.
    base = "x" * 10 + "A" + "x" * 60 + "B" + "x" * 10
    twin = "x" * 10 + "C" + "x" * 60 + "D" + "x" * 10
    assert len(base) == len(twin)
    assert fingerprints(pa.chunked_array([[base, twin]])).tolist()[0] == \
        fingerprints(pa.chunked_array([[twin]])).tolist()[0]
    texts, labels = balanced()
    texts[0], texts[1] = base, twin
    assert validate(table(texts, labels), MAPPING) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.sampled_from([0, 1, 2**63, 2**64 - 1]), max_size=300))
def test_repeated_matches_counting(keys: list[int]) -> None:
    from collections import Counter

    counts = Counter(keys)
    mask = repeated(np.array(keys, dtype=np.uint64))
    assert mask.tolist() == [counts[k] > 1 for k in keys]


def test_problem_as_dict_round_trips_through_json() -> None:
    import json

    problem = Problem(severity=Severity.ERROR, code="empty-text", message="the text is empty",
                      hint="Fill it in.", file="/d.csv", row=3, column="text", fix="--drop-empty")
    assert json.loads(json.dumps(problem.as_dict())) == {
        "severity": "error", "code": "empty-text", "message": "the text is empty",
        "hint": "Fill it in.", "file": "/d.csv", "row": 3, "column": "text", "fix": "--drop-empty",
        "sheet_row": None}


def test_multi_label_classes_are_counted_label_by_label() -> None:
    texts = [f"ticket {i}" for i in range(24)]
    labels = ["billing|urgent", "billing", "urgent | billing", "refund|urgent"] * 6
    as_sets = validate(table(texts, labels), MAPPING, label_delimiter="|")
    assert by_code(as_sets, "class-too-small") == []
    assert by_code(as_sets, "class-small")[0].message.startswith("class 'refund' has 6 examples")
    # Without the delimiter every combination is its own (small) class.
    as_strings = validate(table(texts, labels), MAPPING)
    assert {p.message.split(":")[0] for p in by_code(as_strings, "class-small")} >= {
        "class 'urgent | billing' has 6 examples"}


def test_a_multi_label_row_with_no_label_is_said_and_an_empty_cell_says_how_to_write_one() -> None:
    """A cell holding only '|' was trained as "none of the labels" without a word, while an
    empty cell was a missing label with no hint that '|' says "none applies"."""
    texts = [f"ticket {i}" for i in range(24)]
    labels = ["billing|urgent", "billing", "urgent", "refund|urgent"] * 6
    labels[5], labels[9] = "|", ""
    problems = validate(table(texts, labels), MAPPING, label_delimiter="|")
    (none,) = by_code(problems, "no-label-applies")
    assert none.row == 6 and none.severity is Severity.INFO
    assert "trained as carrying none of the labels" in none.message
    (missing,) = by_code(problems, "missing-label")
    assert missing.row == 10 and "write '|' alone in the cell" in missing.hint
    single = validate(table(texts, labels), MAPPING)  # one label a row: '|' is just a label
    assert by_code(single, "no-label-applies") == []
    assert "alone in the cell" not in by_code(single, "missing-label")[0].hint


def test_blank_texts_include_unicode_spaces_and_only_those() -> None:
    # The blank check only runs its per-row kernel where a text starts with a space, a control
    # or a non-ASCII byte: each kind must still be judged exactly.
    texts, labels = balanced()
    texts[1], texts[2], texts[3] = "\u3000\u00a0", "\t\n ", "\u00e9t\u00e9"
    texts[4], texts[5], texts[6] = " padded", "\u3000x", "\x85"
    problems = validate(table(texts, labels), MAPPING)
    assert [p.row for p in by_code(problems, "empty-text")] == [2, 3, 7]


def test_labels_are_trimmed_nulls_are_missing_and_numbers_are_classes() -> None:
    texts = [f"text {i}" for i in range(36)]
    labels = ["spam", " spam", "ham ", None, "  ", "ham"] * 6
    problems = validate(table(texts, labels), MAPPING)
    assert [p.row for p in by_code(problems, "missing-label")][:4] == [4, 5, 10, 11]
    assert by_code(problems, "class-small") == [] and by_code(problems, "imbalance") == []
    # The same text under ' spam' and 'ham ' conflicts; under 'spam' and ' spam' it repeats.
    texts[6], texts[8] = texts[0], texts[0]
    problems = validate(table(texts, labels), MAPPING)
    assert [p.row for p in by_code(problems, "duplicate-row")] == [7]
    (conflict,) = by_code(problems, "conflicting-labels")
    assert conflict.row == 9 and "('ham' here, 'spam' there)" in conflict.message
    numbers = pa.table({"text": pa.array(texts[:20]), "label": pa.array([1, 2] * 9 + [3, 1])})
    counted = validate(ImportedTable(table=numbers, source=Path("/n.csv"), format="csv"), MAPPING)
    (small,) = by_code(counted, "class-too-small")
    assert small.message.startswith("class '3' has 1 example")


def test_repeated_matches_counting_on_many_keys() -> None:
    # Big enough for every bucket pass to run with its largest table.
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**64 - 1, 300_000, dtype=np.uint64, endpoint=True)
    keys[rng.integers(0, len(keys), 3_000)] = keys[rng.integers(0, len(keys), 3_000)]
    values, counts = np.unique(keys, return_counts=True)
    assert (repeated(keys) == np.isin(keys, values[counts > 1])).all()


def test_two_text_columns_blank_in_both_keep_every_row_in_place() -> None:
    # pyarrow's "skip" join drops rows whose parts are all null; rows after one must not shift.
    texts, labels = balanced()
    titles = [None, "", " ", "title"] * 10
    texts[1], texts[2], texts[3] = "", "  ", ""
    data = pa.table({"title": pa.array(titles, pa.string()), "text": pa.array(texts, pa.string()),
                     "label": pa.array(labels, pa.string())})
    imported = ImportedTable(table=data, source=Path("/t.csv"), format="csv")
    both = ColumnMapping(text_columns=("title", "text"), label_column="label")
    problems = validate(imported, both)
    assert [(p.row, p.column) for p in by_code(problems, "empty-text")] == [(2, "title + text"), (3, "title + text")]
    from engine.data.columns import texts_and_labels

    joined, kept = texts_and_labels(data, both)
    assert len(joined) == len(kept) == 40 and joined[3] == "title" and joined[5] == "distinct text 5"


def test_a_text_column_of_ids_is_pointed_out() -> None:
    # Choosing the id column as the text raised nothing, and even hid the repeats warning.
    texts, labels = balanced()
    ids = [f"INV-2024-{i:05d}" for i in range(len(texts))]
    problems = validate(table(ids, labels), MAPPING)
    [ided] = [p for p in problems if p.code == "text-looks-like-ids"]
    assert ided.severity is Severity.WARNING and ided.column == "text"
    assert ided.message == "100% of the texts are codes or numbers, not text"
    assert "right text column" in ided.hint
    assert not [p for p in validate(table(texts, labels), MAPPING) if p.code == "text-looks-like-ids"]
    chinese = [f"价格{i}元太贵了" if i % 2 else f"我的订单{i}天了还没发货" for i in range(len(texts))]
    assert not [p for p in validate(table(chinese, labels), MAPPING) if p.code == "text-looks-like-ids"]


def test_spreadsheet_error_values_in_the_text_are_named() -> None:
    # A formula that failed exports as "#VALUE!": it was reported only as one text with two
    # labels, never as what it is.
    texts, labels = balanced()
    texts[3], texts[8] = "#VALUE!", " #N/A "
    problems = validate(table(texts, labels), MAPPING)
    errors = [p for p in problems if p.code == "spreadsheet-error"]
    assert [p.row for p in errors] == [4, 9] and errors[0].severity is Severity.WARNING
    assert "Fix the formula in the source sheet" in errors[0].hint
    texts[3] = "the #VALUE! of a cell is an error"  # within a sentence: text, not an error
    assert [p.row for p in validate(table(texts, labels), MAPPING) if p.code == "spreadsheet-error"] == [9]
