"""The training loop on a tiny random BERT: events, reproducibility, options, failures."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.evaluation.report import load_report
from engine.events import (
    Cancelled,
    CheckpointSaved,
    Evaluated,
    Failed,
    FailureKind,
    Finished,
    Progress,
    Started,
    Step,
)
from engine.models.weights import load_model
from engine.runs import RunStatus, load_run
from engine.training import TrainConfig, train_on_rows
from engine.training.checkpoint import checkpoint_key
from engine.training.optim import build_training_parts
from tests.engine.tiny_model import make_tiny_gpt2, tiny_bert, toy_rows, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
N = 120
TEXTS, LABELS = toy_rows(N)
SPLITS = toy_splits(N)


def config(model: Path, **changes) -> TrainConfig:
    base = TrainConfig(dataset="toy", model_path=str(model), epochs=2, batch_size=8,
                       learning_rate=1e-3, max_length=32, early_stopping_patience=None)
    return dataclasses.replace(base, **changes)


def run(ws, cfg: TrainConfig, texts=TEXTS, labels=LABELS, splits=SPLITS, **kw) -> list:
    return list(train_on_rows(ws, cfg, texts, labels, splits=splits, **kw))


def weights(ws, run_id: str) -> dict[str, torch.Tensor]:
    model, _ = load_model(ws, f"runs/{run_id}/model")
    return model.state_dict()


def test_events_are_a_sane_sequence_and_the_run_is_recorded(workspace, tiny_bert) -> None:
    events = run(workspace, config(tiny_bert))
    started, finished = events[0], events[-1]
    assert isinstance(started, Started) and isinstance(finished, Finished)
    assert started.labels == ("neg", "pos") and started.train_rows == len(SPLITS[0])
    assert started.total_steps == 2 * -(-len(SPLITS[0]) // 8)
    steps = [e for e in events if isinstance(e, Step)]
    numbers = [s.step for s in steps]
    assert numbers == sorted(set(numbers)) and numbers[-1] == started.total_steps
    assert all(s.samples_per_second > 0 and s.eta_seconds >= 0 and s.loss > 0 for s in steps)
    assert steps[-1].eta_seconds == 0
    assert [e.split for e in events if isinstance(e, Evaluated)] == ["validation", "validation", "test"]
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [11, 22]
    # lr warms up then decays to zero at the last step
    lrs = [s.learning_rate for s in steps]
    assert max(lrs) <= 1e-3 and lrs[-1] == 0.0
    record = load_run(workspace, finished.run_id)
    assert record.status is RunStatus.FINISHED and record.labels == ("neg", "pos")
    assert record.metrics == dict(finished.metrics) and "macro_f1" in record.metrics
    assert record.best_step == finished.best_step
    assert [h["step"] for h in record.history if "loss" in h and "split" not in h] == numbers
    report = load_report(workspace, finished.run_id)
    assert report.n == len(SPLITS[2])
    # a finished run keeps its model and drops the bulky resume state
    assert not workspace.exists(checkpoint_key(finished.run_id))
    assert set(weights(workspace, finished.run_id))


def test_same_seed_same_weights_other_seed_other_weights(workspace, tiny_bert) -> None:
    a = run(workspace, config(tiny_bert, select_best=False))[-1]
    b = run(workspace, config(tiny_bert, select_best=False))[-1]
    c = run(workspace, config(tiny_bert, select_best=False, seed=14))[-1]
    wa, wb, wc = (weights(workspace, e.run_id) for e in (a, b, c))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_training_learns_the_toy_task(workspace, tiny_bert) -> None:
    events = run(workspace, config(tiny_bert, epochs=6, learning_rate=3e-3, early_stopping_patience=None))
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.metrics["accuracy"] >= 0.8
    losses = [e.loss for e in events if isinstance(e, Step)]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_early_stopping_stops(workspace, tiny_bert) -> None:
    # A learning rate this small cannot move the validation metric: patience 1 ends the run
    # at the second evaluation, long before the planned steps.
    cfg = config(tiny_bert, epochs=5, learning_rate=1e-9, eval_every_steps=2, early_stopping_patience=1)
    events = run(workspace, cfg)
    assert isinstance(events[-1], Finished)
    total = events[0].total_steps
    validations = [e for e in events if isinstance(e, Evaluated) and e.split == "validation"]
    assert len(validations) == 2 and validations[-1].step == 4
    assert max(e.step for e in events if isinstance(e, Step)) == 4 < total
    assert events[-1].best_step == 2
    # The test scores the weights kept, the best step's, and says so (not the last step's).
    (test,) = [e for e in events if isinstance(e, Evaluated) and e.split == "test"]
    assert (test.step, test.epoch) == (2, validations[0].epoch)


def test_class_weights_change_the_loss(workspace, tiny_bert) -> None:
    texts, labels = toy_rows(N, seed=3, spam_share=0.15)  # imbalanced: ~15% 'pos'
    plain = run(workspace, config(tiny_bert, epochs=1), texts, labels)
    weighted = run(workspace, config(tiny_bert, epochs=1, class_weights=True), texts, labels)
    first_plain = next(e for e in plain if isinstance(e, Step))
    first_weighted = next(e for e in weighted if isinstance(e, Step))
    assert isinstance(weighted[-1], Finished)
    assert first_plain.loss != pytest.approx(first_weighted.loss, rel=1e-3)


def test_multi_label_mode_trains(workspace, tiny_bert) -> None:
    texts, labels = toy_rows(N, seed=5)
    multi = [f"{label}|long" if len(text.split()) > 12 else label for text, label in zip(texts, labels)]
    events = run(workspace, config(tiny_bert, multi_label=True), texts, multi)
    finished = events[-1]
    assert isinstance(finished, Finished), events[-1]
    assert events[0].labels == ("long", "neg", "pos")
    report = load_report(workspace, finished.run_id)
    assert report.multi_label and report.labels == ("long", "neg", "pos")
    model, _ = load_model(workspace, f"runs/{finished.run_id}/model")
    assert model.config.problem_type == "multi_label_classification"


def test_gradient_accumulation_plans_fewer_optimizer_steps(workspace, tiny_bert) -> None:
    events = run(workspace, config(tiny_bert, epochs=1, batch_size=4, grad_accumulation=3))
    micro = -(-len(SPLITS[0]) // 4)
    assert events[0].total_steps == -(-micro // 3)
    assert isinstance(events[-1], Finished)


# ---- failures: each one a Failed event with a clear message, never an exception -----------

def test_decoder_only_model_fails_as_bad_model(workspace, tmp_path) -> None:
    events = run(workspace, config(make_tiny_gpt2(tmp_path / "gpt2")))
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert events[0].kind is FailureKind.BAD_MODEL and "text-generation" in events[0].message


def test_batch_larger_than_the_dataset(workspace, tiny_bert) -> None:
    (failed,) = run(workspace, config(tiny_bert, batch_size=500))
    assert failed.kind is FailureKind.BAD_SETTING
    assert f"batch size 500 is larger than the {len(SPLITS[0])} training rows" in failed.message


def test_max_length_above_the_model_limit(workspace, tiny_bert) -> None:
    (failed,) = run(workspace, config(tiny_bert, max_length=128))
    assert failed.kind is FailureKind.BAD_SETTING
    assert "max length 128 is above the model's limit of 64 tokens" in failed.message


def test_bad_settings_are_all_listed(workspace, tiny_bert) -> None:
    (failed,) = run(workspace, config(tiny_bert, epochs=0, learning_rate=-1.0, device="tpu"))
    assert failed.kind is FailureKind.BAD_SETTING
    for words in ("epochs is 0", "learning rate -1.0", "device 'tpu' is unknown"):
        assert words in failed.message


def test_single_class_data_is_bad_data(workspace, tiny_bert) -> None:
    (failed,) = run(workspace, config(tiny_bert), TEXTS, ["pos"] * N)
    assert failed.kind is FailureKind.BAD_DATA and "only one label" in failed.message


def _failing_parts(error: BaseException, at_step: int):
    """A parts factory whose model raises ``error`` in its forward pass at micro-batch ``at_step``."""
    def factory(model, **kw):
        calls = {"n": 0}

        def hook(module, args, output):
            if module.training:
                calls["n"] += 1
                if calls["n"] == at_step:
                    raise error
            return output

        model.register_forward_hook(hook)
        return build_training_parts(model, **kw)
    return factory


def test_runtime_error_inside_the_loop_is_internal_and_recorded(workspace, tiny_bert) -> None:
    events = run(workspace, config(tiny_bert), parts_factory=_failing_parts(RuntimeError("boom at step 3"), 3))
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.INTERNAL
    assert "boom at step 3" in failed.message and "RuntimeError" in failed.detail
    assert not any(isinstance(e, (Finished, Cancelled)) for e in events)
    record = load_run(workspace, events[0].run_id)
    assert record.status is RunStatus.FAILED and "boom at step 3" in record.error


def test_out_of_memory_suggests_a_smaller_batch(workspace, tiny_bert) -> None:
    oom = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    failed = run(workspace, config(tiny_bert), parts_factory=_failing_parts(oom, 1))[-1]
    assert failed.kind is FailureKind.OUT_OF_MEMORY
    assert "at batch size 8: try 4 or enable gradient accumulation" in failed.message


def test_dataset_with_blocking_validation_errors_is_bad_data(workspace, tiny_bert) -> None:
    from engine.training import train
    from tests.engine.tiny_model import store_rows

    texts, labels = list(TEXTS), list(LABELS)
    texts[5], labels[9] = "", ""  # an empty text and a missing label: errors at import
    info = store_rows(workspace, "broken", texts, labels)
    assert any(p.startswith("error:") for p in info.problems)
    (failed,) = list(train(workspace, config(tiny_bert, dataset="broken")))
    assert failed.kind is FailureKind.BAD_DATA
    assert "dataset 'broken' has problems that block training" in failed.message
    assert "row 6" in failed.message  # names the row, as the import report did
    # What to do says how, inside Cloister: the fixes at import, not editing the source file.
    assert "Fix them in the workspace with `cloister fix broken`" in failed.message
    assert ".." not in failed.message  # the problem's own full stop, inside the sentence


def test_unknown_dataset_is_bad_data(workspace, tiny_bert) -> None:
    from engine.training import train

    (failed,) = list(train(workspace, config(tiny_bert, dataset="nothing-here")))
    assert failed.kind is FailureKind.BAD_DATA and "no dataset named 'nothing-here'" in failed.message


def test_vault_dataset_trains_with_the_stratified_split(workspace, tiny_bert) -> None:
    from engine.data.splits import split_indices
    from engine.training import train
    from tests.engine.tiny_model import store_rows

    store_rows(workspace, "toy", TEXTS, LABELS)
    events = list(train(workspace, config(tiny_bert, epochs=1)))
    assert isinstance(events[-1], Finished)
    expected = split_indices(LABELS, seed=13)
    assert events[0].train_rows == len(expected.train)
    assert events[0].validation_rows == len(expected.validation)


def test_timed_checkpoints_happen_mid_epoch(workspace, tiny_bert) -> None:
    # An interval this short means "after every step": each one is a resumable point.
    events = run(workspace, config(tiny_bert, epochs=1, checkpoint_every_minutes=1e-9))
    steps = [e.step for e in events if isinstance(e, CheckpointSaved)]
    per_epoch = events[0].total_steps
    assert steps == list(range(1, per_epoch + 1))
    assert all(0 < e.epoch <= 1 for e in events if isinstance(e, CheckpointSaved))


def test_multi_label_with_class_weights_uses_pos_weight(workspace, tiny_bert) -> None:
    texts, labels = toy_rows(N, seed=5)
    multi = [f"{label}|long" if len(text.split()) > 18 else label for text, label in zip(texts, labels)]
    plain = run(workspace, config(tiny_bert, epochs=1, multi_label=True), texts, multi)
    weighted = run(workspace, config(tiny_bert, epochs=1, multi_label=True, class_weights=True), texts, multi)
    assert isinstance(weighted[-1], Finished), weighted[-1]
    first = [next(e for e in events if isinstance(e, Step)).loss for events in (plain, weighted)]
    assert first[0] != pytest.approx(first[1], rel=1e-3)


def test_cancel_before_the_first_step_is_resumable_from_zero(workspace, tiny_bert) -> None:
    from engine.events import CancelToken
    from engine.training import resume_on_rows

    token = CancelToken()
    events = []
    for event in train_on_rows(workspace, config(tiny_bert, epochs=1), TEXTS, LABELS,
                               splits=SPLITS, cancel=token):
        events.append(event)
        if isinstance(event, Started):
            token.cancel()  # the run has its record: the cancel keeps a step-0 checkpoint
    assert isinstance(events[-1], Cancelled) and events[-1].run_id == events[-2].run_id
    assert events[-1].step == 0 and not any(isinstance(e, Step) for e in events)
    resumed = list(resume_on_rows(workspace, events[-2].run_id, TEXTS, LABELS, splits=SPLITS))
    resumed = [e for e in resumed if not isinstance(e, Progress)]
    assert resumed[0].resumed_from_step == 0 and isinstance(resumed[-1], Finished)


def test_tokenizing_reports_progress_and_a_cancel_there_leaves_no_run(workspace, tiny_bert,
                                                                      monkeypatch) -> None:
    from engine.events import CancelToken
    from engine.runs import list_runs
    from engine.training import data, inputs

    monkeypatch.setattr(data, "_TOKENIZE_CHUNK", 16)  # the toy rows in 8 chunks
    assert not any(isinstance(e, Progress) for e in run(workspace, config(tiny_bert, epochs=1)))
    monkeypatch.setattr(inputs, "PROGRESS_AFTER_SECONDS", 0.0)  # as if tokenizing were slow
    monkeypatch.setattr(inputs, "PROGRESS_EVERY_SECONDS", 0.0)
    events = run(workspace, config(tiny_bert, epochs=1))
    before = [e for e in events[: events.index(next(e for e in events if isinstance(e, Started)))]]
    assert all(isinstance(e, Progress) for e in before)
    assert [e.done for e in before] == [16, 32, 48, 64, 80, 96, 112, N]
    assert before[2].message == f"Tokenizing the texts: 48 of {N}" and before[2].total == N
    assert isinstance(events[-1], Finished)

    runs_before = sorted(r.run_id for r in list_runs(workspace))
    token = CancelToken()
    stopped = []
    for event in train_on_rows(workspace, config(tiny_bert, epochs=1), TEXTS, LABELS,
                               splits=SPLITS, cancel=token):
        stopped.append(event)
        if isinstance(event, Progress) and event.done == 32:
            token.cancel()
    assert isinstance(stopped[-1], Cancelled) and stopped[-1].checkpoint_key is None
    assert stopped[-1].run_id is None and [e.done for e in stopped[:-1]] == [16, 32]
    assert sorted(r.run_id for r in list_runs(workspace)) == runs_before  # no record left


def test_damaged_weights_fail_as_bad_model(workspace, tiny_bert) -> None:
    weights = tiny_bert / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])  # a copy cut short
    failed = run(workspace, config(tiny_bert))[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.BAD_MODEL
    assert "cannot be loaded" in failed.message and "copy the model folder again" in failed.message


def test_a_tie_on_validation_macro_f1_keeps_the_step_with_the_lower_validation_loss(workspace, tiny_bert):
    events = run(workspace, config(tiny_bert, epochs=6))
    assert isinstance(events[-1], Finished)
    checks = [(e.step, e.metrics["macro_f1"], e.metrics["loss"]) for e in events
              if isinstance(e, Evaluated) and e.split == "validation"]
    top = max(f1 for _, f1, _ in checks)
    ties = [(loss, step) for step, f1, loss in checks if abs(f1 - top) <= 1e-9]
    assert len(ties) >= 2  # separable toy rows: the best score is reached more than once
    assert events[-1].best_step == min(ties)[1] != min(step for _, step in ties)


def test_a_tie_is_judged_by_loss_even_from_a_checkpoint_that_kept_no_best_loss() -> None:
    from engine.training.checkpoint import Progress
    from engine.training.loop import improvement

    fresh = Progress()
    assert improvement(fresh, 0.8, 0.5) == (True, False, True)
    kept = Progress(best_metric=1.0, best_step=20, best_loss=0.30)
    assert improvement(kept, 1.0, 0.10) == (False, True, True)  # same score, lower loss: kept instead
    assert improvement(kept, 1.0, 0.40) == (False, False, False)
    assert improvement(kept, 0.9, 0.01) == (False, False, False)  # a lower score never wins
    old = Progress(best_metric=1.0, best_step=20, history=[  # written before best_loss existed
        {"step": 10, "split": "validation", "loss": 0.05, "macro_f1": 0.9},
        {"step": 20, "split": "validation", "loss": 0.30, "macro_f1": 1.0}])
    assert improvement(old, 1.0, 0.20)[:2] == (False, True)
    assert improvement(old, 1.0, 0.35) == (False, False, False)


def test_a_tie_whose_loss_still_falls_clearly_is_learning_for_early_stopping() -> None:
    # A few validation rows reach macro-F1 1.0 at once: counting each later point as no
    # improvement stopped a 40-row run at step 6 of 20 while its loss fell 5-8% a point.
    from engine.training.checkpoint import Progress
    from engine.training.loop import TIE_STILL_LEARNING, improvement

    best = Progress(best_metric=1.0, best_step=20, best_loss=0.60)
    assert improvement(best, 1.0, 0.60 * (1 - TIE_STILL_LEARNING)) == (False, True, True)
    # Lower, but by a hair (a learning rate too small to move anything): kept, not learning.
    assert improvement(best, 1.0, 0.60 * (1 - TIE_STILL_LEARNING / 10)) == (False, True, False)
