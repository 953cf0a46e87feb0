"""``evaluate`` on other labelled data as users' files hold it: rows with no text are left out
and named, labels written otherwise are read as the model's, and the header is the user's to
say (split from test_evaluation.py, which keeps the metrics themselves)."""
from __future__ import annotations

import pytest

from engine.errors import InputError
from tests.engine.test_evaluation import trained  # noqa: F401 - the module's trained run


def test_rows_without_text_are_not_scored_and_said(trained, tmp_path, monkeypatch, capsys) -> None:
    # They were scored: the model's answer to no text counted as a hit or a mistake, and the
    # mistakes listed showed nothing.
    from engine.cli import main
    from engine.evaluation.evaluate import evaluate_run
    from tests.engine.tiny_model import TEST_PASSPHRASE

    ws, run_id, _ = trained
    rows = ["free cash,spam", "hello there,ham", ",spam", "win a prize now,spam", "  ,ham",
            "lunch at noon,ham"]
    holes = tmp_path / "holes.csv"
    holes.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = evaluate_run(ws, run_id, data=holes, device="cpu")
    assert report.n == 4 and sum(m.support for m in report.per_class) == 4
    assert report.rows_without_text == (3, 5)
    assert report.rows_without_text_text() == "2 rows have no text (rows 3, 5): not scored"
    assert all(m.text.strip() for m in report.misclassified)
    flipped = tmp_path / "flipped.csv"  # every label wrong: each mistake keeps its file row
    flipped.write_text("text,label\nfree cash,ham\n,ham\nhello there,spam\n", encoding="utf-8")
    wrong = evaluate_run(ws, run_id, data=flipped, device="cpu")
    texts = {"free cash": 0, "hello there": 2}
    assert wrong.misclassified and all(m.row == texts[m.text] for m in wrong.misclassified)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    code = main(["evaluate", run_id, "--data", str(holes), "--workspace", str(ws.root)])
    captured = capsys.readouterr()
    assert code == 0 and "on " + str(holes) + ": 4 rows" in captured.out
    assert "warning: 2 rows have no text (rows 3, 5): not scored" in captured.err
    blank = tmp_path / "blank.csv"
    blank.write_text("text,label\n,spam\n ,ham\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"blank.csv.*no row has any text to score"):
        evaluate_run(ws, run_id, data=blank, device="cpu")


def test_labels_written_otherwise_are_read_as_the_models(trained, tmp_path, monkeypatch,
                                                        capsys) -> None:
    # 'SPAM' or 'Ham ' (and '1.0' for '1') were refused as labels the model never saw, with no
    # way round it short of editing the file; import already reads them as one label.
    from engine.cli import main
    from engine.evaluation.evaluate import evaluate_run
    from tests.engine.tiny_model import TEST_PASSPHRASE

    ws, run_id, _ = trained
    cased = tmp_path / "cased.csv"
    cased.write_text("text,label\nfree cash,SPAM\nhello there,Ham \nwin a prize now,spam\n"
                     "lunch at noon,ham\n", encoding="utf-8")
    report = evaluate_run(ws, run_id, data=cased, device="cpu")
    assert report.n == 4 and {m.label: m.support for m in report.per_class} == {"ham": 2, "spam": 2}
    assert report.labels_read_as == (("Ham", "ham"), ("SPAM", "spam"))
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    assert main(["evaluate", run_id, "--data", str(cased), "--workspace", str(ws.root)]) == 0
    assert ("note: labels read as the model's, written differently: 'Ham' as 'ham', 'SPAM' as "
            "'spam'") in capsys.readouterr().err
    other = tmp_path / "other.csv"  # a label no spelling makes the model's is still refused
    other.write_text("text,label\nfree cash,SPAM\nhello there,hamm\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"other.csv \(column 'label'\) has labels the model was not trained on: 'hamm'\."):
        evaluate_run(ws, run_id, data=other, device="cpu")


def test_evaluate_takes_header_as_import_and_predict_do(trained, tmp_path, monkeypatch, capsys) -> None:
    # inspect, import and predict had --header/--no-header; evaluate refused it outright.
    from engine.cli import main
    from tests.engine.tiny_model import TEST_PASSPHRASE

    ws, run_id, _ = trained
    headless = tmp_path / "headless.csv"  # a first row that reads like names, but is data
    headless.write_text("text,spam\nfree cash now,spam\nhello there,ham\nlunch at noon,ham\n",
                        encoding="utf-8")
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    assert main(["evaluate", run_id, "--data", str(headless), "--no-header", "--text-column",
                 "column_1", "--label-column", "column_2", "--workspace", str(ws.root)]) == 0
    assert f"on {headless}: 4 rows" in capsys.readouterr().out
    assert main(["evaluate", run_id, "--no-header", "--workspace", str(ws.root)]) == 2
    assert "--header/--no-header name the columns" in capsys.readouterr().err


def test_rows_of_the_original_file_count_as_seen_by_a_run_on_its_anonymized_copy(tmp_path) -> None:
    """A run on an anonymized copy has seen pseudonymized texts: evaluated on the original file,
    it counted only the rows without personal data as rows it trained on (15 of 135)."""
    import csv

    from engine.data.anonymize import anonymize_dataset
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.evaluation.overlap import rows_seen_in_training
    from engine.events import Finished
    from engine.runs import load_run
    from engine.training import TrainConfig, train
    from privacy.pii.policy import Policy
    from tests.engine.tiny_model import make_tiny_bert, make_workspace

    people = ["Donald van der Voet", "Kimberly Lauritsen", "Maria Schmidt", "Olu Adeyemi"]
    rows = [(f"{people[i % 4]} called about order {i}, please call back", "ab"[i % 2]) for i in range(40)]
    path = tmp_path / "original.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    ws = make_workspace(tmp_path / "ws")
    imported = read_table(path)
    save_dataset(ws, "calls", imported, infer_mapping(imported))
    anonymize_dataset(ws, "calls", "calls_anon", Policy())
    config = TrainConfig(dataset="calls_anon", model_path=str(make_tiny_bert(tmp_path / "bert")), epochs=1,
                         batch_size=8, max_length=32, learning_rate=1e-3)
    finished = list(train(ws, config))[-1]
    assert isinstance(finished, Finished), finished
    record = load_run(ws, finished.run_id)
    texts = [text for text, _ in rows]
    assert rows_seen_in_training(ws, record, texts) == 36  # all but the 4 test rows
    assert rows_seen_in_training(ws, record, ["a text it never saw"]) == 0
    # Counted as the split's own check counts repeats: case and spacing aside (the Results
    # page said one row more than this count did).
    retyped = [" " + t.replace("please call back", "Please  Call Back") + "\t" for t in texts]
    assert rows_seen_in_training(ws, record, retyped) == 36
