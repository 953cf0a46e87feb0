"""Fine-tuning: ``train``/``resume`` yield events; ``estimate`` predicts time and memory.

Heavy libraries (torch, transformers) are imported inside functions, so importing this package
is cheap.
"""
from __future__ import annotations

from engine.training.config import DevicePreference, TrainConfig
from engine.training.estimate import Estimate, estimate
from engine.training.entry import resume, resume_on_rows, train, train_on_rows

__all__ = [
    "DevicePreference",
    "Estimate",
    "TrainConfig",
    "estimate",
    "resume",
    "resume_on_rows",
    "train",
    "train_on_rows",
]
