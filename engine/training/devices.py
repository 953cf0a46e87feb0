"""Pick where to train: CUDA, then Apple MPS, then CPU, and how (mixed precision, threads)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from engine.errors import InputError
from engine.units import count_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceChoice:
    device: Any  # torch.device
    autocast_dtype: Any | None  # torch.bfloat16 / torch.float16, or None for full precision
    use_grad_scaler: bool  # fp16 needs loss scaling; bf16 and fp32 do not
    description: str  # for the Started event, e.g. "cuda:0 (NVIDIA H100, bf16)"


def cpu_threads() -> int:
    """Physical cores (hyper-threads slow matmuls down), honouring OMP_NUM_THREADS if set."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:  # pragma: no cover - psutil missing or unsupported platform
        physical = None
    return max(1, physical or os.cpu_count() or 1)


def choose_device(preference: str = "auto", *, configure_threads: bool = True) -> DeviceChoice:
    import torch

    from engine.training.config import DeviceSetting

    setting = DeviceSetting.parse(preference)
    kind = setting.preference.value
    if kind in ("auto", "cuda") and torch.cuda.is_available():
        device = torch.device(str(setting) if kind == "cuda" else "cuda")
        name = torch.cuda.get_device_name(device)
        if torch.cuda.is_bf16_supported():
            return DeviceChoice(device, torch.bfloat16, False, f"{device} ({name}, bf16)")
        return DeviceChoice(device, torch.float16, True, f"{device} ({name}, fp16)")
    if kind == "cuda":
        raise InputError("device 'cuda' was asked for but no CUDA GPU is available: use --device auto or cpu")
    mps = getattr(torch.backends, "mps", None)
    if kind in ("auto", "mps") and mps is not None and mps.is_available():
        return DeviceChoice(torch.device("mps"), None, False, "mps (Apple GPU, fp32)")
    if kind == "mps":
        raise InputError("device 'mps' was asked for but Apple MPS is not available: use --device auto or cpu")
    if configure_threads:
        # Never raise the count above what the process already chose (an embedding app or a
        # test may have lowered it on purpose); only trim torch's default down to the physical
        # cores, since hyper-threads slow the matrix kernels down.
        torch.set_num_threads(max(1, min(cpu_threads(), torch.get_num_threads())))
    return DeviceChoice(torch.device("cpu"), None, False, f"cpu ({count_of(torch.get_num_threads(), 'thread')})")
