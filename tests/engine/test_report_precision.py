"""The test report stored when a run ends is what the saved model gives: on a GPU the trainer
trains under bf16 autocast, and it scored validation and test that way too, while `predict`,
`evaluate` and an export read the saved model in float32, so the stored scores were not the
model's (borderline predictions flipped, ROC AUC moved by two points)."""
from __future__ import annotations

import pytest
import torch

from engine.events import Failed, Finished
from engine.evaluation.evaluate import evaluate_run
from engine.evaluation.report import load_report
from engine.training.config import TrainConfig
from engine.training.devices import DeviceChoice
from engine.training.entry import train
from tests.engine.tiny_model import store_rows, tiny_bert, toy_rows, workspace  # noqa: F401


def test_the_stored_report_is_the_saved_models_own_under_mixed_precision(
        workspace, tiny_bert, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    import engine.training.loop as loop

    # What choose_device gives on a CUDA machine, on the CPU (which runs bf16 autocast too):
    # the GPU is the edge this machine does not have.
    monkeypatch.setattr(loop, "choose_device", lambda preference: DeviceChoice(
        torch.device("cpu"), torch.bfloat16, False, "cpu (bf16 autocast, as on CUDA)"))
    texts, labels = toy_rows(160, seed=3)
    noisy = [("pos" if label == "neg" else "neg") if i % 5 == 0 else label
             for i, label in enumerate(labels)]  # borderline rows, where precision shows
    store_rows(workspace, "toy", texts, noisy)
    config = TrainConfig(dataset="toy", model_path=str(tiny_bert), epochs=2, learning_rate=1e-2,
                         early_stopping_patience=None, device="cpu", max_length=64, batch_size=16)
    end = [e for e in train(workspace, config) if isinstance(e, (Finished, Failed))][-1]
    assert isinstance(end, Finished), end
    stored = load_report(workspace, end.run_id)
    fresh = evaluate_run(workspace, end.run_id, device="cpu")  # float32, as predict and exports
    assert stored.confusion == fresh.confusion
    assert stored.roc_auc == pytest.approx(fresh.roc_auc, abs=1e-6)
    assert stored.ece == pytest.approx(fresh.ece, abs=1e-6)
