"""One-step fixes (engine.data.fixes): each fix, each refusal, and the hints validation attaches."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from engine.data.columns import ColumnMapping, texts_and_labels
from engine.data.fixes import (
    CapLength,
    DropDuplicates,
    DropIncomplete,
    FixRefused,
    ResolveConflicts,
    SmallClasses,
    apply_fixes,
    fixes_from_options,
)
from engine.data.importing import ImportedTable
from engine.data.validation import validate

MAPPING = ColumnMapping(text_columns=("text",), label_column="label")


def table(rows: list[tuple[str | None, str | None]]) -> pa.Table:
    return pa.table({"text": [r[0] for r in rows], "label": [r[1] for r in rows]})


def rows_of(t: pa.Table) -> list[tuple[str, str]]:
    texts, labels = texts_and_labels(t, MAPPING)
    return list(zip(texts, labels))


BASE = [(f"text {i}", "a" if i % 2 else "b") for i in range(10)]


def test_drop_incomplete_removes_blank_texts_and_missing_labels_only() -> None:
    t = table([*BASE, ("", "a"), ("   ", "b"), (None, "a"), ("fine", None), ("fine too", " ")])
    fixed, report = apply_fixes(t, MAPPING, [DropIncomplete()])
    assert rows_of(fixed) == BASE
    assert report.rows_removed == 5 and report.steps[0].rows_removed == 5
    assert report.steps[0].kind == "drop-empty" and "5 rows" in report.steps[0].description
    assert t.num_rows == 15  # the input table is untouched


def test_drop_duplicates_keeps_the_first_of_each_text_and_label() -> None:
    t = table([*BASE, ("text 1", "a"), ("text 1", "a"), ("text 1", "b"), ("text 2", "b")])
    fixed, report = apply_fixes(t, MAPPING, [DropDuplicates()])
    # Same text with another label is a conflict, not a duplicate: it stays.
    assert rows_of(fixed) == [*BASE, ("text 1", "b")]
    assert report.steps[0].rows_removed == 3


def test_resolve_conflicts_drop_removes_every_row_of_the_text() -> None:
    t = table([*BASE, ("same", "a"), ("same", "b"), ("same", "a")])
    fixed, report = apply_fixes(t, MAPPING, [ResolveConflicts("drop")])
    assert rows_of(fixed) == BASE
    assert report.steps[0].rows_removed == 3 and report.steps[0].details["texts"] == 1


def test_resolve_conflicts_majority_keeps_the_majority_and_drops_ties() -> None:
    t = table([*BASE, ("same", "a"), ("same", "b"), ("same", "a"), ("tie", "a"), ("tie", "b")])
    fixed, report = apply_fixes(t, MAPPING, [ResolveConflicts("majority")])
    assert rows_of(fixed) == [*BASE, ("same", "a"), ("same", "a")]
    assert report.steps[0].rows_removed == 3
    # With duplicates dropped too, conflicts are resolved first: one "same"/"a" row is left.
    fixed, _ = apply_fixes(t, MAPPING, [DropDuplicates(), ResolveConflicts("majority")])
    assert rows_of(fixed) == [*BASE, ("same", "a")]


def test_small_classes_dropped_or_merged_into_other_or_a_named_class() -> None:
    t = table([*BASE, ("x1", "rare"), ("x2", "rare"), ("y1", "once")])
    dropped, report = apply_fixes(t, MAPPING, [SmallClasses(3)])
    assert rows_of(dropped) == BASE and report.classes_before == 4 and report.classes_after == 2
    merged, report = apply_fixes(t, MAPPING, [SmallClasses(3, "other")])
    assert rows_of(merged)[-3:] == [("x1", "other"), ("x2", "other"), ("y1", "other")]
    assert report.steps[0].rows_changed == 3 and report.steps[0].details["classes"] == ["once", "rare"]
    assert report.lines() == ["merged 2 classes with fewer than 3 rows (3 rows) into 'other'"]
    into_a, report = apply_fixes(t, MAPPING, [SmallClasses(2, "a")])
    assert rows_of(into_a)[-3:] == [("x1", "rare"), ("x2", "rare"), ("y1", "a")]
    assert report.lines() == ["merged 1 class with fewer than 2 rows (1 row) into 'a'"]


def test_merging_into_other_joins_a_class_already_written_other() -> None:
    """The suggested fix merges into 'other'; a file with an 'Other' class of its own got a
    second class beside it, which only the capital told apart."""
    t = table([*BASE, *[(f"o{i}", "Other") for i in range(4)], ("x1", "rare"), ("y1", "once")])
    merged, report = apply_fixes(t, MAPPING, [SmallClasses(2, "other")])
    assert rows_of(merged)[-2:] == [("x1", "Other"), ("y1", "Other")]
    assert report.classes_after == 3 and report.steps[0].details["into"] == "Other"
    assert report.lines() == ["merged 2 classes with fewer than 2 rows (2 rows) into 'Other'"]
    # An 'Other' of one row and nothing else small: merging would change nothing and leave it
    # too small, so it is refused as a merge into a new 'other' would be (it was offered, and
    # "merged 0 classes").
    lone = table([*BASE, ("o1", "Other")])
    with pytest.raises(FixRefused, match="would make 'Other' a class of 1 row, still too small"):
        apply_fixes(lone, MAPPING, [SmallClasses(2, "other")])


def test_cap_length_cuts_only_long_texts() -> None:
    long = " ".join(f"w{i}" for i in range(400))
    t = table([*BASE, (long, "a")])
    fixed, report = apply_fixes(t, MAPPING, [CapLength(max_tokens=26)])
    texts = [r[0] for r in rows_of(fixed)]
    assert texts[:10] == [r[0] for r in BASE]
    assert texts[-1] == " ".join(f"w{i}" for i in range(20))  # 26 tokens / 1.3 per word
    assert report.steps[0].rows_changed == 1 and report.rows_removed == 0


def test_texts_that_differ_only_past_the_cap_are_not_dropped_as_repeats() -> None:
    """Repeats and conflicts are judged on the texts as read, before any capping."""
    stem = " ".join(f"w{i}" for i in range(40))
    t = table([*BASE, (stem + " first ending", "a"), (stem + " second ending", "b"), ("x", "a")])
    fixed, report = apply_fixes(t, MAPPING, [CapLength(max_tokens=26), DropDuplicates(),
                                            ResolveConflicts("drop")])
    assert report.rows_removed == 0 and fixed.num_rows == t.num_rows
    assert [s.kind for s in report.steps] == ["resolve-conflicts", "drop-duplicates", "cap-long"]
    assert report.steps[-1].rows_changed == 2


def test_refused_when_fewer_than_two_classes_would_be_left() -> None:
    t = table([*[(f"a{i}", "a") for i in range(5)], ("b", "b"), ("c", "c")])
    with pytest.raises(FixRefused, match="fewer than two classes .*'a'.*nothing was changed"):
        apply_fixes(t, MAPPING, [SmallClasses(2)])
    # Merging instead keeps two classes: allowed.
    fixed, report = apply_fixes(t, MAPPING, [SmallClasses(2, "other")])
    assert report.classes_after == 2


def test_refused_when_nothing_would_be_left() -> None:
    t = table([("", "a"), ("  ", "b"), ("x", None)])
    with pytest.raises(FixRefused, match="no usable rows"):
        apply_fixes(t, MAPPING, [DropIncomplete()])


def test_refused_merge_into_a_class_that_does_not_exist_names_it() -> None:
    t = table([*BASE, ("x", "rare")])
    with pytest.raises(FixRefused, match="into 'Rare': it is not a class.*'a', 'b', 'rare'"):
        apply_fixes(t, MAPPING, [SmallClasses(2, "Rare")])


def test_option_combinations_that_make_no_sense_are_refused() -> None:
    with pytest.raises(FixRefused, match="needs what to do"):
        fixes_from_options(min_class_size=5)
    with pytest.raises(FixRefused, match="not both"):
        fixes_from_options(drop_small=True, merge_small_into="other")
    for size in (0, 1, -3):  # not silently the default of 2
        with pytest.raises(FixRefused, match=f"--min-class-size {size} makes no class small"):
            fixes_from_options(min_class_size=size, drop_small=True)
    with pytest.raises(FixRefused, match="given twice"):
        apply_fixes(table(BASE), MAPPING, [DropDuplicates(), DropDuplicates()])
    no_label = ColumnMapping(text_columns=("text",), label_column=None)
    with pytest.raises(FixRefused, match="needs a label column"):
        apply_fixes(table(BASE), no_label, [SmallClasses(2)])


def test_validation_problems_name_the_fix_and_the_fix_clears_them() -> None:
    t = table([*BASE, ("", "a"), ("text 1", "a"), ("same", "a"), ("same", "b"), ("solo", "z"),
               ("solo 2", "y")])
    imported = ImportedTable(table=t, source=Path("x.csv"), format="csv")
    problems = validate(imported, MAPPING)
    fixes = {p.code: p.fix for p in problems}
    assert fixes["empty-text"] == "--drop-empty"
    assert fixes["duplicate-row"] == "--drop-duplicates"
    assert fixes["conflicting-labels"].startswith("--resolve-conflicts")
    assert fixes["class-too-small"].endswith("--merge-small-into other")
    assert any(p.blocking for p in problems)

    chosen = fixes_from_options(drop_empty=True, drop_duplicates=True, resolve_conflicts="drop",
                                merge_small_into="other", min_class_size=2)
    fixed, _ = apply_fixes(t, MAPPING, chosen)
    after = validate(ImportedTable(table=fixed, source=Path("x.csv"), format="csv"), MAPPING)
    codes = {p.code for p in after}
    assert not codes & {"empty-text", "duplicate-row", "conflicting-labels", "class-too-small"}
    assert not any(p.blocking for p in after)


def test_spellings_of_a_label_are_merged_into_the_most_frequent() -> None:
    from engine.data.fixes import MergeLabelVariants

    t = table([*BASE, ("p1", "Positive"), ("p2", "Positive"), ("p3", "positive"),
               ("p4", " POSITIVE "), ("n1", "negative"), ("n2", "Negative"), ("n3", "Neg ative")])
    fixed, report = apply_fixes(t, MAPPING, [MergeLabelVariants()])
    labels = [label for _, label in rows_of(fixed)]
    assert labels[10:] == ["Positive"] * 4 + ["negative", "negative", "Neg ative"]
    step = report.steps[0]
    assert step.kind == "merge-label-variants" and step.rows_changed == 3 and step.rows_removed == 0
    # Labels are read trimmed, so ' POSITIVE ' is 'POSITIVE'; runs of inner spaces count too.
    assert step.details == {"merged": {"Positive": ["positive", "POSITIVE"], "negative": ["Negative"]}}
    # As pandas writes an integer column that had a gap: '1.0' is another spelling of '1'.
    numbers, _ = apply_fixes(table([*BASE, ("x", "1"), ("y", "1"), ("z", "1.0"), ("w", "0.0"), ("v", "0")]),
                             MAPPING, [MergeLabelVariants()])
    assert [label for _, label in rows_of(numbers)][10:] == ["1", "1", "1", "0", "0"]
    assert "('positive', 'POSITIVE' -> 'Positive'; 'Negative' -> 'negative'; 3 rows relabelled)" \
        in step.description
    assert report.classes_before == 8 and report.classes_after == 5  # a, b, Positive, negative, "Neg ative"
    # A tie goes to the spelling without stray spaces, then the same one whatever the row order.
    tie = [("t1", "Yes  Sir"), ("t2", "yes sir"), ("t3", "No"), ("t4", "no")]
    for rows in (tie, tie[::-1]):
        fixed, _ = apply_fixes(table([*BASE, *rows]), MAPPING, [MergeLabelVariants()])
        assert sorted({label for _, label in rows_of(fixed)} - {"a", "b"}) == ["no", "yes sir"]
    untouched, report = apply_fixes(table(BASE), MAPPING, [MergeLabelVariants()])
    assert rows_of(untouched) == BASE and report.steps[0].rows_changed == 0


def test_validation_names_the_spellings_and_points_a_tiny_spelling_at_the_merge() -> None:
    t = table([*BASE, ("p1", "Positive"), ("p2", "Positive"), ("p3", "positive")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    (variants,) = [p for p in problems if p.code == "label-variants"]
    assert not variants.blocking and variants.fix == "--merge-label-variants"
    assert "'Positive' (2 rows), 'positive' (1 row) differ only in how they are written" in variants.message
    (tiny,) = [p for p in problems if p.code == "class-too-small"]
    assert tiny.fix == "--merge-label-variants"  # not "--merge-small-into other"
    assert "another spelling of 'Positive'" in tiny.hint
    fixed, _ = apply_fixes(t, MAPPING, fixes_from_options(merge_label_variants=True))
    after = validate(ImportedTable(table=fixed, source=Path("x.csv"), format="csv"), MAPPING)
    assert not {"label-variants", "class-too-small"} & {p.code for p in after}
    # Multi-label data counts labels part by part, and says their spellings as well (merged
    # label by label: test_multi_label_spellings_are_said_and_merged_label_by_label).
    multi = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING,
                     label_delimiter="|")
    assert "label-variants" in {p.code for p in multi}


def test_the_spelling_merge_is_offered_as_the_fix_for_the_error_it_clears() -> None:
    from engine.data.fix_suggest import suggest_fixes

    t = table([*BASE, ("p1", "Positive"), ("p2", "Positive"), ("p3", "positive")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    options = {o.label: o for o in suggest_fixes(t, MAPPING, problems)}
    merge = options["Merge labels that differ only in how they are written"]
    assert merge.blocking and merge.rows_changed == 1 and not merge.refused
    assert merge.summary() == "Merge labels that differ only in how they are written (changes 1 row)"


def test_placeholder_labels_are_named_and_dropped_by_class() -> None:
    from engine.data.fix_suggest import suggest_fixes
    from engine.data.fixes import DropClasses

    t = table([*BASE, ("hmm", "N/A"), ("what", "N/A"), ("lookup failed", "#N/A")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    placeholder = {p.message: p.fix for p in problems if p.code == "placeholder-label"}
    assert placeholder == {"2 rows labelled 'N/A', which looks like a missing label, not a class": "--drop-class N/A",
                           "1 row labelled '#N/A', which looks like a missing label, not a class":
                               "--drop-class '#N/A'"}
    (tiny,) = [p for p in problems if p.code == "class-too-small"]
    assert tiny.fix == "--drop-class '#N/A'" and "looks like a missing label" in tiny.hint
    options = {o.label: o for o in suggest_fixes(t, MAPPING, problems)}
    assert options["Drop the rows labelled '#N/A'"].blocking  # it clears the error
    assert not options["Drop the rows labelled 'N/A'"].blocking
    assert options["Drop the rows labelled 'N/A'"].rows_removed == 2

    fixed, report = apply_fixes(t, MAPPING, fixes_from_options(drop_classes=["N/A", "#N/A", "N/A"]))
    assert rows_of(fixed) == BASE and report.steps[0].rows_removed == 3
    assert report.steps[0].description == "dropped the 3 rows labelled 'N/A', '#N/A'"
    with pytest.raises(FixRefused, match="--drop-class 'n/a': no such class .*case included"):
        apply_fixes(t, MAPPING, [DropClasses(("n/a",))])
    with pytest.raises(FixRefused, match="fewer than two classes"):
        apply_fixes(t, MAPPING, [DropClasses(("a", "N/A", "#N/A"))])
    # Real classes are not taken for placeholders: "unknown", "-" of a +/- set, the largest class.
    for label in ("unknown", "-", "?"):
        ok = table([*BASE, *[(f"x{i}", label) for i in range(3)]])
        assert "placeholder-label" not in {p.code for p in validate(
            ImportedTable(table=ok, source=Path("x.csv"), format="csv"), MAPPING)}, label
    mostly = table([*BASE, *[(f"x{i}", "NA") for i in range(8)]])
    assert "placeholder-label" not in {p.code for p in validate(
        ImportedTable(table=mostly, source=Path("x.csv"), format="csv"), MAPPING)}
    # As large as the largest class, but not alone: still said (BASE has 5 of each class).
    level = table([*BASE, *[(f"x{i}", "null") for i in range(5)]])
    assert "placeholder-label" in {p.code for p in validate(
        ImportedTable(table=level, source=Path("x.csv"), format="csv"), MAPPING)}


def test_n_a_and_its_other_spellings_are_each_dropped_not_merged() -> None:
    t = table([*BASE, ("p1", "Positive"), ("p2", "Positive"), ("p3", "positive"),
               ("u1", "N/A"), ("u2", "n/a")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    flags = {p.fix for p in problems if p.fix}
    assert {"--drop-class N/A", "--drop-class n/a", "--merge-label-variants"} <= flags
    assert not any("'N/A'" in p.message for p in problems if p.code == "label-variants")
    # Everything inspect suggests, applied together, is accepted (the drops run before the merge).
    fixed, _ = apply_fixes(t, MAPPING, fixes_from_options(merge_label_variants=True,
                                                          drop_classes=["N/A", "n/a"]))
    assert sorted({label for _, label in rows_of(fixed)}) == ["Positive", "a", "b"]


def test_a_tiny_class_with_a_better_fix_does_not_call_for_merging_it_into_other() -> None:
    from engine.data.fix_suggest import suggest_fixes

    t = table([*BASE, ("p1", "Positive"), ("p2", "Positive"), ("p3", "positive"), ("u", "#N/A")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    labels = [o.label for o in suggest_fixes(t, MAPPING, problems)]
    assert "Merge labels that differ only in how they are written" in labels
    assert "Drop the rows labelled '#N/A'" in labels
    assert not any("classes under 2 rows" in label for label in labels)
    # With a tiny class that is neither, the small-class fixes are offered: a lone one-row class
    # cannot make a trainable 'other', so that merge is refused and dropping is the fix.
    t = table([*BASE, ("solo", "rare")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    options = {o.label: o for o in suggest_fixes(t, MAPPING, problems)}
    assert "still too small to train" in options["Merge classes under 2 rows into 'other'"].refused
    drop = options["Drop classes under 2 rows"]
    assert drop.blocking and not drop.refused and drop.rows_removed == 1
    t = table([*BASE, ("solo", "rare"), ("lone", "odd")])  # two tiny classes: 'other' of two rows
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    assert not {o.label: o for o in suggest_fixes(t, MAPPING, problems)}[
        "Merge classes under 2 rows into 'other'"].refused


def test_the_small_class_fix_named_is_one_that_works_for_these_counts() -> None:
    from engine.data.validation import small_class_fix

    # One tiny class of one row: merged into "other" it would still be one row; drop it.
    assert small_class_fix({"a": 5, "b": 5, "solo": 1}, 2, {}) == "--min-class-size 2 --drop-small"
    # Two tiny classes make an "other" of two rows beside a real class: merging works.
    assert small_class_fix({"a": 5, "x": 1, "y": 1}, 2, {}) == "--min-class-size 2 --merge-small-into other"
    # Every class under 10 rows: merging all into "other" would leave one class; no fix is named.
    assert small_class_fix({"a": 5, "b": 4}, 10, {}) == ""
    # A spelling of another label is not counted: its own fix handles it.
    assert small_class_fix({"a": 5, "b": 5, "A": 1}, 2, {"A": ("", "--merge-label-variants")}) \
        == "--min-class-size 2 --drop-small"
    t = table([*BASE, ("solo", "rare")])
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING)
    (tiny,) = [p for p in problems if p.code == "class-too-small"]
    assert tiny.fix == "--min-class-size 2 --drop-small"
    fixed, _ = apply_fixes(t, MAPPING, fixes_from_options(min_class_size=2, drop_small=True))
    assert rows_of(fixed) == BASE  # the named fix, run, is accepted
    few = [p for p in problems if p.code == "class-small"]
    assert few and all(p.fix == "" for p in few)  # 'a' and 'b' have 5 rows each: nothing to merge into


def test_a_refusal_for_too_few_classes_advises_what_fits_the_fixes_asked_for() -> None:
    t = table([*BASE, ("x", "c"), ("y", "c")])
    with pytest.raises(FixRefused, match="lower the minimum class size \\(at this size the small classes"):
        apply_fixes(t, MAPPING, fixes_from_options(min_class_size=10, merge_small_into="other"))
    with pytest.raises(FixRefused, match="merge the small classes instead of dropping them"):
        apply_fixes(table([*[(f"t{i}", "a") for i in range(5)], ("x", "b"), ("y", "b"), ("z", "c"),
                           ("w", "c")]), MAPPING, fixes_from_options(min_class_size=3, drop_small=True))
    with pytest.raises(FixRefused, match="Fix it: drop fewer classes"):
        apply_fixes(t, MAPPING, fixes_from_options(drop_classes=["a", "b"]))


def test_numbers_are_spellings_of_one_label_only_when_equal_as_written() -> None:
    from engine.data.labels import spelling_key

    assert spelling_key("1.0") == spelling_key("1") and spelling_key("2.50") == spelling_key("2.5")
    for a, b in (("1234567", "1234568"), ("007", "7"), ("1_000", "1000"), ("0.1234567", "0.1234568")):
        assert spelling_key(a) != spelling_key(b), (a, b)


def test_hidden_characters_and_the_turkish_dotless_i_are_spellings_of_one_label() -> None:
    from engine.data.labels import label_variants, spelling_key

    # Each looked like "Beschwerde" or "Lob" in every list, and trained as a class of its own.
    for hidden in ("\ufeffBeschwerde", "Be\u00adschwerde", "Beschwerde\u200b", "Besch\u2060werde"):
        assert spelling_key(hidden) == spelling_key("Beschwerde"), repr(hidden)
    assert spelling_key("KISITLAMA") == spelling_key("Kısıtlama")
    groups = label_variants({"Lob": 30, "Lob\u200b": 4, "Frage": 20})
    assert groups == [["Lob", "Lob\u200b"]]


def test_multi_label_counts_a_label_once_per_row_as_training_reads_it() -> None:
    from engine.data.labels import label_counts

    labels = pa.chunked_array([pa.array(["a|a", "a|b"]), pa.array(["b| c |b", None, ""])])
    assert label_counts(labels, label_delimiter="|") == {"a": 2, "b": 2, "c": 1}


def test_multi_label_spellings_are_said_and_merged_label_by_label() -> None:
    """'billing; tech', 'Billing;tech ' and 'TECH' were never warned of under a delimiter, and
    --merge-label-variants was refused there with the fixes that drop whole rows."""
    from engine.data.fix_suggest import suggest_fixes
    from engine.data.fixes import MergeLabelVariants

    rows = [*[(f"t{i}", "billing; tech") for i in range(6)], *[(f"u{i}", "Billing;tech ") for i in range(2)],
            *[(f"v{i}", "tech") for i in range(5)], ("w0", "TECH"), ("w1", "refund;TECH;tech"),
            *[(f"x{i}", "refund") for i in range(4)]]
    t = table(rows)
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING,
                        label_delimiter=";")
    said = [p.message for p in problems if p.code == "label-variants"]
    assert len(said) == 2 and any("'Billing'" in m and "'billing'" in m for m in said)
    assert any("'TECH'" in m for m in said)
    options = {o.label: o for o in suggest_fixes(t, MAPPING, problems, label_delimiter=";")}
    merge = options["Merge labels that differ only in how they are written"]
    assert merge.fix == MergeLabelVariants(";") and merge.rows_changed == 4
    assert not any(o.fix.kind in ("small-classes", "resolve-conflicts") for o in options.values())
    fixed, report = apply_fixes(t, MAPPING, [merge.fix])
    labels = [label for _, label in rows_of(fixed)]
    assert labels[6:8] == ["billing;tech"] * 2  # respelled, the row's other label kept
    assert labels[0] == "billing; tech"  # already the plain spelling: the cell as it was
    assert labels[13:15] == ["tech", "refund;tech"]  # 'TECH' alone; 'TECH;tech' is one label
    assert report.steps[0].rows_changed == 4 and "other labels kept" in report.steps[0].description
    wide = t.cast(pa.schema([("text", pa.large_string()), ("label", pa.large_string())]))
    fixed_wide, _ = apply_fixes(wide, MAPPING, [merge.fix])  # Arrow's 64-bit strings too
    assert [label for _, label in rows_of(fixed_wide)] == labels


def test_multi_label_rows_with_the_same_labels_in_another_order_are_repeats() -> None:
    """'billing|refund' and 'refund | billing' are one set of labels: the row repeats the other,
    and --drop-duplicates drops it. It was said as a conflict that no fix could clear (resolving
    conflicts is refused under a delimiter, and dropping repeats compared the cells as written)."""
    from engine.data.fix_suggest import suggest_fixes

    rows = [("late refund", "billing|refund"), ("late refund", "refund | billing"),
            ("broken screen", "tech"), ("broken screen", "tech|billing"), *BASE]
    t = table(rows)
    problems = validate(ImportedTable(table=t, source=Path("x.csv"), format="csv"), MAPPING,
                        label_delimiter="|")
    rows_of_code = {code: [p.row for p in problems if p.code == code]
                    for code in ("duplicate-row", "conflicting-labels")}
    assert rows_of_code["duplicate-row"] == [2]  # rows count from 1: the second is the repeat
    assert rows_of_code["conflicting-labels"] == [4]  # 'tech' and 'tech|billing' do differ
    options = {o.label: o for o in suggest_fixes(t, MAPPING, problems, label_delimiter="|")}
    assert options["Drop repeated rows"].fix == DropDuplicates("|")
    assert options["Drop repeated rows"].rows_removed == 1
    (fix,) = fixes_from_options(drop_duplicates=True, label_delimiter="|")
    fixed, report = apply_fixes(t, MAPPING, [fix])
    assert rows_of(fixed)[:3] == rows[:1] + rows[2:4] and report.steps[0].rows_removed == 1
    # Single-label data keeps comparing the cells as written: two different classes.
    assert apply_fixes(t, MAPPING, [DropDuplicates()])[1].steps[0].rows_removed == 0
