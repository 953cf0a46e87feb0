"""One run of the real default base model (MiniLM-L6) on a few dozen bundled sample rows."""
from __future__ import annotations

import csv
import math

import pytest
import torch

from engine.demo import sample_path
from engine.events import Evaluated, Finished, Started, Step
from engine.models.folders import default_model_path
from engine.models.weights import load_model
from engine.training import TrainConfig, train
from tests.engine.tiny_model import store_rows, workspace  # noqa: F401


@pytest.fixture
def two_threads():
    """MiniLM is worth both cores; put back what the rest of the suite runs with."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_default_minilm_fine_tunes_on_sample_rows(workspace, two_threads) -> None:
    with sample_path().open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ham = [r for r in rows if r["label"] == "ham"][:30]
    spam = [r for r in rows if r["label"] == "spam"][:18]
    picked = ham + spam
    store_rows(workspace, "sms", [r["text"] for r in picked], [r["label"] for r in picked])

    config = TrainConfig(dataset="sms", epochs=1, batch_size=8, max_length=32, learning_rate=1e-4)
    events = list(train(workspace, config))
    started, finished = events[0], events[-1]
    assert isinstance(started, Started) and isinstance(finished, Finished), events[-1]
    assert started.labels == ("ham", "spam") and started.device.startswith(("cpu", "cuda", "mps"))
    losses = [e.loss for e in events if isinstance(e, Step)]
    assert losses and all(math.isfinite(x) and x > 0 for x in losses)
    test = next(e for e in events if isinstance(e, Evaluated) and e.split == "test")
    assert 0.0 <= test.metrics["accuracy"] <= 1.0 and "roc_auc" in test.metrics

    model, tokenizer = load_model(workspace, f"runs/{finished.run_id}/model")
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    # It learnt: the encoder moved away from the base model's weights (any accuracy between 0
    # and 1 passes above, and a loop that never stepped would pass that too).
    from transformers import AutoModel

    base = AutoModel.from_pretrained(default_model_path())
    trained = dict(model.base_model.named_parameters())
    moved = [name for name, weight in base.named_parameters()
             if not torch.equal(weight, trained[name].to(weight.device))]
    assert any(name.startswith("encoder.layer.5.") for name in moved)
    assert any(name.startswith("embeddings.") for name in moved)  # every layer trains by default
    assert model.config.id2label == {0: "ham", 1: "spam"}
    assert tokenizer.model_max_length == 512
    with torch.inference_mode():
        logits = model(**tokenizer(["WINNER!! claim your free prize now"], return_tensors="pt")).logits
    assert logits.shape == (1, 2) and torch.isfinite(logits).all()
