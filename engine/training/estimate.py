"""A rough forecast of training time and peak memory, before anything is loaded.

The model is described by its config.json only. Time follows the usual transformer rule of
thumb: training costs about 6 x parameters x tokens floating-point operations (forward 2,
backward 4), embeddings excluded since they are lookups. Tokens per row are assumed to be
``min(max_length, 48)`` on average, since dynamic padding means short texts cost little.
Throughput per device is a conservative sustained figure: within a factor of two or so.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.models.folders import check_model_folder, resolve_model_path
from engine.training.config import TrainConfig

ASSUMED_MEAN_TOKENS = 48
# Sustained training FLOP/s, fp32 on CPU per core, mixed precision on GPUs.
_CPU_FLOPS_PER_CORE = 25e9
_GPU_FLOPS = {"cuda": 60e12, "mps": 4e12}


@dataclass(frozen=True)
class Estimate:
    seconds: float
    peak_memory_bytes: int
    device: str  # "cuda", "mps" or "cpu"


def _device_kind(preference: str) -> str:
    import torch

    from engine.training.config import DeviceSetting

    kind = DeviceSetting.parse(preference).preference.value
    if kind in ("auto", "cuda") and torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if kind in ("auto", "mps") and mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def estimate(config: TrainConfig, rows: int, *, mean_tokens: float | None = None) -> Estimate:
    """Seconds and peak memory to train ``config`` on ``rows`` rows (80% of them train).

    ``mean_tokens``: the data's measured mean tokens per text after truncation at
    ``config.max_length`` (``engine.training.auto``); without it ``ASSUMED_MEAN_TOKENS``.
    Memory always assumes a batch as long as ``max_length``: the longest batch runs first.
    """
    from engine.training.devices import cpu_threads

    info = check_model_folder(resolve_model_path(config.model_path))
    embed = (info.vocab_size + info.max_length) * info.hidden_size
    compute_params = max(1, info.approx_parameters - embed)
    tokens = min(config.max_length, mean_tokens if mean_tokens else ASSUMED_MEAN_TOKENS)
    train_rows = int(rows * 0.8)
    # Validation passes each epoch are forward-only: ~1/3 of a training pass per row.
    flops = 6 * compute_params * tokens * config.epochs * (train_rows + 0.1 * rows / 3)
    kind = _device_kind(config.device)
    speed = _GPU_FLOPS.get(kind, _CPU_FLOPS_PER_CORE * cpu_threads())
    seconds = flops / speed + 5.0  # plus model loading and set-up
    # Weights, gradients and AdamW's two moments in fp32, plus activations of the longest batch
    # (about 20 hidden-size vectors per token per layer, kept for the backward pass).
    states = 4 * 4 * info.approx_parameters
    activations = 4 * 20 * config.batch_size * config.max_length * info.hidden_size * max(1, info.num_layers)
    return Estimate(seconds=seconds, peak_memory_bytes=int(states + activations), device=kind)
