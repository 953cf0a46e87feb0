"""Automatic settings (engine.training.auto), the estimate they drive, and `train --dry-run`."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main as cli
from engine.training.auto import choose_max_length, choose_settings
from engine.training.config import TrainConfig
from engine.training.estimate import estimate
from tests.engine.tiny_model import tiny_bert, toy_rows  # noqa: F401

torch.set_num_threads(1)
MINILM = dict(model_limit=512, model_parameters=22_700_000)


def rows(per_class: dict[str, int]) -> tuple[list[str], list[str]]:
    labels = [label for label, n in per_class.items() for _ in range(n)]
    return [f"text number {i}" for i in range(len(labels))], labels


def test_small_balanced_data_gets_many_epochs_a_larger_step_and_no_weights() -> None:
    texts, labels = rows({"a": 150, "b": 150})
    auto = choose_settings(texts, labels, **MINILM)
    v = auto.values
    assert v["epochs"] == 10 and v["learning_rate"] == 1e-4 and v["class_weights"] is False
    assert v["warmup_ratio"] == 0.1 and v["early_stopping_patience"] == 2
    reasons = {c.name: c.reason for c in auto.choices}
    assert "240 training rows" in reasons["epochs"]
    assert "balanced enough" in reasons["class_weights"]


def test_big_many_class_data_gets_fewer_epochs_more_for_classes_and_evaluations_within_an_epoch() -> None:
    texts, labels = rows({f"intent{i}": 130 for i in range(77)})  # banking77-sized: 10,010 rows
    v = choose_settings(texts, labels, **MINILM).values
    assert v["epochs"] == 4 + 2 and v["learning_rate"] == 1e-4
    texts, labels = rows({"pos": 40_000, "neg": 30_000})  # sst2-sized
    auto = choose_settings(texts, labels, **MINILM)
    v = auto.values
    assert v["epochs"] == 2 and v["learning_rate"] == 5e-5 and v["warmup_ratio"] == 0.06
    assert v["eval_every_steps"] == 3500 // 4  # 56,000 training rows / 16 = 3,500 steps an epoch
    assert "validate 4 times an epoch" in {c.name: c.reason for c in auto.choices}["eval_every_steps"]


def test_imbalanced_data_gets_class_weights_and_a_large_model_a_smaller_step() -> None:
    texts, labels = rows({"common": 600, "rare": 60})
    auto = choose_settings(texts, labels, model_limit=512, model_parameters=110_000_000)
    assert auto.values["class_weights"] is True and auto.values["learning_rate"] == 2e-5
    assert "10x the rows of the smallest" in {c.name: c.reason for c in auto.choices}["class_weights"]


def test_max_length_is_a_percentile_of_token_lengths_up_to_the_model_limit() -> None:
    lengths = np.array([20] * 90 + [100] * 10)
    choice = choose_max_length(lengths, 512)
    assert choice.value == 112 and "95% of texts fit in 100 tokens" in choice.reason
    assert choose_max_length(np.array([10] * 100), 512).value == 32  # never below 32
    long = choose_max_length(np.array([900] * 100), 512)
    assert long.value == 512 and "beyond the model's limit of 512" in long.reason
    assert long.reason.endswith("100% of texts are cut there (their start is kept)")
    # Read in windows, they are not cut there (the dry run said so above "read in windows").
    windows = choose_max_length(np.array([900] * 100), 512, windows=True)
    assert windows.value == 512 and windows.reason.endswith(
        "the limit is used and 100% of texts are longer, read in windows of it")
    assert choose_max_length(lengths, 512, windows=True).reason.endswith("; 0% are longer, read in windows")


def test_token_counts_stop_at_the_cap_and_read_only_as_much_of_a_text_as_they_need(tmp_path) -> None:
    from engine.training.auto import CHARS_PER_TOKEN_GUESS, count_cap, tokenizer_counter
    from tests.engine.tiny_model import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer(tmp_path / "tok", model_max_length=8192)
    seen: list[int] = []
    counted = tokenizer_counter(_Spy(tokenizer, seen), cap=40)
    words = " ".join(["good"] * 30)  # 32 tokens: under the cap, counted whole
    book = " ".join(["movie"] * 5000)  # 5,002 tokens: stops at the cap
    spaced = ("good" + " " * 10) * 100  # 14 characters a token: the first cut holds too few
    assert counted([words, book, spaced]) == [32, 40, 40]
    assert tokenizer_counter(tokenizer)([words, book, spaced]) == [32, 5002, 102]
    # The book was read as 40 x CHARS_PER_TOKEN_GUESS characters, not its 29,999; the spaced
    # text again four times longer, as its first cut held 19 tokens.
    assert seen == [40 * CHARS_PER_TOKEN_GUESS, 4 * 40 * CHARS_PER_TOKEN_GUESS] and len(book) > 240
    assert count_cap(512) == 2 + 16 * 510 + 1  # one past 16 windows without overlap
    far = choose_max_length(np.full(100, count_cap(512)), 512)
    assert far.value == 512 and "5% of texts or more have over 8,162 tokens" in far.reason


class _Spy:
    """A tokenizer that notes the longest text it was given."""

    def __init__(self, tokenizer, seen: list[int]) -> None:
        self.tokenizer, self.seen = tokenizer, seen

    def __call__(self, texts, **kwargs):
        self.seen.append(max(len(t) for t in texts))
        return self.tokenizer(texts, **kwargs)


def test_the_estimate_follows_the_chosen_length() -> None:
    config = TrainConfig(dataset="d", max_length=512)
    short = estimate(config, 1000, mean_tokens=40)
    long = estimate(config, 1000, mean_tokens=400)
    assert long.seconds > 5 * (short.seconds - 5)  # time grows with the measured tokens
    assert estimate(TrainConfig(dataset="d", max_length=512), 1000).peak_memory_bytes > \
        estimate(TrainConfig(dataset="d", max_length=128), 1000).peak_memory_bytes


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "auto test passphrase")
    source = tmp_path / "toy.csv"
    texts, labels = toy_rows(100, seed=2)
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *zip(texts, labels)])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "toy"]) == 0
    capsys.readouterr()


def test_dry_run_prints_the_settings_and_reasons_and_trains_nothing(toy, tiny_bert, capsys) -> None:  # noqa: F811
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--lr", "1e-3"]) == 0
    out = capsys.readouterr().out
    assert "dataset 'toy': 100 rows, 2 classes" in out
    assert "epochs = 10: 80 training rows" in out
    assert "learning_rate: set by you (automatic would be 1e-4)" in out
    assert "max_length = 32:" in out and "the model's limit is 64" in out
    assert "settings used: epochs 10, learning rate 1e-3" in out
    split = re.search(r"split \(seed 13\): (\d+) training, (\d+) validation and (\d+) test rows\n", out)
    assert split and sum(map(int, split.groups())) == 100 and int(split.group(1)) >= 75
    assert "estimate: about" in out and out.rstrip().endswith("dry run: nothing was trained")
    assert re.search(r"estimate: about .* on CPU with nothing else running, peak memory", out)
    # A tiny model's memory reads in MiB (or KiB), not as "0.0 GiB".
    assert re.search(r"peak memory about \d+(\.\d)? (KiB|MiB)\n", out), out
    # --json: one object a script can read, with the same settings and reasons.
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--lr", "1e-3", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["dry_run"] is True and (plan["rows"], plan["classes"]) == (100, 2)
    assert plan["settings"]["learning_rate"] == 1e-3 and plan["settings"]["epochs"] == 10
    chosen = {c["name"]: c for c in plan["automatic"]}
    assert chosen["learning_rate"]["set_by_you"] and chosen["learning_rate"]["value"] == 1e-4
    assert not chosen["epochs"]["set_by_you"] and "80 training rows" in chosen["epochs"]["reason"]
    assert plan["estimate"]["seconds"] > 0 and plan["estimate"]["device"] == "cpu"
    assert sum(plan["split"].values()) == 100 and plan["split"]["train"] == int(split.group(1))
    assert cli(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_warm_up_counts_the_steps_of_the_epochs_the_user_gives(toy, tiny_bert, capsys) -> None:  # noqa: F811
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run"]) == 0
    assert "warmup_ratio = 0.1: 50 optimizer steps in all" in capsys.readouterr().out  # 5 x 10
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--epochs", "300"]) == 0
    out = capsys.readouterr().out
    assert "epochs: set by you (automatic would be 10)" in out
    assert "warmup_ratio = 0.06: 1,500 optimizer steps in all: 6%" in out  # 5 steps x 300
    assert "warm-up 0.06" in out  # and the run uses it
    # Accumulated micro-batches make one optimizer step: 5 micro-batches an epoch, 3 steps.
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--grad-accumulation", "2"]) == 0
    out = capsys.readouterr().out
    assert "warmup_ratio = 0.1: 30 optimizer steps in all" in out  # 3 x 10
    assert "eval_every_steps = each epoch end: 3 steps per epoch" in out


def test_a_user_who_changes_nothing_trains_with_the_automatic_settings(toy, tiny_bert, capsys) -> None:  # noqa: F811
    assert cli(["train", "toy", "--model", str(tiny_bert), "--lr", "1e-3"]) == 0
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    config = record["config"]
    assert config["epochs"] == 10 and config["max_length"] == 32 and config["warmup_ratio"] == 0.1
    assert config["learning_rate"] == 1e-3  # what the user set wins
    assert cli(["train", "toy", "--model", str(tiny_bert), "--no-auto", "--max-length", "32",
                "--dry-run"]) == 0
    assert "settings used: epochs 3, learning rate 5e-5" in capsys.readouterr().out


def test_dp_logical_batch_follows_the_row_count_within_its_range() -> None:
    from engine.training.auto import dp_logical_batch

    assert dp_logical_batch(48_491) == 1024  # sst2's training rows: N/30 ≈ 1,616 -> 2,048, capped
    assert dp_logical_batch(24_000) == 1024  # N/30 = 800
    assert dp_logical_batch(16_000) == 512  # N/30 ≈ 533
    assert dp_logical_batch(5_000) == 256  # the floor
    assert dp_logical_batch(10_000_000) == 1024  # the ceiling
    assert dp_logical_batch(400) == 100  # never more than a quarter of the rows
    assert dp_logical_batch(103) == 26  # a quarter, rounded up
    # Poisson sampling takes N / ceil(N/B) rows a step on average: for the automatic batch
    # that is what it says, within 5% (103 rows and B = 25 would take ~21 a step).
    from privacy.dp.budget import sample_rate_for

    for rows in (8, 32, 103, 150, 203, 999, 3_000, 7_000, 12_345, 48_491, 200_000):
        batch = dp_logical_batch(rows)
        assert abs(sample_rate_for(rows, batch) * rows - batch) <= 0.05 * batch, (rows, batch)


def test_dp_dry_run_shows_the_dp_choices_and_the_users_own_win(toy, tiny_bert, capsys) -> None:  # noqa: F811
    """--dp replaces the non-DP learning rate and class weights with DP's own choices."""
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--dp",
                "--max-grad-norm", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate = 5e-3: differential privacy:" in out
    assert "automatic would be 1e-4" not in out
    # The plain choice of class weights is replaced by DP's, said with why, not dropped.
    assert "class_weights = off: differential privacy: weighting rows by class" in out
    assert "dp_logical_batch_size = 20: 80 training rows" in out  # a quarter of 80 rows
    assert "(a quarter of the rows: too few for the usual 256-1,024, at least four steps an epoch)" in out
    assert "dp_trainable = top-2:" in out
    assert "dp_max_grad_norm: set by you (automatic would be 0.1)" in out
    assert "warmup_ratio = 0.06: 40 noisy steps in all" in out  # 4 logical batches x 10 epochs
    assert "settings used: epochs 10, learning rate 5e-3" in out


def test_the_dp_learning_rate_follows_the_part_the_user_trains(toy, tiny_bert, capsys) -> None:  # noqa: F811
    """LoRA's zero-initialised adapters need 2e-2; the top layers learnt best at 5e-3."""
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--dp",
                "--dp-trainable", "lora"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate = 2e-2: differential privacy with LoRA" in out
    assert "settings used: epochs 10, learning rate 2e-2" in out


def test_mid_sized_few_class_data_gets_the_larger_step_below_20000_training_rows() -> None:
    texts, labels = rows({c: 2_500 for c in "abcd"})  # AG News-sized: 8,000 training rows
    auto = choose_settings(texts, labels, **MINILM)
    assert auto.values["learning_rate"] == 1e-4
    assert "under 20,000 training rows" in {c.name: c.reason for c in auto.choices}["learning_rate"]
    texts, labels = rows({"a": 13_000, "b": 13_000})  # 20,800 training rows
    assert choose_settings(texts, labels, **MINILM).values["learning_rate"] == 5e-5


def test_validation_and_warm_up_count_optimizer_steps_not_micro_batches() -> None:
    """32,000 training rows at batch 16 are 2,000 micro-batches an epoch: validated 4 times an
    epoch. Accumulated 4 at a time they are 500 optimizer steps, which the loop counts: once an
    epoch then, and a DP run counts its logical batches."""
    from engine.training.auto import AutoSettings
    from engine.training.plan import step_choices

    def chosen(config: TrainConfig) -> dict:
        return {name: c.value for name, c in step_choices(None, config, 32_000).items()}

    plain = TrainConfig(dataset="d", batch_size=16, epochs=1)
    assert chosen(plain)["eval_every_steps"] == 500
    accumulated = TrainConfig(dataset="d", batch_size=16, grad_accumulation=4, epochs=1)
    assert chosen(accumulated) == {"eval_every_steps": None, "warmup_ratio": 0.1}
    dp = TrainConfig(dataset="d", batch_size=16, epochs=3, dp=True, dp_logical_batch_size=1024)
    assert "96 noisy steps" in step_choices(None, dp, 32_000)["warmup_ratio"].reason  # 32 an
    # epoch (31.25 rounded up) x 3
    # With long texts in windows each text is its windows: 2 a text, twice the steps.
    windows = TrainConfig(dataset="d", batch_size=16, epochs=1, max_length=16, long_texts="windows")
    auto = AutoSettings((), lengths=np.array([20]))  # 2 windows of 16 (14 + 10 new tokens)
    assert step_choices(auto, windows, 16_000)["eval_every_steps"].value == 500


def test_very_little_data_trains_in_small_batches_when_the_batch_size_was_not_given(toy, tiny_bert, tmp_path, capsys) -> None:  # noqa: F811
    """12 rows train 8 (or so): the fixed default batch of 16 would be refused as larger than
    the data, for a setting the user never gave, and under 48 training rows batches of 16 give
    one or two steps an epoch (MiniLM learnt less from them: bench/RESULTS.md, "Very little
    data"). The automatic settings take batches of 4; data of 80 rows keeps the usual 16."""
    source = tmp_path / "tiny.csv"
    texts, labels = toy_rows(12, seed=3)
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *zip(texts, labels)])
    assert cli(["import", str(source), "--name", "tiny"]) == 0
    capsys.readouterr()
    assert cli(["train", "tiny", "--model", str(tiny_bert), "--dry-run"]) == 0
    out = capsys.readouterr().out
    train_rows = int(re.search(r"split \(seed 13\): (\d+) training", out).group(1))
    assert f"batch_size = 4: {train_rows} training rows: batches of 4 give " \
           f"{-(-train_rows // 4)} steps an epoch" in out and "batch size 4," in out
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run"]) == 0  # 100 rows
    out = capsys.readouterr().out
    assert "batch_size =" not in out and "batch size 16," in out
    # A batch size the user gives is theirs: still refused when it is larger than the data.
    assert cli(["train", "tiny", "--model", str(tiny_bert), "--dry-run", "--batch-size", "16"]) == 2
    assert f"batch size 16 is larger than the {train_rows} training rows" in capsys.readouterr().err


def test_the_plan_says_when_the_base_model_cannot_read_the_datas_language() -> None:
    from engine.models.folders import load_tokenizer, resolve_model_path
    from engine.training.auto import AutoSettings, vocabulary_fit

    tokenizer = load_tokenizer(resolve_model_path(None))  # the bundled MiniLM: English
    english = ["my card was charged twice, please refund it 😀", "what time does the branch open?"]
    chinese = ["我的信用卡被多扣了钱，请退款。", "请问营业时间是几点？"]
    russian = ["Карта заблокирована, прошу разобраться.", "Какой лимит по карте? Спасибо"]
    unknown, pieces = vocabulary_fit(english, tokenizer)
    assert unknown == 0 and pieces < 1.5  # the emoji is no word, and no reason to warn
    assert AutoSettings((), np.array([]), unknown, pieces).vocabulary_line() == ""
    unknown, _ = vocabulary_fit(chinese, tokenizer)
    assert unknown > 0.5  # MiniLM's vocabulary holds a few Chinese characters, most not
    line = AutoSettings((), np.array([]), unknown, 6.0).vocabulary_line()
    assert f"does not know {unknown:.0%} of this data's words" in line and "--model FOLDER" in line
    unknown, pieces = vocabulary_fit(russian, tokenizer)
    assert unknown == 0 and pieces > 2.5  # every letter its own piece: known, not understood
    assert "splits this data's words into" in AutoSettings((), np.array([]), unknown, pieces).vocabulary_line()

    # A model made for Chinese (every character in its vocabulary): no note. Chinese writes no
    # spaces, so its characters are counted one by one, not a clause as "7 pieces a word".
    from transformers import BertTokenizerFast

    chars = sorted({c for text in chinese for c in text if c.isalpha()})
    chinese_model = BertTokenizerFast(vocab={t: i for i, t in enumerate(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars])})
    assert vocabulary_fit(chinese, chinese_model) == (0.0, 1.0)


def test_dry_run_notes_a_language_the_base_model_does_not_know(tmp_path: Path, monkeypatch,
                                                              tiny_bert, capsys) -> None:  # noqa: F811
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "auto test passphrase")
    source = tmp_path / "zh.csv"
    rows = [("请问营业时间是几点？", "咨询"), ("我的信用卡被多扣了钱，请退款。", "投诉")] * 30
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "zh", "--force"]) == 0
    capsys.readouterr()
    assert cli(["train", "zh", "--model", str(tiny_bert), "--dry-run"]) == 0
    assert "note: the base model does not know 100% of this data's words" in capsys.readouterr().out
    assert cli(["train", "zh", "--model", str(tiny_bert), "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_words"] == 1.0
