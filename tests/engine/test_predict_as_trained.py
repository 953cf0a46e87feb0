"""A model trained on several text columns reads them all, joined as training joined them, when
it predicts or is evaluated on a file: it was given one of them (the body without its subject),
and `--text-column` could name only one. Found by a walk-through of a model's use (2026-12-07)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main as cli
from engine.events import Finished, Progress
from engine.evaluation.evaluate import evaluate_run
from engine.evaluation.file_prediction import predict_file
from engine.evaluation.prediction import Predictor
from tests.engine.test_prediction import HAM_WORDS, SPAM_WORDS
from tests.engine.tiny_model import TEST_PASSPHRASE, make_tiny_bert, make_workspace


def _rows(n: int) -> list[tuple[str, str, str]]:
    # The subject alone says nothing (both classes share it); the body carries the signal.
    return [(f"ticket {i % 3}", f"{(SPAM_WORDS if i % 2 else HAM_WORDS)[i % 4]} {i}",
             "spam" if i % 2 else "ham") for i in range(n)]


def _write(path: Path, rows, header=("subject", "body", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    from engine.data.columns import ColumnMapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.training import TrainConfig, train

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("two-columns")
    ws = make_workspace(root / "workspace")
    imported = read_table(_write(root / "tickets.csv", _rows(40)))
    save_dataset(ws, "tickets", imported, ColumnMapping.choose(
        imported, text_columns=["subject", "body"], label_column="label", separator=" | "))
    config = TrainConfig(dataset="tickets", model_path=str(make_tiny_bert(root / "tiny-bert")),
                         epochs=2, batch_size=8, max_length=32, learning_rate=1e-3)
    events = list(train(ws, config))
    assert isinstance(events[-1], Finished), events[-1]
    return ws, events[-1].run_id, root


def test_predict_reads_every_training_column_joined_as_in_training(trained, tmp_path: Path) -> None:
    ws, run_id, _ = trained
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    assert predictor.text_columns == ("subject", "body") and predictor.separator == " | "
    rows = [(s, b, "x") for s, b, _ in _rows(6)]
    source = _write(tmp_path / "new.csv", rows, header=("subject", "body", "note"))
    events = list(predict_file(predictor, source, tmp_path / "out.csv"))
    assert isinstance(events[-1], Finished), events[-1]
    first = next(e for e in events if isinstance(e, Progress))
    assert "texts from column 'subject' + 'body'" in first.message
    written = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    got = np.array([[float(r["prob_ham"]), float(r["prob_spam"])] for r in written])
    np.testing.assert_allclose(got, predictor.predict_proba([f"{s} | {b}" for s, b, _ in rows]), atol=1e-5)
    body_alone = predictor.predict_proba([b for _, b, _ in rows])
    assert np.abs(got - body_alone).max() > 1e-6  # what it read before: another answer


def test_evaluate_on_a_file_reads_both_columns(trained, tmp_path: Path) -> None:
    ws, run_id, _ = trained
    rows = _rows(30)
    both = evaluate_run(ws, run_id, data=_write(tmp_path / "labelled.csv", rows))
    joined = _write(tmp_path / "joined.csv", [(f"{s} | {b}", lab) for s, b, lab in rows],
                    header=("text", "label"))
    assert both.headline() == evaluate_run(ws, run_id, data=joined).headline()
    named = evaluate_run(ws, run_id, data=tmp_path / "labelled.csv", text_column=["subject", "body"])
    assert named.headline() == both.headline()


def test_the_cli_takes_several_text_columns(trained, tmp_path: Path, monkeypatch, capsys) -> None:
    ws, run_id, root = trained
    monkeypatch.setenv("CLOISTER_WORKSPACE", str(root / "workspace"))
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    rows = [(s, b, "x") for s, b, _ in _rows(4)]
    source = _write(tmp_path / "renamed.csv", rows, header=("Betreff", "Text", "note"))
    out = tmp_path / "out.csv"
    assert cli(["predict", run_id, "--input", str(source), "--output", str(out),
                "--text-column", "Betreff", "--text-column", "Text", "--device", "cpu"]) == 0
    assert "texts from column 'Betreff' + 'Text'" in capsys.readouterr().err
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    written = list(csv.DictReader(out.open(encoding="utf-8")))
    expected = predictor.predict_proba([f"{s} | {b}" for s, b, _ in rows])
    np.testing.assert_allclose([float(r["prob_spam"]) for r in written], expected[:, 1], atol=1e-5)


def test_a_run_from_before_the_columns_were_recorded_follows_its_dataset_through_a_rename(
        trained) -> None:
    from engine.data.store import rename_dataset
    from engine.runs import load_run, save_run

    ws, run_id, _ = trained
    record = load_run(ws, run_id)
    save_run(ws, record.updated(dataset_columns=None))
    try:
        rename_dataset(ws, "tickets", "tickets-2026")
        predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
        assert predictor.text_columns == ("subject", "body") and predictor.separator == " | "
    finally:
        rename_dataset(ws, "tickets-2026", "tickets")
        save_run(ws, record)


def test_the_model_card_says_how_a_text_was_made_and_the_threshold(trained, tmp_path: Path) -> None:
    from engine.export.exporters import export_run
    from engine.export.model_card import DataSummary, ModelCardInfo, PrivacySummary, render_model_card

    ws, run_id, _ = trained
    card = (export_run(ws, run_id, tmp_path / "export", plaintext=True) / "README.md").read_text()
    assert ('Each text it read was the columns `subject` and `body` of its training data, in that '
            'order, joined by " | "') in card
    assert "A label is predicted when" not in card  # single-label: the likeliest label
    multi = render_model_card(ModelCardInfo(
        run_id="r", base_model="b", labels=("a", "b"), data=DataSummary("d", None),
        hyperparameters={}, privacy=PrivacySummary(), multi_label=True, text_columns=("text",)))
    assert "A label is predicted when its probability is 0.5 or more" in multi
    assert "Each text it read was the columns" not in multi  # one column: nothing to join


def test_the_card_lists_each_label_on_one_line_and_whole_whatever_it_holds() -> None:
    """A label with a line break split the card's sentence; one with a backtick ended its code
    span early."""
    from engine.export.model_card import DataSummary, ModelCardInfo, PrivacySummary, render_model_card

    card = render_model_card(ModelCardInfo(
        run_id="r", base_model="b", labels=("g\nh", "x`y", "plain"), data=DataSummary("d", None),
        hyperparameters={}, privacy=PrivacySummary(), text_columns=("text",)))
    (line,) = [line for line in card.splitlines() if line.startswith("It predicts")]
    assert line == "It predicts 3 labels: `g\\nh`, ``x`y``, `plain`."
