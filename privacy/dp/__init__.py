"""Differentially private training through Opacus: the budget, the wrapper, the accountant.

Qt-free and engine-free: it knows torch and Opacus, not Cloister's training loop. The engine
calls it through its ``TrainingParts`` seam (``engine.training.private``).
"""
from __future__ import annotations

from privacy.dp.budget import (
    ACCOUNTANTS,
    PRESETS,
    DPSettingError,
    check_budget,
    default_delta,
    epsilon_for,
    noise_for_budget,
    steps_within_budget,
)

__all__ = [
    "ACCOUNTANTS",
    "PRESETS",
    "DPSettingError",
    "check_budget",
    "default_delta",
    "epsilon_for",
    "noise_for_budget",
    "steps_within_budget",
]
