"""Evaluation metrics: hand-worked examples and brute-force definitions under hypothesis."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.evaluation.report import (
    EvaluationReport,
    binary_roc_auc,
    compute_report,
    expected_calibration_error,
)

LABELS = ("cat", "dog", "eel")


def _one_hot_probs(predicted: list[int], k: int, confidence: float = 0.8) -> np.ndarray:
    probs = np.full((len(predicted), k), (1 - confidence) / (k - 1))
    probs[np.arange(len(predicted)), predicted] = confidence
    return probs


def test_hand_worked_three_class_example() -> None:
    # truth:     cat cat cat dog dog eel
    # predicted: cat cat dog dog eel eel
    truth = [0, 0, 0, 1, 1, 2]
    probs = _one_hot_probs([0, 0, 1, 1, 2, 2], 3)
    report = compute_report(truth, probs, LABELS, [f"t{i}" for i in range(6)])

    assert report.n == 6
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.confusion == ((2, 1, 0), (0, 1, 1), (0, 0, 1))
    cat, dog, eel = report.per_class
    assert (cat.precision, cat.recall, cat.support) == (pytest.approx(1.0), pytest.approx(2 / 3), 3)
    assert (dog.precision, dog.recall) == (pytest.approx(0.5), pytest.approx(0.5))
    assert (eel.precision, eel.recall) == (pytest.approx(0.5), pytest.approx(1.0))
    assert cat.f1 == pytest.approx(0.8)
    assert eel.f1 == pytest.approx(2 / 3)
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert report.weighted_f1 == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3 * 1) / 6)
    # One class against the rest, each by the pairwise definition, then their plain mean:
    # cat 7.5 of 9 pairs ordered right (ties count half), dog 5 of 8, eel 4.5 of 5.
    assert report.roc_auc == pytest.approx((7.5 / 9 + 5 / 8 + 4.5 / 5) / 3)
    # Every row has confidence 0.8 (one bin); accuracy 4/6 -> ECE = |0.8 - 2/3|.
    assert report.ece == pytest.approx(0.8 - 4 / 6)
    assert [(m.row, m.text, m.true_label, m.predicted_label) for m in report.misclassified] == [
        (2, "t2", "cat", "dog"),
        (4, "t4", "dog", "eel"),
    ]


def test_misclassified_most_confident_first_and_capped() -> None:
    truth = [0, 0, 0, 1]
    probs = np.array([[0.4, 0.6], [0.1, 0.9], [0.3, 0.7], [0.2, 0.8]])
    report = compute_report(truth, probs, ("a", "b"), max_misclassified=2)
    assert [m.row for m in report.misclassified] == [1, 2]
    assert report.misclassified[0].confidence == pytest.approx(0.9)
    assert report.misclassified[0].text is None


def test_macro_f1_ignores_labels_absent_from_truth_and_predictions() -> None:
    report = compute_report([0, 1], _one_hot_probs([0, 1], 3), LABELS)
    assert report.macro_f1 == pytest.approx(1.0)
    assert report.per_class[2].support == 0


def test_binary_report_has_roc_auc() -> None:
    truth = [0, 0, 1, 1]
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    report = compute_report(truth, probs, ("neg", "pos"))
    # Positive scores 0.35, 0.8 vs negative 0.1, 0.4: 3 of 4 pairs ordered right.
    assert report.roc_auc == pytest.approx(0.75)
    assert "roc_auc" in report.headline()


def test_binary_with_one_class_only_has_no_roc_auc() -> None:
    report = compute_report([1, 1], np.array([[0.3, 0.7], [0.6, 0.4]]), ("neg", "pos"))
    assert report.roc_auc is None
    assert "roc_auc" not in report.headline()


def _brute_auc(positive: list[bool], scores: list[float]) -> float:
    pairs = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(
            [s for s, y in zip(scores, positive) if y], [s for s, y in zip(scores, positive) if not y]
        )
    ]
    return sum(pairs) / len(pairs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0])), min_size=2, max_size=30))
def test_roc_auc_equals_pairwise_definition(rows: list[tuple[bool, float]]) -> None:
    positive = [y for y, _ in rows]
    if all(positive) or not any(positive):
        return
    scores = [s for _, s in rows]
    assert binary_roc_auc(np.array(positive), np.array(scores)) == pytest.approx(_brute_auc(positive, scores))


def _brute_ece(confidence: list[float], correct: list[bool], bins: int = 15) -> float:
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if (low < c <= high) or (b == 0 and c == 0.0)]
        if members:
            acc = sum(correct[i] for i in members) / len(members)
            conf = sum(confidence[i] for i in members) / len(members)
            total += len(members) / len(confidence) * abs(acc - conf)
    return total


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=40))
def test_ece_equals_binned_definition(rows: list[tuple[float, bool]]) -> None:
    confidence = [c for c, _ in rows]
    correct = [y for _, y in rows]
    # Float rounding can move a value sitting exactly on a bin edge; the definitions agree
    # away from edges, which is what this property checks.
    if any(abs(c * 15 - round(c * 15)) < 1e-9 and 0 < c < 1 for c in confidence):
        return
    got = expected_calibration_error(np.array(confidence), np.array(correct))
    assert got == pytest.approx(_brute_ece(confidence, correct), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_single_label_invariants(data: st.DataObject) -> None:
    k = data.draw(st.integers(2, 5))
    n = data.draw(st.integers(1, 40))
    truth = data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    raw = np.array(data.draw(st.lists(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k), min_size=n, max_size=n)))
    probs = raw / raw.sum(axis=1, keepdims=True)
    labels = [f"l{i}" for i in range(k)]
    report = compute_report(truth, probs, labels)
    confusion = np.array(report.confusion)
    predicted = probs.argmax(axis=1)
    assert confusion.sum() == n
    assert list(confusion.sum(axis=1)) == [truth.count(i) for i in range(k)]
    assert report.accuracy == pytest.approx(np.mean(predicted == np.array(truth)))
    assert len(report.misclassified) == int((predicted != np.array(truth)).sum())
    assert 0.0 <= report.macro_f1 <= 1.0 and 0.0 <= report.ece <= 1.0
    for metrics, label_id in zip(report.per_class, range(k)):
        tp = int(((predicted == label_id) & (np.array(truth) == label_id)).sum())
        fp = int(((predicted == label_id) & (np.array(truth) != label_id)).sum())
        fn = int(((predicted != label_id) & (np.array(truth) == label_id)).sum())
        assert metrics.precision == pytest.approx(tp / (tp + fp) if tp + fp else 0.0)
        assert metrics.recall == pytest.approx(tp / (tp + fn) if tp + fn else 0.0)


def test_multi_label_report() -> None:
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    probs = np.array([[0.9, 0.2, 0.7], [0.1, 0.8, 0.6], [0.7, 0.3, 0.1]])
    report = compute_report(truth, probs, LABELS, ["a", "b", "c"], multi_label=True)
    assert report.multi_label and report.confusion == ()
    assert report.accuracy == pytest.approx(1 / 3)  # exact match on row 0 only
    cat, dog, eel = report.per_class
    assert (cat.precision, cat.recall, cat.support) == (1.0, 1.0, 2)
    assert (dog.precision, dog.recall) == (pytest.approx(1.0), pytest.approx(0.5))
    assert (eel.precision, eel.recall) == (pytest.approx(0.5), pytest.approx(1.0))
    assert report.roc_auc == pytest.approx(1.0)  # every label's scores rank its rows first
    wrong = {m.row: m for m in report.misclassified}
    assert set(wrong) == {1, 2}
    assert (wrong[1].true_label, wrong[1].predicted_label) == ("dog", "dog|eel")
    assert (wrong[2].true_label, wrong[2].predicted_label) == ("cat|dog", "cat")
    # Written as the data writes a row's labels (a label may hold a '|' under ';').
    semi = compute_report(truth, probs, LABELS, ["a", "b", "c"], multi_label=True, label_delimiter=";")
    assert {m.row: (m.true_label, m.predicted_label) for m in semi.misclassified} == {
        1: ("dog", "dog;eel"), 2: ("cat;dog", "cat")}


def test_report_round_trips_through_json() -> None:
    truth = [0, 1, 1, 0, 1]
    probs = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.55, 0.45], [0.1, 0.9]])
    report = compute_report(truth, probs, ("no", "yes"), ["a", "b", "c", "d", "e"])
    again = EvaluationReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


def test_newer_report_format_is_refused_clearly() -> None:
    report = compute_report([0, 1], np.eye(2), ("a", "b"))
    data = report.to_dict() | {"version": 99}
    with pytest.raises(InputError, match="newer Cloister"):
        EvaluationReport.from_dict(data)


def test_a_report_says_its_format_and_one_of_format_1_is_still_read() -> None:
    # A report with each class's "predicted" count, still marked 1, made older Cloisters fail
    # with a TypeError instead of saying the report is newer than they are.
    report = compute_report([0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), ("a", "b"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["version"] == 2 and "predicted" in data["per_class"][0]
    for entry in data["per_class"]:
        del entry["predicted"]
    old = EvaluationReport.from_dict(data | {"version": 1})
    assert old.per_class[0].support == report.per_class[0].support


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        compute_report([0], np.ones((1, 2)) / 2, LABELS)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        compute_report([0, 2], np.eye(2), ("a", "b"))
    with pytest.raises(InputError, match="no rows"):
        compute_report([], np.zeros((0, 2)), ("a", "b"))


# -- evaluate_run on a real (tiny) trained run --------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    from tests.engine.test_prediction import train_tiny_run

    return train_tiny_run(tmp_path_factory.mktemp("eval-run"))


def test_evaluate_run_reproduces_the_training_report(trained) -> None:
    from engine.evaluation.evaluate import evaluate_run
    from engine.evaluation.report import load_report

    ws, run_id, _ = trained
    stored = load_report(ws, run_id)
    again = evaluate_run(ws, run_id, device="cpu")
    assert again.n == stored.n == 4  # 10% of 40 rows: the same held-out rows as training
    assert again.confusion == stored.confusion
    assert again.accuracy == pytest.approx(stored.accuracy)
    assert [m.text for m in again.misclassified] == [m.text for m in stored.misclassified]


@pytest.mark.parametrize("refusal", [(30, "Read-only file system"), (28, "No space left on device")])
def test_a_workspace_that_cannot_be_written_is_still_scored(trained, monkeypatch, caplog,
                                                            refusal) -> None:
    # `cloister evaluate RUN` stores the report of the run's own split again; on a workspace
    # on read-only media (or a full disk) that write failed the command, and nothing was shown.
    import logging

    from engine.evaluation.evaluate import evaluate_run
    from engine.evaluation.report import load_report
    from privacy.vault.workspace import Workspace

    ws, run_id, _ = trained
    stored = load_report(ws, run_id)

    def refused(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(refusal[0], refusal[1], str(ws.root / ".lock"))

    monkeypatch.setattr(Workspace, "write_json", refused)
    with caplog.at_level(logging.WARNING):
        again = evaluate_run(ws, run_id, device="cpu")
    assert again.n == stored.n and again.confusion == stored.confusion
    assert f"the report was not stored again ({refusal[1]})" in caplog.text
    monkeypatch.undo()
    assert load_report(ws, run_id).confusion == stored.confusion  # the stored one is intact


def test_evaluate_run_on_another_dataset_and_on_bad_files(trained, tmp_path) -> None:
    from engine.data.columns import infer_mapping
    from engine.evaluation.evaluate import evaluate_run
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from tests.engine.test_prediction import write_sms_csv

    ws, run_id, _ = trained
    other = write_sms_csv(tmp_path / "other.csv", rows=12, extra="again")
    imported = read_table(other)
    save_dataset(ws, "other", imported, infer_mapping(imported))
    report = evaluate_run(ws, run_id, data="other", device="cpu")
    assert report.n == 12 and sum(m.support for m in report.per_class) == 12

    unlabelled = tmp_path / "gaps.csv"
    unlabelled.write_text("text,label\nfree cash,spam\nhello,\nwin now,spam\nlunch,\n")
    with pytest.raises(InputError, match=r"gaps.csv.*rows 2, 4 have no label"):
        evaluate_run(ws, run_id, data=unlabelled)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("message,category\nfree cash,spam\nhello,ham\nwin,junk\nlunch,ham\n")
    with pytest.raises(InputError, match=r"renamed.csv.*'junk'.*The model knows 'ham', 'spam'"):
        evaluate_run(ws, run_id, data=renamed, text_column="message", label_column="category")


def test_rows_of_a_file_that_cannot_be_read_are_said_not_to_be_scored(trained, tmp_path, monkeypatch,
                                                                      capsys) -> None:
    # "19 rows" was scored out of 21 with no word of the 2 whose fields did not match the header.
    from engine.evaluation.evaluate import evaluate_run

    ws, run_id, _ = trained
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,label\nfree cash,spam\nhello there,ham\nwin, now,spam\n"
                      "lunch at noon,ham\n", encoding="utf-8")
    report = evaluate_run(ws, run_id, data=ragged, device="cpu")
    assert report.n == 3 and report.rows_not_read == 1
    assert report.rows_not_read_text.startswith(
        "1 row of ragged.csv could not be read (line 4 has 3 fields where the header has 2). Quote")
    from engine.cli import main
    from tests.engine.tiny_model import TEST_PASSPHRASE

    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    code = main(["evaluate", run_id, "--data", str(ragged), "--workspace", str(ws.root)])
    err = capsys.readouterr().err
    assert code == 0 and "warning: 1 row of ragged.csv could not be read" in err
    assert "They were not scored." in err
    # Mistakes past the skipped row would be a row off the file's numbers: said so.
    flipped = tmp_path / "flipped.csv"
    flipped.write_text("text,label\nfree cash,ham\nhello there,spam\nwin, now,spam\n"
                       "lunch at noon,spam\n", encoding="utf-8")
    code = main(["evaluate", run_id, "--data", str(flipped), "--misclassified", "5",
                 "--workspace", str(ws.root)])
    out = capsys.readouterr().out
    assert code == 0 and "  row " in out  # the flipped labels are mistakes
    assert "(rows are numbered among the 3 rows read, not counting the 1 that could not be)" in out
    whole = tmp_path / "whole.csv"
    whole.write_text("text,label\nfree cash,spam\nhello there,ham\n", encoding="utf-8")
    again = evaluate_run(ws, run_id, data=whole, device="cpu")
    assert again.rows_not_read == 0 and again.rows_not_read_text == ""


def test_a_stored_dataset_named_like_a_file_and_a_cancelled_scoring(trained, tmp_path,
                                                                    monkeypatch) -> None:
    """``dataset=`` reads the vault's dataset even where a file of that name is in the working
    folder (``data=`` reads the file, as the command line means it); a cancel token set stops
    the scoring with ``Stopped``."""
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.errors import Stopped
    from engine.evaluation.evaluate import evaluate_run
    from engine.events import CancelToken
    from tests.engine.test_prediction import write_sms_csv

    ws, run_id, _ = trained
    imported = read_table(write_sms_csv(tmp_path / "source.csv", rows=10, extra="vault"))
    save_dataset(ws, "january", imported, infer_mapping(imported))
    monkeypatch.chdir(tmp_path)
    write_sms_csv(tmp_path / "january", rows=6, extra="file")  # a file named like the dataset
    assert evaluate_run(ws, run_id, dataset="january", device="cpu").n == 10
    assert evaluate_run(ws, run_id, data="january", device="cpu").n == 6
    stop = CancelToken()
    stop.cancel()
    with pytest.raises(Stopped):
        evaluate_run(ws, run_id, cancel=stop, device="cpu")


def test_multi_label_truth_encoding() -> None:
    from engine.evaluation.evaluate import _encode_truth

    truth = _encode_truth(["a|b", "b", " c | a "], ("a", "b", "c"), "f.csv", multi_label=True, delimiter="|")
    assert truth.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    with pytest.raises(InputError, match=r"f.csv has labels the model was not trained on: 'd'"):
        _encode_truth(["a|d"], ("a", "b"), "f.csv", multi_label=True, delimiter="|")


def test_accuracy_interval_is_the_wilson_score_interval() -> None:
    from engine.evaluation.metrics import accuracy_interval, accuracy_interval_text

    z = 1.96
    # None right out of 10: the upper bound is z²/(n + z²), and the interval starts at 0.
    low, high = accuracy_interval(0.0, 10)
    assert low == 0.0 and high == pytest.approx(z * z / (10 + z * z))
    for accuracy, n in [(0.9, 1000), (0.9171, 1000), (0.5, 40), (0.97, 120), (1.0, 36)]:
        low, high = accuracy_interval(accuracy, n)
        assert 0.0 <= low <= accuracy <= high <= 1.0
        # Each bound is a p at which the measured accuracy is exactly z standard errors away.
        for bound in (low, high):
            if 0.0 < bound < 1.0:
                assert (accuracy - bound) ** 2 == pytest.approx(z * z * bound * (1 - bound) / n)
        mirrored = accuracy_interval(1 - accuracy, n)  # symmetric in right and wrong
        assert mirrored == pytest.approx((1 - high, 1 - low))
    # A tenth of 10,001 rows measures 0.917 to about ±1.7 points, ten times as many to ±0.5.
    small, large = accuracy_interval(0.917, 1000), accuracy_interval(0.917, 10_000)
    assert 0.015 < (small[1] - small[0]) / 2 < 0.019 and (large[1] - large[0]) < (small[1] - small[0]) / 3
    assert accuracy_interval_text(0.9, 1000) == "95% interval {:.4f}-{:.4f}".format(*accuracy_interval(0.9, 1000))
    assert accuracy_interval(0.5, 0) == (0.0, 1.0)  # nothing measured: nothing known


def test_intervals_overlap_only_when_the_splits_cannot_tell_runs_apart() -> None:
    from engine.evaluation.metrics import accuracy_interval, intervals_overlap

    # AG News seeds 13 and 16: 0.917 and 0.890 cannot be told apart on ~1,000 test rows each;
    # on 10,000 each they could.
    assert intervals_overlap(0.9171, 1000, 0.8901, 1000)
    assert not intervals_overlap(0.9171, 10_000, 0.8901, 10_000)
    assert intervals_overlap(0.9, 4, 0.5, 4)  # four rows say almost nothing
    assert intervals_overlap(0.8, 1000, 0.9, 1000) == intervals_overlap(0.9, 1000, 0.8, 1000)
    a, b = accuracy_interval(0.86, 2000), accuracy_interval(0.90, 2000)
    assert intervals_overlap(0.86, 2000, 0.90, 2000) == (a[1] >= b[0])


def test_grouped_rows_are_worth_fewer_independent_rows() -> None:
    from engine.evaluation.metrics import grouped_effective_rows

    rng = np.random.default_rng(0)
    correct = rng.random(1000) < 0.9
    # One row per person: as good as independent rows (n - 1 from the G/(G-1) correction).
    assert grouped_effective_rows(correct, np.arange(1000)) == pytest.approx(999)
    # 100 people of 10 rows each, every person's rows all right or all wrong: worth one row each.
    whole = np.repeat(rng.random(100) < 0.9, 10)
    assert grouped_effective_rows(whole, np.repeat(np.arange(100), 10)) == pytest.approx(99)
    # Hand-worked: groups a (1, 1), b (0, 0), c (1): p = 0.6, group residuals 0.8, -1.2, 0.4,
    # variance 3/2 * 2.24 / 25 = 0.1344, effective rows 0.24 / 0.1344 = 1.786.
    assert grouped_effective_rows(np.array([1, 1, 0, 0, 1]), np.array(list("aabbc"))) == \
        pytest.approx(0.24 / 0.1344)
    assert grouped_effective_rows(correct[:5], np.zeros(5)) == 1.0  # one person: one row's worth
    # Never more than the rows themselves; all right (or all wrong) counts the people, not the
    # rows: 3 people of 100 right rows each say little about a fourth person.
    assert grouped_effective_rows(np.ones(300), np.arange(300) % 3) == 3
    assert grouped_effective_rows(np.zeros(40), np.arange(40)) == 40
    assert grouped_effective_rows(np.array([1, 0, 1, 0]), np.array([0, 0, 1, 1])) <= 4


def test_grouped_interval_covers_the_truth_where_the_row_interval_does_not() -> None:
    """People differ in how hard their texts are, so rows of one person share their fate: the
    interval on effective rows covers the true accuracy about 95% of the time, the interval
    that treats every row as independent much less often."""
    from engine.evaluation.metrics import accuracy_interval, grouped_effective_rows

    rng = np.random.default_rng(7)
    people, rows_each, trials = 60, 10, 400
    groups = np.repeat(np.arange(people), rows_each)
    covered_grouped = covered_rows = 0
    for _ in range(trials):
        ability = rng.beta(3.0, 1.0, size=people)  # each person's chance of a right answer
        correct = rng.random(people * rows_each) < np.repeat(ability, rows_each)
        truth, accuracy = 0.75, correct.mean()  # the mean of Beta(3, 1)
        low, high = accuracy_interval(accuracy, grouped_effective_rows(correct, groups))
        covered_grouped += low <= truth <= high
        low, high = accuracy_interval(accuracy, correct.size)
        covered_rows += low <= truth <= high
    assert covered_grouped / trials >= 0.90
    assert covered_rows / trials <= 0.75


def test_a_report_on_grouped_rows_counts_people_and_widens_its_interval() -> None:
    from engine.evaluation.metrics import accuracy_interval

    truth = [0, 1] * 10
    probs = _one_hot_probs([0, 1] * 8 + [1, 0, 1, 0], 3)[:, :2] / 0.9
    people = [f"p{i // 4}" for i in range(20)]  # five people of four rows; the last one all wrong
    plain = compute_report(truth, probs, ("no", "yes"))
    grouped = compute_report(truth, probs, ("no", "yes"), groups=people)
    assert (plain.people, plain.effective_rows, plain.interval_rows) == (None, None, 20)
    assert grouped.people == 5 and grouped.accuracy == plain.accuracy == 0.8
    assert 1 <= grouped.interval_rows < 20
    assert grouped.interval_text().startswith("95% interval")
    assert "20 rows from 5 people, worth about" in grouped.interval_text()
    low, high = accuracy_interval(0.8, grouped.interval_rows)
    plain_low, plain_high = accuracy_interval(0.8, 20)
    assert low < plain_low and high > plain_high  # wider: fewer independent rows
    assert grouped.interval_text().startswith(f"95% interval {low:.4f}-{high:.4f}, for 20 rows")
    assert EvaluationReport.from_dict(json.loads(json.dumps(grouped.to_dict()))) == grouped
    with pytest.raises(ValueError, match="3 group ids for 20 rows"):
        compute_report(truth, probs, ("no", "yes"), groups=people[:3])
    # Multi-label: a row is right when every label is.
    multi = compute_report(np.array([[1, 0], [0, 1], [1, 1], [0, 0]]),
                           np.array([[0.9, 0.1], [0.2, 0.8], [0.9, 0.1], [0.1, 0.1]]), ("a", "b"),
                           multi_label=True, groups=["x", "x", "y", "y"])
    assert multi.people == 2 and multi.accuracy == 0.75 and multi.interval_rows <= 4


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_multi_class_roc_auc_matches_scikit_learn(seed: int) -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 6))
    truth = np.concatenate([np.arange(k), rng.integers(0, k, size=int(rng.integers(5, 40)))])
    probs = rng.dirichlet(np.ones(k), size=truth.size).round(2)  # rounded: ties happen
    probs /= probs.sum(axis=1, keepdims=True)
    report = compute_report(truth.tolist(), probs, tuple(f"c{i}" for i in range(k)))
    assert report.roc_auc == pytest.approx(roc_auc_score(truth, probs, multi_class="ovr"))


def test_a_class_missing_from_the_test_rows_is_left_out_of_the_mean() -> None:
    truth = [0, 0, 1, 1]  # no eel among the test rows: it has no AUC of its own
    probs = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    report = compute_report(truth, probs, LABELS)
    cat = binary_roc_auc(np.array([1, 1, 0, 0], dtype=bool), probs[:, 0])
    dog = binary_roc_auc(np.array([0, 0, 1, 1], dtype=bool), probs[:, 1])
    assert report.roc_auc == pytest.approx((cat + dog) / 2) and cat == dog == 1.0
    assert compute_report([0, 0], probs[:2], LABELS).roc_auc is None  # no class has both
