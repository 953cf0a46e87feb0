"""A rough forecast of training time and peak memory, before anything is loaded.

The model is described by its config.json only. Time follows the usual transformer rule of
thumb: training costs about 6 x parameters x tokens floating-point operations (forward 2,
backward 4), embeddings excluded since they are lookups. Tokens per row are assumed to be
``min(max_length, 48)`` on average, since dynamic padding means short texts cost little.
Throughput per device is a conservative sustained figure: within a factor of two or so.

Differential privacy (``config.dp``) changes the backward pass, not the forward one. With
``top-N`` only the top N layers are trained, so the backward pass stops there; with ``lora`` it
goes through every layer but computes weight gradients for the small adapters only. Ghost clipping
(the default) runs two backward passes, one for the per-row gradient norms and one for the
clipped sum (Li et al. 2021), measured at 3.7 times a plain backward pass on a CPU; per-sample hooks run one and keep a gradient per row and
parameter, which costs memory in proportion to the physical batch.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.models.folders import check_model_folder, resolve_model_path
from engine.training.config import TrainConfig, trainable_layers, trains_lower_biases
from engine.training.lora import LORA

ASSUMED_MEAN_TOKENS = 48
# Sustained training FLOP/s, fp32 on CPU per core, mixed precision on GPUs.
_CPU_FLOPS_PER_CORE = 25e9
_GPU_FLOPS = {"cuda": 60e12, "mps": 4e12}


@dataclass(frozen=True)
class Estimate:
    seconds: float
    peak_memory_bytes: int
    device: str  # "cuda", "mps" or "cpu"

    @property
    def device_name(self) -> str:
        """As a user calls it: "GPU", "Apple GPU", "CPU"."""
        return {"cuda": "GPU", "mps": "Apple GPU", "cpu": "CPU"}.get(self.device, self.device)


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


def estimate(config: TrainConfig, rows: int, *, mean_tokens: float | None = None,
             windows_per_text: float = 1.0) -> Estimate:
    """Seconds and peak memory to train ``config`` on ``rows`` rows (80% of them train).

    ``mean_tokens``: the data's measured mean tokens per text after truncation at
    ``config.max_length`` (``engine.training.auto``), or per window with long texts read in
    windows, each text then counting as ``windows_per_text`` examples (``AutoSettings.windows_at``);
    without it ``ASSUMED_MEAN_TOKENS``. Memory always assumes a batch as long as ``max_length``:
    the longest batch runs first.
    """
    rows = max(rows, int(round(rows * windows_per_text)))
    from engine.training.devices import cpu_threads

    info = check_model_folder(resolve_model_path(config.model_path))
    embed = (info.vocab_size + info.max_length) * info.hidden_size
    compute_params = max(1, info.approx_parameters - embed)
    tokens = min(config.max_length, mean_tokens if mean_tokens else ASSUMED_MEAN_TOKENS)
    train_rows = int(rows * 0.8)
    lora = config.dp and config.dp_trainable == LORA
    # top-N+bias: the biases below the top N need the activation gradients of every layer.
    biases = config.dp and trains_lower_biases(config.dp_trainable)
    share = _trainable_share(config, max(1, info.num_layers))
    trainable = share * compute_params
    if lora:
        # Gradients flow back through every layer (2 x parameters x tokens for the activations),
        # but only the adapters and the head take weight gradients.
        backward = 2 * compute_params * _DP_LORA_BACKWARD[config.grad_sample_mode]
    else:
        backward = 4 * trainable * (_dp_backward_factor(config, share) if config.dp else 1.0)
        if biases:  # measured ~2x the top layers alone on all of sst2 (bench/RESULTS.md)
            backward += 2 * compute_params * _DP_LORA_BACKWARD[config.grad_sample_mode]
    # Validation passes each epoch are forward-only: 2 of the training pass's FLOPs per row.
    flops = tokens * config.epochs * ((2 * compute_params + backward) * train_rows
                                      + 2 * compute_params * 0.1 * rows)
    kind = _device_kind(config.device)
    speed = _GPU_FLOPS.get(kind, _CPU_FLOPS_PER_CORE * cpu_threads())
    seconds = flops / speed + 5.0  # plus model loading and set-up
    # Weights, gradients and AdamW's two moments in fp32, plus activations of the longest batch
    # (about 20 hidden-size vectors per token per layer, kept for the backward pass).
    # Top N layers only: the frozen weights need no gradient or moments, and the frozen layers
    # keep no activations (nothing below them needs a gradient).
    trained_weights = info.approx_parameters if share >= 1.0 else trainable
    states = 4 * info.approx_parameters + 3 * 4 * trained_weights
    activations = (4 * 20 * config.batch_size * config.max_length * info.hidden_size
                   * max(1, info.num_layers) * (1.0 if lora or biases else share))
    memory: float = states + activations
    if config.dp:
        # Opacus keeps each layer's activations and output gradients for the norms (ghost), or
        # one gradient per row and parameter (hooks); bench_dp measured 1.23x peak RSS for ghost.
        memory = memory * 1.25 if config.grad_sample_mode == "ghost" \
            else memory + 4 * config.batch_size * trainable
    if kind in ("cpu", "mps"):
        # There the estimate is the process's own RAM, which also holds the runtime (torch,
        # transformers, the tokenizer), the copies made while the best weights are saved, and
        # the rows (texts, their table, their tokens). Without these it said 524 MiB for MiniLM
        # on 2,000 sst2 rows, which peaked at 1.22 GB, and 479 MiB for 606,140 rows (1.48 GB).
        memory += (_RUNTIME_BYTES + 3 * 4 * info.approx_parameters
                   + rows * (_BYTES_PER_ROW + _BYTES_PER_ROW_TOKEN * tokens))
    return Estimate(seconds=seconds, peak_memory_bytes=int(memory), device=kind)


# Host memory beyond the training state (peak RSS of `cloister train`, MiniLM, 2026-12-06):
# the Python runtime with its libraries, and per row about 480 bytes at sst2's 13 tokens.
_RUNTIME_BYTES = 450 * 2**20
_BYTES_PER_ROW = 150
_BYTES_PER_ROW_TOKEN = 25


# The cost of a DP backward pass relative to a plain one. Ghost clipping runs two backward
# passes plus the per-layer norm computations: bench_dp measured 2.79x the plain time for all
# of MiniLM on the 2-core CPU (2026-12-03), i.e. (2 + 4 x 3.7) / 6. Hooks were not measured:
# the same factor is assumed.
_DP_BACKWARD_PASSES = {"ghost": 3.7, "hooks": 3.7}
# Training only the top N layers (embeddings frozen, so no per-row embedding norms): bench_dp
# measured 0.68x the plain time for the top layer and 0.90x for the top two (2026-12-04), i.e.
# about (2 + 4 x share x 2.8) / 6 for both.
_DP_TOP_LAYERS_BACKWARD = 2.8


# LoRA: the activation-gradient pass through all layers, relative to its plain cost (peft's
# extra products and Opacus's per-row work on top). bench_dp --trainable lora measured 0.85x
# the plain time with hooks and 1.16x with ghost clipping on the 2-core CPU (2026-12-05), i.e.
# (2 + 2 x 1.55) / 6 and (2 + 2 x 2.5) / 6.
_DP_LORA_BACKWARD = {"hooks": 1.55, "ghost": 2.5}
_LORA_SHARE = 0.01


def _dp_backward_factor(config: TrainConfig, share: float) -> float:
    if share < 1.0:
        return _DP_TOP_LAYERS_BACKWARD
    return _DP_BACKWARD_PASSES[config.grad_sample_mode]


def _trainable_share(config: TrainConfig, layers: int) -> float:
    """The share of the encoder's weights that get gradients: all, the top N layers', or for
    LoRA about 1% (rank-8 adapters on two 384-wide projections, plus the pooler and head)."""
    if config.dp and config.dp_trainable == LORA:
        return _LORA_SHARE
    n = trainable_layers(config.dp_trainable) if config.dp else None
    return 1.0 if n is None else min(1.0, n / layers)
