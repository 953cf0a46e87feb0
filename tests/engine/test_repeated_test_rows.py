"""A dataset with repeated rows puts copies of a text on both sides of the split: the model is
then tested on texts it learnt, and its scores overstate it. Nothing said so (an audit found 3
of 32 sst2 test rows with the text of a training row); now training, evaluate, the Results page
and the model card count them and say what to do."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from tests.engine.test_prediction import train_tiny_run
from tests.engine.tiny_model import TEST_PASSPHRASE


def _csv_with_repeats(path: Path) -> Path:
    lines = ["id,text,label"]
    for i in range(40):
        label = "spam" if i % 2 else "ham"
        words = "win cash prize now" if label == "spam" else "see you at lunch"
        # Rows 20-39 repeat rows 0-19, some in capitals and with other spacing.
        n = i % 20
        text = f"{words} {n}" if i < 20 or n % 3 else f"  {words.upper()}   {n} "
        lines.append(f'{i},"{text}",{label}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@pytest.fixture(scope="module")
def repeated(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("repeats")
    return train_tiny_run(root, labels_csv=_csv_with_repeats(root / "repeats.csv"))


def test_test_rows_that_repeat_a_training_text_are_counted_and_said(repeated, tmp_path: Path,
                                                                    monkeypatch, capsys) -> None:
    from engine.data.store import load_dataset
    from engine.evaluation.evaluate import evaluate_run
    from engine.evaluation.report import load_report
    from engine.export.exporters import export_run
    from engine.runs import load_run
    from engine.training.prepare import stored_splits

    ws, run_id, _ = repeated
    stored = load_dataset(ws, "sms")
    train, validation, test = stored_splits(stored, dict(load_run(ws, run_id).config or {}))
    seen = {_fold(stored.texts[i]) for i in [*train, *validation]}
    expected = sum(_fold(stored.texts[i]) in seen for i in test)
    assert expected >= 1  # 20 texts, each twice, 4 rows held out: the seed puts some on both sides

    report = load_report(ws, run_id)
    assert report.repeated_in_training == expected
    assert report.repeats_text().startswith(f"{expected:,} of the {len(test)} test rows repeat the "
                                            "text of a row the model trained or validated on")
    assert "--drop-duplicates" in report.repeats_text()
    assert evaluate_run(ws, run_id, device="cpu").repeated_in_training == expected

    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    assert main(["evaluate", run_id, "--workspace", str(ws.root)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {expected:,} of the {len(test)} test rows repeat" in err
    assert "`cloister fix DATASET" not in err
    card = (export_run(ws, run_id, tmp_path / "export", plaintext=True) / "README.md").read_text()
    assert f"**Warning:** {expected:,} of the {len(test)} test rows repeat" in card


def test_training_says_so_when_it_finishes_and_a_dataset_without_repeats_says_nothing(
        tmp_path: Path) -> None:
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.events import Finished
    from engine.evaluation.report import load_report
    from engine.training import TrainConfig, train
    from tests.engine.tiny_model import make_tiny_bert

    ws, run_id, _ = train_tiny_run(tmp_path / "plain")  # every text different
    assert load_report(ws, run_id).repeated_in_training == 0
    assert load_report(ws, run_id).repeats_text() == ""
    imported = read_table(_csv_with_repeats(tmp_path / "repeats.csv"))
    save_dataset(ws, "repeats", imported, infer_mapping(imported))
    config = TrainConfig(dataset="repeats", model_path=str(make_tiny_bert(tmp_path / "bert")), epochs=1,
                         batch_size=8, max_length=32, learning_rate=1e-3)
    finished = list(train(ws, config))[-1]
    assert isinstance(finished, Finished)
    assert finished.notes == (load_report(ws, finished.run_id).repeats_text("repeats"),)
    assert "test rows repeat the text" in finished.notes[0]
    # The command to run names the dataset (it said DATASET), and the app's way is said too.
    assert "`cloister fix repeats --drop-duplicates`" in finished.notes[0]
    assert "(in the app: the dataset's Fix… on the Datasets page)" in finished.notes[0]
    assert "`cloister fix 'my data' --drop" in load_report(ws, finished.run_id).repeats_text("my data")
    # The app is told its own way, without a command line's flags and backticks.
    (app,) = finished.app_notes or ("",)
    assert app == load_report(ws, finished.run_id).repeats_text("repeats", app=True)
    assert app.startswith(finished.notes[0].split(" Drop ")[0]) and "Fix… on the Datasets page" in app
    assert "`" not in app and "--" not in app
