"""The one place that builds the optimizer, the learning-rate schedule and the batch plan.

A differential-privacy wrapper replaces ``build_training_parts`` as a whole (Opacus needs to wrap
the model, the optimizer and the data loading together), so the loop never builds these itself.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.training.config import TrainConfig
from engine.training.data import length_grouped_batches

# Parameters whose names contain these are not decayed: decaying biases and LayerNorm gains
# only hurts (the AdamW paper and BERT's recipe both exclude them).
_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "LayerNorm.bias", "norm.weight")


@dataclass
class TrainingParts:
    model: Any
    optimizer: Any
    scheduler: Any
    batches_for_epoch: Callable[[int], list[np.ndarray]]  # epoch -> row positions per micro-batch
    steps_per_epoch: int  # optimizer steps
    total_steps: int


def steps_per_epoch(train_rows: int, *, batch_size: int, grad_accumulation: int) -> int:
    micro = -(-train_rows // batch_size)
    return max(1, -(-micro // grad_accumulation))


def param_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    decay: list[Any] = []
    no_decay: list[Any] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if any(k in name for k in _NO_DECAY) else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def linear_schedule(optimizer: Any, *, warmup_steps: int, total_steps: int) -> Any:
    """Linear warm-up from 0 to the set rate, then linear decay to 0 at ``total_steps``."""
    import torch

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def build_training_parts(
    model: Any, *, config: TrainConfig, train_lengths: np.ndarray, device_type: str = "cpu"
) -> TrainingParts:
    import torch

    per_epoch = steps_per_epoch(
        len(train_lengths), batch_size=config.batch_size, grad_accumulation=config.grad_accumulation
    )
    total = per_epoch * config.epochs
    # The fused kernel is the same algorithm in one pass over memory: on CPU it is ~8x faster
    # than the default (0.04 s against 0.3 s per step for MiniLM's 22.7M parameters on one
    # core), which matters because the step costs the same whatever the batch size.
    fused = device_type in ("cuda", "cpu", "mps")
    try:
        optimizer = torch.optim.AdamW(
            param_groups(model, config.weight_decay), lr=config.learning_rate, fused=fused
        )
    except (RuntimeError, TypeError):  # an older torch or device without the fused kernel
        optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.learning_rate)
    scheduler = linear_schedule(
        optimizer, warmup_steps=int(round(config.warmup_ratio * total)), total_steps=total
    )

    def batches_for_epoch(epoch: int) -> list[np.ndarray]:
        return length_grouped_batches(
            train_lengths, batch_size=config.batch_size, seed=config.seed, epoch=epoch
        )

    return TrainingParts(model, optimizer, scheduler, batches_for_epoch, per_epoch, total)
