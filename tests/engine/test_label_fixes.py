"""A run keeps what its dataset's fixes did to labels, composed in order: other data is then
read as the model was trained ('Student loan' scored as 'other', not refused)."""
from __future__ import annotations

from engine.data.label_fixes import DROPPED, label_fixes
from tests.engine.tiny_model import tiny_bert  # noqa: F401


def test_merges_and_drops_compose_in_order() -> None:
    history = [
        {"kind": "drop-empty", "rows_removed": 3},
        {"kind": "merge-label-variants", "details": {"merged": {"billing": ["Billing", "BILLING "]}}},
        {"kind": "small-classes", "details": {"classes": ["Student loan", "Vehicle loan"], "into": "other",
                                              "min_size": 10}},
        {"kind": "drop-classes", "details": {"classes": ["spam"]}},
    ]
    assert label_fixes(history) == {"Billing": "billing", "BILLING ": "billing",
                                    "Student loan": "other", "Vehicle loan": "other", "spam": DROPPED}


def test_a_label_merged_into_one_dropped_later_is_dropped_and_merges_chain() -> None:
    history = [
        {"kind": "small-classes", "details": {"classes": ["a", "b"], "into": "other"}},
        {"kind": "merge-label-variants", "details": {"merged": {"Other": ["other"]}}},
        {"kind": "small-classes", "details": {"classes": ["c"]}},  # --drop-small: no 'into'
        {"kind": "drop-classes", "details": {"classes": ["Other"]}},
    ]
    assert label_fixes(history) == {"a": DROPPED, "b": DROPPED, "other": DROPPED, "c": DROPPED,
                                    "Other": DROPPED}


def test_no_label_fix_gives_an_empty_map() -> None:
    assert label_fixes([{"kind": "drop-duplicates", "rows_removed": 38}, {"kind": "cap-long"}]) == {}


def test_the_source_file_is_scored_as_the_fixes_made_its_labels(tmp_path, monkeypatch, tiny_bert, capsys) -> None:  # noqa: F811
    """Imported with small classes merged into 'other' and a class dropped, the CFPB walk-through
    scored on its own source file was refused ("labels the model was not trained on") and told
    to edit the file by hand. The run keeps its fixes: the file's rows read as the dataset's
    rows, the figures equal the stored dataset's, and the dropped class's rows are said and
    left out."""
    import csv
    import json

    from engine.cli import main as cli

    monkeypatch.setenv("CLOISTER_PASSPHRASE", "label fixes walk")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    rows = ([(f"the parcel {i} arrived broken", "damage") for i in range(30)]
            + [(f"please refund order {i} now", "refund") for i in range(30)]
            + [(f"where is my student loan form {i}", "Student loan") for i in range(3)]
            + [(f"car lease payment {i} question", "Vehicle lease") for i in range(4)]
            + [(f"win a free cruise {i} today", "spam") for i in range(6)])
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    assert cli(["import", str(source), "--name", "tickets", "--drop-class", "spam",
                "--min-class-size", "5", "--merge-small-into", "other"]) == 0
    assert cli(["train", "tickets", "--model", str(tiny_bert), "--epochs", "1", "--batch-size", "8",
                "--max-length", "32", "--json"]) == 0
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["label_fixes"] == {"Student loan": "other", "Vehicle lease": "other", "spam": ""}
    assert cli(["evaluate", run["run_id"], "--data", str(source)]) == 0
    assert ("labels read as the run's dataset's fixes made them: 'Student loan' as 'other', "
            "'Vehicle lease' as 'other'; 6 rows of labels they left out ('spam') not scored"
            ) in capsys.readouterr().err
    assert cli(["evaluate", run["run_id"], "--data", str(source), "--json"]) == 0
    on_file = json.loads(capsys.readouterr().out)
    assert on_file["labels_fixed_as"] == [["Student loan", "other"], ["Vehicle lease", "other"], ["spam", ""]]
    assert cli(["evaluate", run["run_id"], "--data", "tickets", "--json"]) == 0
    on_dataset = json.loads(capsys.readouterr().out)
    assert on_file["n"] == on_dataset["n"] == 67 and on_file["rows_of_dropped_labels"] == 6
    for key in ("accuracy", "macro_f1", "confusion", "per_class"):
        assert on_file[key] == on_dataset[key], key
    # Mistakes keep the file's own row numbers, the dropped rows counted.
    by_text = {text: number for number, (text, _) in enumerate(rows, start=1)}
    assert all(by_text[m["text"]] == m["row"] for m in on_file["misclassified"])
    # A file of only the dropped class has nothing to score: said, not a division by zero.
    only_spam = tmp_path / "spam.csv"
    with only_spam.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows[-6:]])
    assert cli(["evaluate", run["run_id"], "--data", str(only_spam)]) != 0
    assert "every row's label is one the run's dataset left out ('spam')" in capsys.readouterr().err
