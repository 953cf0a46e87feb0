"""DP-LoRA (``--dp-trainable lora``): adapters through peft, trained under real Opacus, saved
as a plain model with the adapters folded in."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from engine.events import FailureKind, Finished
from engine.failures import TrainingFailure
from engine.models.weights import load_model
from engine.runs import load_run
from engine.training import TrainConfig, train_on_rows
from engine.training.lora import add_lora, has_lora, plain_view, unload_lora
from engine.training.private import freeze_for
from tests.engine.tiny_model import make_tiny_gpt2, tiny_bert, toy_rows, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
N = 120
TEXTS, LABELS = toy_rows(N, seed=4)
SPLITS = toy_splits(N, seed=4)


def config(model: Path, **changes) -> TrainConfig:
    base = TrainConfig(dataset="toy", model_path=str(model), epochs=2, batch_size=8, learning_rate=3e-3,
                       max_length=32, early_stopping_patience=None, select_best=False, dp=True,
                       dp_epsilon=8.0, dp_logical_batch_size=16, dp_accountant="rdp", dp_trainable="lora")
    return dataclasses.replace(base, **changes)


def small_bert():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2,
                                                    num_attention_heads=2, intermediate_size=32)).eval()


def test_adapters_train_and_everything_else_is_frozen() -> None:
    model = small_bert()
    plain_names = set(model.state_dict())
    freeze_for(model, "lora")
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {n for n in trained if ".lora_" in n} == {
        f"bert.encoder.layer.{i}.attention.self.{proj}.lora_{ab}.default.weight"
        for i in (0, 1) for proj in ("query", "value") for ab in "AB"}
    assert {n for n in trained if ".lora_" not in n} == {
        "bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"}
    with plain_view(model):
        assert set(model.state_dict()) == plain_names  # what gets saved has the original names


def test_plain_view_folds_the_adapters_in_and_restores_them_exactly() -> None:
    model = small_bert()
    assert add_lora(model) == ["query", "value"]  # the projections that got adapters
    for name, p in model.named_parameters():
        if "lora_B" in name:  # B starts at zero; give the adapters something to fold in
            torch.nn.init.normal_(p, std=0.5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ids = torch.randint(5, 50, (3, 7))
    with torch.no_grad():
        adapted = model(input_ids=ids).logits
        with plain_view(model):
            assert not has_lora(model)
            plain = model(input_ids=ids).logits
            q = model.bert.encoder.layer[0].attention.self.query.weight
            assert not torch.equal(q, before["bert.encoder.layer.0.attention.self.query.base_layer.weight"])
    assert torch.allclose(adapted, plain, atol=1e-5)
    assert has_lora(model)
    after = model.state_dict()
    assert set(after) == set(before) and all(torch.equal(after[k], before[k]) for k in before)
    unload_lora(model)
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, adapted, atol=1e-5)
    assert not has_lora(model)


def test_a_dp_lora_run_saves_a_plain_model_with_only_attention_changed(workspace, tiny_bert) -> None:
    from engine.models.folders import load_for_training

    events = list(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS))
    assert isinstance(events[-1], Finished), events[-1]
    dp = load_run(workspace, events[-1].run_id).privacy
    assert 7.5 < dp["epsilon_spent"] <= 8.0 and dp["steps"] == events[0].total_steps
    trained, _ = load_model(workspace, f"runs/{events[-1].run_id}/model")
    torch.manual_seed(13)
    start, _ = load_for_training(tiny_bert, ("neg", "pos"))
    # The record (and so the model card) says what took the noise: the adapters, pooler, head.
    assert dp["trained"].startswith("LoRA adapters (rank 8)")
    assert dp["grad_sample_mode"] == "hooks"  # "auto": hooks for LoRA's small per-row gradients
    adapted, _ = load_for_training(tiny_bert, ("neg", "pos"))
    freeze_for(adapted, "lora")
    assert dp["trainable_parameters"] == sum(p.numel() for p in adapted.parameters() if p.requires_grad)
    a, b = trained.state_dict(), start.state_dict()
    assert set(a) == set(b)  # a plain BERT classifier: no adapter names
    for i in (0, 1):  # the adapted projections moved in every layer, the others did not
        layer = f"bert.encoder.layer.{i}."
        assert not torch.equal(a[layer + "attention.self.query.weight"], b[layer + "attention.self.query.weight"])
        assert not torch.equal(a[layer + "attention.self.value.weight"], b[layer + "attention.self.value.weight"])
        assert torch.equal(a[layer + "attention.self.key.weight"], b[layer + "attention.self.key.weight"])
        assert torch.equal(a[layer + "intermediate.dense.weight"], b[layer + "intermediate.dense.weight"])
    assert torch.equal(a["bert.embeddings.word_embeddings.weight"], b["bert.embeddings.word_embeddings.weight"])
    assert not torch.equal(a["classifier.weight"], b["classifier.weight"])


def test_best_model_selection_reloads_the_folded_weights(workspace, tiny_bert) -> None:
    """select_best saves the model at each validation and reloads the best one at the end: both
    must go through the plain view, or the reload fails on the adapters' names."""
    events = list(train_on_rows(workspace, config(tiny_bert, select_best=True), TEXTS, LABELS, splits=SPLITS))
    assert isinstance(events[-1], Finished), events[-1]
    assert events[-1].best_step is not None and "accuracy" in events[-1].metrics


def test_a_model_without_query_and_value_projections_is_refused_clearly(tmp_path) -> None:
    from transformers import AutoModelForSequenceClassification

    folder = make_tiny_gpt2(tmp_path / "gpt2")
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
    with pytest.raises(TrainingFailure) as caught:
        freeze_for(model, "lora")
    assert caught.value.kind is FailureKind.BAD_MODEL
    assert "use --dp-trainable top-2 instead" in str(caught.value)


def test_distilbert_gets_adapters_on_its_own_projection_names() -> None:
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    model = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=50, dim=16, n_layers=2,
                                                                 n_heads=2, hidden_dim=32))
    freeze_for(model, "lora")
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(".q_lin.lora_A." in n for n in trained) and any(".v_lin.lora_B." in n for n in trained)
    assert not any("k_lin" in n or "embeddings" in n for n in trained)


def test_an_unknown_trainable_part_names_the_choices(tiny_bert) -> None:
    problems = config(tiny_bert, dp_trainable="adapters").validate(train_rows=84)
    assert any("use all, lora, top-N (e.g. top-2" in p.message and "top-N+bias" in p.message for p in problems)
    assert not config(tiny_bert).validate(train_rows=84)
