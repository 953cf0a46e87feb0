"""LoRA adapters (Hu et al. 2021) for DP training: ``--dp-trainable lora`` (DP-LoRA, Yu et al. 2021).

Every encoder layer's attention query and value projections get a rank-r update B·A through
``peft``; only A, B, the pooler and the classification head train. Under DP-SGD the noise is
added to every trainable coordinate, so a few hundred thousand adapter weights spread over all
layers carry far less noise than two whole layers, while still adapting the whole encoder.

The adapters are injected into the Hugging Face model in place (``inject_adapter_in_model``),
so the loop keeps evaluating and checkpointing the same object; a checkpoint then holds peft's
names (``...query.base_layer.weight``, ``...query.lora_A.default.weight``). What is saved as a
model is always plain: ``plain_view`` folds B·A into the base weights, so prediction,
export and the model card see an ordinary BERT classifier of the original shape.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator

LORA = "lora"
LORA_RANK = 8
LORA_ALPHA = 16  # the update is scaled by alpha / r = 2, as in Yu et al.'s RoBERTa runs
# BERT, RoBERTa, MiniLM, ELECTRA name them query/value; DistilBERT q_lin/v_lin.
LORA_TARGETS = ("query", "value", "q_lin", "v_lin")


def lora_layers(model: Any) -> list[tuple[Any, str, Any]]:
    """(parent, attribute, layer) for every LoRA layer in ``model``."""
    if "peft" not in sys.modules:
        return []  # nothing imported peft, so no adapter exists; plain runs skip its import time
    from peft.tuners.lora import LoraLayer

    found = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, LoraLayer):
                found.append((parent, name, child))
    return found


def has_lora(model: Any) -> bool:
    return bool(lora_layers(model))


def is_lora_weight(name: str) -> bool:
    """Whether the parameter ``name`` (from ``named_parameters``) is an adapter's A or B."""
    return ".lora_" in name


def add_lora(model: Any, *, rank: int = LORA_RANK, alpha: int = LORA_ALPHA) -> list[str]:
    """Inject adapters (which freezes nothing: ``engine.training.private.freeze_for`` decides
    what trains).

    Returns the names of the projections that got adapters; raises ``ValueError`` with a
    sentence a user can act on when the model has none of ``LORA_TARGETS``.
    """
    from peft import LoraConfig, inject_adapter_in_model

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in LORA_TARGETS if t in names]
    if not targets:
        raise ValueError("LoRA adapters need attention projections named query/value (BERT, "
                         "RoBERTa, MiniLM) or q_lin/v_lin (DistilBERT), which this model lacks: "
                         "use --dp-trainable top-2 instead")
    # lora_dropout 0: dropout inside the adapter would only add noise to the per-row gradients.
    inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=alpha, target_modules=targets,
                                       lora_dropout=0.0, bias="none"), model)
    return targets


def _merged_base(layer: Any) -> Any:
    """The adapter's base ``nn.Linear`` with B·A·scale added to its weight (in place)."""
    import torch

    base = layer.get_base_layer()
    with torch.no_grad():
        for adapter in layer.active_adapters:
            base.weight += layer.get_delta_weight(adapter).to(base.weight.dtype)
    return base


def unload_lora(model: Any) -> None:
    """Fold the adapters into the base weights for good and put the plain layers back."""
    for parent, name, layer in lora_layers(model):
        setattr(parent, name, _merged_base(layer))


@contextmanager
def plain_view(model: Any) -> Iterator[Any]:
    """``model`` with its adapters swapped out for merged plain layers while inside, restored
    exactly afterwards (the base weights are copied, not un-merged, so no rounding creeps in)."""
    import torch

    layers = lora_layers(model)
    saved = []
    try:
        for parent, name, layer in layers:
            saved.append(layer.get_base_layer().weight.detach().clone())
            setattr(parent, name, _merged_base(layer))
        yield model
    finally:
        for (parent, name, layer), weight in zip(layers, saved):
            with torch.no_grad():
                layer.get_base_layer().weight.copy_(weight)
            setattr(parent, name, layer)

