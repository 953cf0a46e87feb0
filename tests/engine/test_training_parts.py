"""The parts seam: the loop trains what ``TrainingParts`` gives it, and nothing else."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from engine.events import Finished, Step
from engine.training import TrainConfig, train_on_rows
from engine.training.optim import build_training_parts
from tests.engine.tiny_model import tiny_bert, toy_rows, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
N = 60
TEXTS, LABELS = toy_rows(N, seed=2)
SPLITS = toy_splits(N, seed=2)


def config(model: Path, **changes) -> TrainConfig:
    base = TrainConfig(dataset="toy", model_path=str(model), epochs=1, batch_size=8,
                       learning_rate=1e-3, max_length=32, early_stopping_patience=None,
                       select_best=False)
    return dataclasses.replace(base, **changes)


class Counting(torch.nn.Module):
    """Wraps the loaded model, counts training forward passes and shifts the logits.

    The shift changes the loss, so a loop that ran the loaded model instead of the parts'
    would report other losses as well as zero calls.
    """

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, **inputs):
        out = self.inner(**inputs)
        if self.training:
            self.calls += 1
        out.logits = out.logits + torch.tensor([5.0, -5.0])
        return out


def test_the_parts_model_is_the_one_trained(workspace, tiny_bert) -> None:
    made = {}

    def factory(model, **kw):
        parts = build_training_parts(model, **kw)
        made["wrapper"] = wrapper = Counting(model)
        return dataclasses.replace(parts, model=wrapper)

    wrapped = list(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS,
                                 parts_factory=factory))
    plain = list(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS))
    assert isinstance(wrapped[-1], Finished) and isinstance(plain[-1], Finished)
    micro_batches = -(-len(SPLITS[0]) // 8)
    assert made["wrapper"].calls == micro_batches
    first = [next(e for e in events if isinstance(e, Step)).loss for events in (wrapped, plain)]
    assert first[0] > first[1] + 0.5  # the shifted logits were the ones the loss saw


def test_the_parts_step_is_the_one_applied(workspace, tiny_bert) -> None:
    """A step that never updates leaves the weights as loaded: the loop does not step itself."""
    from engine.models.weights import load_model

    def frozen(model, **kw):
        parts = build_training_parts(model, **kw)
        return dataclasses.replace(parts, step=lambda: None)

    events = list(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS,
                                parts_factory=frozen))
    trained = list(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS, splits=SPLITS))
    a, _ = load_model(workspace, f"runs/{events[-1].run_id}/model")
    b, _ = load_model(workspace, f"runs/{trained[-1].run_id}/model")
    from engine.models.folders import load_for_training

    torch.manual_seed(13)  # the seed the trainer uses before the head is created
    start, _ = load_for_training(tiny_bert, ("neg", "pos"))
    sa, sb, s0 = a.state_dict(), b.state_dict(), start.state_dict()
    assert all(torch.equal(sa[k], s0[k]) for k in s0)
    assert not all(torch.equal(sb[k], s0[k]) for k in s0)
