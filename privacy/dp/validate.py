"""Opacus's ``ModuleValidator`` findings, turned into messages a user can act on."""
from __future__ import annotations

from typing import Any

from privacy.dp.budget import DPSettingError

# What each kind of finding means for someone choosing a model, not for someone editing it.
_ADVICE = {
    "BatchNorm": "it normalises across the rows of a batch, so one row's influence cannot be "
                 "bounded; choose a model that uses LayerNorm (any BERT-family model does)",
    "LSTM": "Opacus needs its own DPLSTM layer for it; choose a Transformer (BERT-family) model",
    "GRU": "Opacus needs its own DPGRU layer for it; choose a Transformer (BERT-family) model",
    "RNN": "Opacus needs its own DPRNN layer for it; choose a Transformer (BERT-family) model",
    "MultiheadAttention": "Opacus needs its own DPMultiheadAttention layer for torch's fused "
                          "attention; choose a Hugging Face BERT-family model",
}


def model_problems(model: Any) -> list[str]:
    """Each part of ``model`` that DP training cannot handle, with what to do instead."""
    from opacus.validators import ModuleValidator

    messages = []
    for error in ModuleValidator.validate(model, strict=False):
        text = str(error)
        advice = next((a for key, a in _ADVICE.items() if key in text), None)
        messages.append(
            f"{text.strip().rstrip('.')}: {advice}" if advice
            else f"{text.strip().rstrip('.')}: this layer cannot be trained with differential "
                 "privacy; choose a BERT-family model or train fewer layers (--dp-trainable top-2)"
        )
    return messages


def check_model(model: Any) -> None:
    """Raise ``DPSettingError`` listing every finding, or return when the model is usable."""
    problems = model_problems(model)
    if problems:
        raise DPSettingError(
            "this model cannot be trained with differential privacy: " + "; ".join(problems)
        )
