"""DP-SGD through the engine's parts seam, on a tiny BERT with real Opacus."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from engine.events import Cancelled, CancelToken, Failed, FailureKind, Finished, Started, Step
from engine.models.weights import load_model
from engine.runs import load_run
from engine.training import TrainConfig, resume_on_rows, train_on_rows
from tests.engine.tiny_model import one_noise_secret, tiny_bert, toy_rows, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
N = 120
TEXTS, LABELS = toy_rows(N, seed=4)
SPLITS = toy_splits(N, seed=4)  # 84 training rows
TRAIN = len(SPLITS[0])


def config(model: Path, **changes) -> TrainConfig:
    # RDP here: PRV costs about a second per ε evaluation on this CPU; one test covers PRV.
    base = TrainConfig(dataset="toy", model_path=str(model), epochs=2, batch_size=8, learning_rate=3e-3,
                       max_length=32, early_stopping_patience=None, select_best=False, dp=True,
                       dp_epsilon=8.0, dp_logical_batch_size=16, dp_accountant="rdp")
    return dataclasses.replace(base, **changes)


def run(ws, cfg, **kw) -> list:
    return list(train_on_rows(ws, cfg, TEXTS, LABELS, splits=SPLITS, **kw))


def fresh_epsilon(mechanism: str, sigma: float, q: float, steps: int, delta: float) -> float:
    """What Opacus's own accountant says, stepped one step at a time as the optimizer does."""
    from opacus.accountants import create_accountant

    acc = create_accountant(mechanism)
    for _ in range(steps):
        acc.step(noise_multiplier=sigma, sample_rate=q)
    return acc.get_epsilon(delta=delta)


def test_dp_run_reports_the_epsilon_opacus_computes(workspace, tiny_bert) -> None:
    events = run(workspace, config(tiny_bert))
    started, finished = events[0], events[-1]
    assert isinstance(finished, Finished), finished
    steps_per_epoch = -(-TRAIN // 16)  # Opacus: sampling rate 1/len(loader)
    assert started.total_steps == 2 * steps_per_epoch
    reported = [e.epsilon for e in events if isinstance(e, Step)]
    assert all(e is not None for e in reported) and reported == sorted(reported)
    dp = load_run(workspace, finished.run_id).privacy
    delta = TRAIN ** -1.1
    assert dp["delta"] == pytest.approx(delta) and dp["sample_rate"] == 1 / steps_per_epoch
    assert dp["steps"] == started.total_steps and dp["unit"] == "one training row"
    expected = fresh_epsilon("rdp", dp["noise_multiplier"], 1 / steps_per_epoch, dp["steps"], delta)
    assert dp["epsilon_spent"] == pytest.approx(expected, rel=1e-9)
    assert reported[-1] == pytest.approx(expected, rel=1e-9)
    assert 7.5 < dp["epsilon_spent"] <= 8.0  # the noise was calibrated to spend the budget, not more
    assert dp["noise_multiplier"] > 0.3 and dp["grad_sample_mode"] == "ghost"
    # The audit log alone says the budget asked for and the ε spent (a DPO's record).
    entries = workspace.verify_audit().entries
    (began,) = [e for e in entries if e.action == "run.started" and e.details["run"] == finished.run_id]
    (ended,) = [e for e in entries if e.action == "run.ended" and e.details["run"] == finished.run_id]
    assert began.details["epsilon"] == 8.0
    assert ended.details == {"run": finished.run_id, "status": "finished",
                             "epsilon_spent": round(dp["epsilon_spent"], 4)}


@pytest.mark.parametrize("trainable", ["all", "lora"])  # LoRA: the checkpoint holds peft's names
def test_resume_after_cancel_gives_the_same_final_epsilon(workspace, tiny_bert, trainable,
                                                         monkeypatch) -> None:
    cfg = config(tiny_bert, epochs=2, dp_trainable=trainable)
    one_noise_secret(workspace, monkeypatch)  # two runs, to compare: the same noise
    straight = run(workspace, cfg)
    token = CancelToken()
    first = []
    for event in train_on_rows(workspace, cfg, TEXTS, LABELS, splits=SPLITS, cancel=token):
        first.append(event)
        if isinstance(event, Step) and event.step == 8:
            token.cancel()
    assert isinstance(first[-1], Cancelled) and first[-1].step == 8
    run_id = first[0].run_id
    assert load_run(workspace, run_id).privacy["steps"] == 8
    cancelled = [e for e in workspace.verify_audit().entries if e.action == "run.ended"][-1]
    assert cancelled.details["status"] == "cancelled"
    assert cancelled.details["epsilon_spent"] == round(load_run(workspace, run_id).privacy["epsilon_spent"], 4)
    second = list(resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS))
    assert isinstance(second[0], Started) and second[0].resumed_from_step == 8
    assert isinstance(second[-1], Finished), second[-1]
    a = load_run(workspace, straight[-1].run_id).privacy
    b = load_run(workspace, run_id).privacy
    assert b["steps"] == a["steps"] and b["epsilon_spent"] == a["epsilon_spent"]
    # Each step's noise is seeded by the run's secret and the step, so even the weights match.
    wa, _ = load_model(workspace, f"runs/{straight[-1].run_id}/model")
    wb, _ = load_model(workspace, f"runs/{run_id}/model")
    sa, sb = wa.state_dict(), wb.state_dict()
    assert all(torch.allclose(sa[k], sb[k], atol=1e-6) for k in sa)


def test_the_noise_cannot_be_recomputed_from_the_public_seed(workspace, tiny_bert, monkeypatch) -> None:
    """The noise and the batches came from the seed (13 by default, printed in the model card):
    two runs with the same settings gave the same weights to the bit, so whoever knew the other
    rows could rerun training and read the noise off. Each run now draws them from a secret only
    the unlocked vault derives."""
    cfg = config(tiny_bert, epochs=1)
    runs = [run(workspace, cfg)[-1] for _ in range(2)]
    assert all(isinstance(r, Finished) for r in runs), runs
    weights = [load_model(workspace, f"runs/{r.run_id}/model")[0].state_dict() for r in runs]
    trained = [k for k in weights[0] if "classifier" in k]
    assert trained and not all(torch.equal(weights[0][k], weights[1][k]) for k in trained)
    assert all(load_run(workspace, r.run_id).privacy["noise_from_secret"] for r in runs)
    one_noise_secret(workspace, monkeypatch)  # the seed alone no longer decides: the secret does
    again = [run(workspace, cfg)[-1] for _ in range(2)]
    weights = [load_model(workspace, f"runs/{r.run_id}/model")[0].state_dict() for r in again]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_top_layers_leave_the_embeddings_untouched(workspace, tiny_bert) -> None:
    from engine.models.folders import load_for_training

    events = run(workspace, config(tiny_bert, epochs=1, dp_trainable="top-1"))
    assert isinstance(events[-1], Finished), events[-1]
    trained, _ = load_model(workspace, f"runs/{events[-1].run_id}/model")
    torch.manual_seed(13)
    start, _ = load_for_training(tiny_bert, ("neg", "pos"))
    a, b = trained.state_dict(), start.state_dict()
    assert torch.equal(a["bert.embeddings.word_embeddings.weight"], b["bert.embeddings.word_embeddings.weight"])
    assert torch.equal(a["bert.encoder.layer.0.attention.self.query.weight"],
                       b["bert.encoder.layer.0.attention.self.query.weight"])
    assert not torch.equal(a["bert.encoder.layer.1.attention.self.query.weight"],
                           b["bert.encoder.layer.1.attention.self.query.weight"])
    assert not torch.equal(a["classifier.weight"], b["classifier.weight"])


def test_top_layers_with_biases_also_move_every_bias_and_layernorm_below(workspace, tiny_bert) -> None:
    from engine.models.folders import load_for_training

    events = run(workspace, config(tiny_bert, epochs=1, dp_trainable="top-1+bias"))
    assert isinstance(events[-1], Finished), events[-1]
    dp = load_run(workspace, events[-1].run_id).privacy
    assert "every bias and LayerNorm weight below them" in dp["trained"]
    trained, _ = load_model(workspace, f"runs/{events[-1].run_id}/model")
    torch.manual_seed(13)
    start, _ = load_for_training(tiny_bert, ("neg", "pos"))
    a, b = trained.state_dict(), start.state_dict()
    frozen = ("bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
              "bert.encoder.layer.0.attention.self.query.weight",
              "bert.encoder.layer.0.intermediate.dense.weight")
    moved = ("bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
             "bert.encoder.layer.0.attention.self.query.bias",
             "bert.encoder.layer.0.output.LayerNorm.weight",
             "bert.encoder.layer.1.attention.self.query.weight", "classifier.weight")
    assert all(torch.equal(a[k], b[k]) for k in frozen)
    assert [k for k in moved if torch.equal(a[k], b[k])] == []
    # Only a few hundred more weights than the top layer alone: their noise costs little.
    base = sum(p.numel() for n, p in start.named_parameters()
                            if n.startswith(("bert.encoder.layer.1.", "bert.pooler.", "classifier.")))
    extra = sum(p.numel() for n, p in start.named_parameters()
                if n.endswith(".bias") and n.startswith(("bert.encoder.layer.0.", "bert.embeddings."))
                or "LayerNorm" in n and n.startswith(("bert.encoder.layer.0.", "bert.embeddings.")))
    assert dp["trainable_parameters"] == base + extra and extra < base / 10


@pytest.mark.parametrize("spec", ["top-0+bias", "top+bias", "all+bias", "lora+bias", "top-2+biases"])
def test_unknown_trainable_parts_are_named(spec) -> None:
    problems = [p.message for p in TrainConfig(dataset="d", dp=True, dp_trainable=spec).validate()]
    assert any(f"trainable part '{spec}' is unknown" in m and "top-N+bias" in m for m in problems)


@pytest.mark.parametrize("changes, kind, words", [
    ({"dp_delta": 0.05}, FailureKind.BAD_SETTING, f"is not below 1/N = {1 / TRAIN:g} for N = {TRAIN}"),
    ({"dp_logical_batch_size": 100}, FailureKind.BAD_SETTING,
     f"logical batch of 100 rows is larger than the {TRAIN} training rows"),
    ({"dp_epsilon": 0.02}, FailureKind.BAD_SETTING, "ε = 0.02 is too small for training to make progress"),
    ({"class_weights": True}, FailureKind.BAD_SETTING, "class weights are not supported with differential privacy"),
    ({"dp_trainable": "top-5"}, FailureKind.BAD_SETTING, "the model has only 2 layers"),
    ({"dp_trainable": "top-3+bias"}, FailureKind.BAD_SETTING, "the model has only 2 layers"),
])
def test_settings_that_cannot_work_fail_with_a_clear_message(workspace, tiny_bert, changes, kind, words) -> None:
    failed = run(workspace, config(tiny_bert, **changes))[-1]
    assert isinstance(failed, Failed) and failed.kind is kind
    assert words in failed.message, failed.message


def test_top_n_finds_the_layers_of_bert_and_distilbert_alike() -> None:
    """top-N (top-2 was the automatic DP choice before LoRA) must work for the usual encoder layouts."""
    from transformers import (BertConfig, BertForSequenceClassification, DistilBertConfig,
                              DistilBertForSequenceClassification)

    from engine.training.private import freeze_for

    bert = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3,
                                                    num_attention_heads=2, intermediate_size=32))
    distil = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=50, dim=16, n_layers=3,
                                                                  n_heads=2, hidden_dim=32))
    for model, top in ((bert, "bert.encoder.layer."), (distil, "distilbert.transformer.layer.")):
        freeze_for(model, "top-2")
        trained = {n for n, p in model.named_parameters() if p.requires_grad}
        prefix = model.base_model_prefix + "."
        kept = (top + "1.", top + "2.")  # the top two of three layers
        assert trained and all(n.startswith(kept) or "pooler" in n or not n.startswith(prefix)
                               for n in trained)
        assert {k for k in kept if any(n.startswith(k) for n in trained)} == set(kept)
        assert any(not n.startswith(prefix) for n in trained)  # the head
        assert not any(n.startswith(top + "0.") or "embeddings" in n for n in trained)


def test_a_run_that_fails_after_saving_weights_records_the_epsilon_they_spent(workspace, tiny_bert) -> None:
    """The best weights were saved at a validation point, the ε only at checkpoints: a run that
    failed in between exported weights trained for several noisy steps under "ε = 0 spent"."""
    from engine.runs import RunStatus
    from engine.training.private import build_private_parts

    def failing(model, **kw):
        parts = build_private_parts(model, **kw)
        steps, step = {"n": 0}, parts.step

        def failing_step() -> None:  # the fifth step of six in the first epoch: before a checkpoint
            steps["n"] += 1
            if steps["n"] == 5:
                raise RuntimeError("boom in the middle of an epoch")
            step()

        parts.step = failing_step
        return parts

    cfg = config(tiny_bert, epochs=3, eval_every_steps=2, select_best=True)
    events = run(workspace, cfg, parts_factory=failing)
    assert isinstance(events[-1], Failed), events[-1]
    record = load_run(workspace, events[0].run_id)
    assert record.status is RunStatus.FAILED
    assert workspace.list(f"runs/{record.run_id}/model/")  # weights were saved before the failure
    assert record.privacy["steps"] >= 2 and record.privacy["epsilon_spent"] > 0
    if record.best_step is not None:
        assert record.privacy["steps"] >= record.best_step  # what the saved weights spent, at least


def test_a_dp_run_with_no_recorded_epsilon_is_never_carded_as_without_dp() -> None:
    from types import SimpleNamespace

    from engine.export.exporters import _privacy_summary

    killed = SimpleNamespace(privacy=None, config={"dp": True})  # killed before a first record
    said = _privacy_summary(killed, export_encrypted=True).differential_privacy
    assert said.startswith("DP-SGD was on") and "no guarantee is stated" in said
    assert _privacy_summary(SimpleNamespace(privacy=None, config={"dp": False}), True).differential_privacy == "off"


def test_a_budget_the_data_cannot_take_is_refused_before_the_run_is_recorded(workspace, tiny_bert) -> None:
    """The app trains through the engine without the CLI's dry-run checks: "ε too small" was
    found inside Opacus, after the run was recorded, and left a failed run behind."""
    from engine.runs import list_runs

    before = len(workspace.verify_audit().entries)
    failed = run(workspace, config(tiny_bert, dp_epsilon=0.01))[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.BAD_SETTING
    assert "ε = 0.01 is too small for training to make progress" in failed.message
    assert list_runs(workspace) == [] and len(workspace.verify_audit().entries) == before


def test_a_physical_batch_larger_than_the_data_is_no_problem_with_dp(workspace, tiny_bert) -> None:
    # With DP the batch size only bounds memory (the logical batch is the sampling): 500 on 84
    # training rows was refused as "larger than the training rows".
    finished = run(workspace, config(tiny_bert, epochs=1, batch_size=500))[-1]
    assert isinstance(finished, Finished), finished
    assert load_run(workspace, finished.run_id).privacy["logical_batch_size"] == 16


def test_a_run_begun_before_the_noise_secret_is_resumed_as_it_began(workspace, tiny_bert) -> None:
    """Its first steps drew their noise from the seed: a resume must not make its card claim a
    secret for all of them."""
    from engine.runs import save_run

    token = CancelToken()
    first = []
    for event in train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS, cancel=token):
        first.append(event)
        if isinstance(event, Step) and event.step == 4:
            token.cancel()
    run_id = first[0].run_id
    record = load_run(workspace, run_id)
    assert record.privacy["noise_from_secret"] is True
    old = {k: v for k, v in record.privacy.items() if k != "noise_from_secret"}  # as recorded then
    save_run(workspace, record.updated(privacy=old))
    assert isinstance(list(resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS))[-1], Finished)
    assert load_run(workspace, run_id).privacy["noise_from_secret"] is False


def test_a_run_record_that_cannot_be_read_leaves_out_the_epsilon_not_the_end(workspace, monkeypatch) -> None:
    """The ε read for a DP run's end sat in the same try as the entry: a record that could not
    be read (the full disk that ended the run) lost the run's end from the audit log."""
    from types import SimpleNamespace

    import engine.runs
    from engine.training.entry import _audit_end

    def unreadable(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.runs, "load_run", unreadable)
    run = SimpleNamespace(run_id="r-full-disk", privacy=None, config={"dp": True})
    _audit_end({"record": (workspace, run)}, "failed")
    ended = workspace.verify_audit().entries[-1]
    assert ended.action == "run.ended" and ended.details == {"run": "r-full-disk", "status": "failed"}
