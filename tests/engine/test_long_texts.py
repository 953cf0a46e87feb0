"""Long texts read in overlapping windows (``--long-texts windows``) instead of cut at max length.

The decisive case: each text's class shows only past the first ``max_length`` tokens. Cut, the
model sees filler only and cannot learn it; read in windows, it learns it, and prediction (which
averages a text's windows) finds it in new texts."""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.evaluation.prediction import Predictor
from engine.events import Evaluated, Finished
from engine.training import TrainConfig, train_on_rows
from engine.training.windows import (
    MAX_WINDOWS, WINDOW_OVERLAP_KEY, encode_windows, mean_by_text, window_counts, windows_of,
)
from tests.engine.tiny_model import make_tiny_tokenizer, tiny_bert, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
FILLER = ("the", "movie", "plot", "was", "very", "really", "see", "you")


def late_cue_rows(n: int, *, seed: int, filler: tuple[int, int] = (30, 30)) -> tuple[list[str], list[str]]:
    """``filler`` (fewest, most) filler words (the same mix for both classes), then the class's
    cue word."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        positive = rng.random() < 0.5
        words = [rng.choice(FILLER) for _ in range(rng.randint(*filler))]
        words.append(rng.choice(("good", "great", "love") if positive else ("bad", "awful", "hate")))
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return texts, labels


def _config(model: Path, **changes) -> TrainConfig:
    base = TrainConfig(dataset="late", model_path=str(model), epochs=15, batch_size=16,
                       learning_rate=2e-3, max_length=16, early_stopping_patience=None)
    return dataclasses.replace(base, **changes)


def _test_accuracy(events: list) -> float:
    assert isinstance(events[-1], Finished), events[-1]
    [test] = [e for e in events if isinstance(e, Evaluated) and e.split == "test"]
    return test.metrics["accuracy"]


def test_a_class_past_max_length_is_learnt_in_windows_and_not_when_cut(workspace, tiny_bert, tmp_path):
    texts, labels = late_cue_rows(200, seed=1, filler=(16, 45))  # 2 to 5 windows a text
    splits = toy_splits(200, seed=2)
    cut = list(train_on_rows(workspace, _config(tiny_bert), texts, labels, splits=splits))
    windows = list(train_on_rows(workspace, _config(tiny_bert, long_texts="windows"), texts, labels,
                                 splits=splits))
    assert _test_accuracy(cut) <= 0.75  # the start is filler for both classes
    assert _test_accuracy(windows) >= 0.9

    # The saved model reads new texts the same way: windows, their probabilities averaged.
    run_id = windows[-1].run_id
    predictor = Predictor.from_run(workspace, run_id, device="cpu")
    # The test loss is the texts' (the log loss of their averaged probabilities), as every
    # other metric is; it was the mean over their windows.
    [test] = [e for e in windows if isinstance(e, Evaluated) and e.split == "test"]
    held_out = splits[2]
    proba = predictor.predict_proba([texts[i] for i in held_out])
    truth = [predictor.labels.index(labels[i]) for i in held_out]
    log_loss = -np.mean(np.log(np.clip(proba[np.arange(len(truth)), truth], 1e-7, 1)))
    assert test.metrics["loss"] == pytest.approx(log_loss, rel=1e-3)
    assert predictor.window_overlap == 4 == getattr(predictor.model.config, WINDOW_OVERLAP_KEY)
    assert predictor.tokens_read == 2 + 14 + 15 * 10  # 16 windows: 14 new tokens, then 10 each
    new_texts, new_labels = late_cue_rows(40, seed=99, filler=(16, 45))
    predicted = [p.label for p in predictor.predict(new_texts)]
    assert np.mean([p == g for p, g in zip(predicted, new_labels)]) >= 0.9
    # A few batches of windows per answer, so that progress and a cancel come often (once per
    # 256 texts, up to 4,096 windows, they came a minute apart); the answers do not change.
    predictor.batch_size = 2
    answers = list(predictor.iter_proba(new_texts))
    assert len(answers) > 4 and np.concatenate([rows for rows, _ in answers]).tolist() == list(range(40))
    by_text = np.concatenate([probs for _, probs in answers])
    one_by_one = np.concatenate([predictor.predict_proba([t]) for t in new_texts])
    np.testing.assert_allclose(by_text, one_by_one, atol=1e-5)
    predictor.predict_proba(new_texts)
    assert predictor.texts_cut == 0  # 2 to 5 windows each: read whole
    predictor.predict_proba([" ".join(["the"] * 400), new_texts[0]])
    assert predictor.texts_cut == 1  # past 16 windows: only their reach counted, and said
    # Cut at 16 tokens instead, the same weights see no cue: no better than a guess.
    predictor.window_overlap = None
    guessed = [p.label for p in predictor.predict(new_texts)]
    assert np.mean([p == g for p, g in zip(guessed, new_labels)]) <= 0.75
    # An exported model says how to read a long text as it was trained to.
    from engine.export.exporters import export_run

    card = (export_run(workspace, run_id, tmp_path / "export", plaintext=True) / "README.md").read_text()
    assert "overlapping windows of 16 tokens, consecutive windows sharing 4" in card
    assert "**mean of the windows' probabilities**" in card
    assert "| window_overlap | 4 |" in card  # the table said None (automatic) beside the prose's 4


def test_windows_share_overlap_tokens_and_are_counted_before_tokenizing(tmp_path):
    tokenizer = make_tiny_tokenizer(tmp_path / "tok", model_max_length=512)
    texts = [" ".join(FILLER[i % 8] for i in range(n)) for n in (3, 14, 15, 40, 400)]
    windows = encode_windows(tokenizer, texts, max_length=16, overlap=4)
    counts = np.bincount(windows.source, minlength=len(texts))
    lengths = np.array([len(tokenizer(t)["input_ids"]) for t in texts])
    assert counts.tolist() == window_counts(lengths, max_length=16, overlap=4).tolist()
    assert counts.tolist()[:4] == [1, 1, 2, 4] and counts[4] == MAX_WINDOWS  # a huge text: capped
    assert windows.encoded.lengths.max() == 16 and np.all(np.diff(windows.source) >= 0)
    first, second = (windows.encoded.row(i).tolist() for i in np.flatnonzero(windows.source == 3)[:2])
    assert first[-5:-1] == second[1:5]  # the last 4 tokens before [SEP] open the next window
    # A text's probabilities are the mean of its windows', in the order asked for.
    window_texts = np.array([7, 3, 7, 7])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.7, 0.3]], dtype=np.float32)
    np.testing.assert_allclose(mean_by_text(probs, window_texts, np.array([3, 7])),
                               [[0.2, 0.8], [0.7, 0.3]], atol=1e-6)
    assert windows_of(np.array([0, 0, 1, 2, 2, 2]), np.array([2, 0])).tolist() == [0, 1, 3, 4, 5]


@pytest.mark.parametrize("changes, says", [
    ({"long_texts": "pages"}, "long texts 'pages' is unknown: use cut"),
    ({"window_overlap": 4}, "a window overlap only applies when long texts are read in windows"),
    ({"long_texts": "windows", "window_overlap": 40}, "use at most half a window (32)"),
    ({"long_texts": "windows", "dp": True, "dp_logical_batch_size": 8},
     "with --dp, cut long texts (--long-texts cut)"),
])
def test_bad_long_text_settings_say_what_to_change(changes, says):
    config = TrainConfig(dataset="d", max_length=64, **changes)
    messages = [p.message for p in config.validate() if p.code == "setting:long_texts"]
    assert any(says in m for m in messages), messages


def test_the_estimate_counts_the_windows(tiny_bert):
    from engine.training.auto import AutoSettings
    from engine.training.estimate import estimate

    lengths = np.array([60] * 50 + [10] * 50)  # half need 6 windows of 16 (14 + 5 x 10 new tokens)
    auto = AutoSettings(choices=(), lengths=lengths)
    per_text, tokens = auto.windows_at(16, 4)
    assert per_text == pytest.approx(3.5) and 10 < tokens <= 16
    cfg = _config(tiny_bert)
    cut = estimate(cfg, 1000, mean_tokens=auto.mean_tokens_at(16))
    read = estimate(dataclasses.replace(cfg, long_texts="windows"), 1000, mean_tokens=tokens,
                    windows_per_text=per_text)
    assert read.seconds - 5 > 2 * (cut.seconds - 5)  # beyond set-up, the windows' extra work


def test_the_cli_says_how_many_texts_are_cut_and_trains_in_windows(tmp_path, monkeypatch, tiny_bert,
                                                                   capsys):
    from engine.cli import main as cli
    from engine.cli.common import open_workspace
    from engine.runs import list_runs
    from tests.engine.test_train_cli import init_and_import

    texts, labels = late_cue_rows(60, seed=3)
    init_and_import(tmp_path, monkeypatch, ["text", "label"], list(zip(texts, labels)))
    capsys.readouterr()
    assert cli(["train", "toy", "--model", str(tiny_bert), "--max-length", "16", "--dry-run"]) == 0
    cut = capsys.readouterr().out
    assert "long texts: 100% are cut at 16 tokens (their start is kept); --long-texts windows " \
           "reads each in windows of 16 (about 3.00 a text, up to 16;" in cut  # 33: 14 + 2 x 10 new
    # With DP the cut is still said, without offering the windows DP cannot use.
    assert cli(["train", "toy", "--model", str(tiny_bert), "--max-length", "16", "--dry-run",
                "--dp", "--logical-batch-size", "8"]) == 0
    assert "long texts: 100% are cut at 16 tokens (their start is kept; with differential " \
           "privacy they cannot be read in windows)" in capsys.readouterr().out
    assert cli(["train", "toy", "--model", str(tiny_bert), "--max-length", "16", "--dry-run",
                "--long-texts", "windows", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["long_texts"] == ("long texts: read in windows of 16 tokens, consecutive windows "
                                     "sharing 4 (about 3.00 windows a text); a text's prediction is "
                                     "the mean of its windows'")
    assert planned["settings"]["long_texts"] == "windows"
    assert cli(["train", "toy", "--model", str(tiny_bert), "--max-length", "16", "--epochs", "1",
                "--long-texts", "windows", "--window-overlap", "2"]) == 0
    [run] = list_runs(open_workspace(argparse.Namespace(workspace=None)))
    assert run.config["long_texts"] == "windows" and run.config["window_overlap"] == 2
    assert cli(["train", "toy", "--model", str(tiny_bert), "--long-texts", "windows", "--dp"]) == 2
    assert "with --dp, cut long texts (--long-texts cut)" in capsys.readouterr().err


def test_the_dry_run_measures_windows_without_automatic_settings_and_says_what_is_cut(
        tmp_path, monkeypatch, tiny_bert, capsys):
    from engine.cli import main as cli
    from tests.engine.test_train_cli import init_and_import

    texts, labels = late_cue_rows(60, seed=5)
    texts[0] = " ".join(["the"] * 200) + " good"  # past 16 windows of 16 tokens (166 tokens)
    init_and_import(tmp_path, monkeypatch, ["text", "label"], list(zip(texts, labels)))
    capsys.readouterr()

    def dry(*extra: str) -> dict:
        assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--json", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    # The overlap is checked against the length the data chooses (48), not a stand-in.
    plan = dry("--long-texts", "windows", "--window-overlap", "20")
    assert plan["settings"]["max_length"] == 48 and plan["settings"]["window_overlap"] == 20
    no_auto = dry("--no-auto", "--max-length", "16", "--long-texts", "windows")["long_texts"]
    assert "(about 3.2" in no_auto and "windows a text)" in no_auto  # measured, not 1.00
    # The automatic max length's reason says that the texts past it are read in windows (it
    # said they "are cut there" above the lines that said they were read in windows).
    reasons = {c["name"]: c["reason"] for c in plan["automatic"]}
    assert reasons["max_length"].endswith("; 2% are longer, read in windows"), reasons
    reasons = {c["name"]: c["reason"] for c in dry()["automatic"]}
    assert reasons["max_length"].endswith("; 2% are cut"), reasons
    capped = dry("--max-length", "16", "--long-texts", "windows")["long_texts"]
    assert "2% are longer than 16 windows reach (166 tokens): the rest of those is cut" in capped
    # DP needs long texts cut: the cut is said, without offering windows
    assert dry("--max-length", "16", "--dp")["long_texts"] == ("long texts: 100% are cut at 16 tokens "
        "(their start is kept; with differential privacy they cannot be read in windows)")


def test_a_model_without_a_fast_tokenizer_is_refused_before_a_run_is_recorded(
        workspace, tiny_bert, monkeypatch):
    from engine.events import Failed
    from engine.models import folders
    from engine.runs import list_runs

    real = folders.load_tokenizer

    class SlowOnly:  # what a model with only a Python tokenizer gives
        def __init__(self, tokenizer):
            self.tokenizer, self.is_fast = tokenizer, False

    monkeypatch.setattr(folders, "load_tokenizer", lambda path: SlowOnly(real(path)))
    texts, labels = late_cue_rows(40, seed=6)
    events = list(train_on_rows(workspace, _config(tiny_bert, long_texts="windows"), texts, labels))
    assert isinstance(events[-1], Failed) and "no fast tokenizer" in events[-1].message
    assert "--long-texts cut" in events[-1].message and list_runs(workspace) == []
