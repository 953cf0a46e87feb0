"""Encrypted full-state checkpoints: one vault file per run, replaced atomically.

Everything needed to continue from the exact step goes into ONE safetensors blob: model,
optimizer and RNG tensors as tensors, everything else (scheduler, scaler, Python/NumPy RNG,
data-order position, early-stopping state, history) as JSON in the safetensors metadata. One
blob means one atomic vault write: a failed save leaves the previous checkpoint whole. Nothing
is pickled, and loading never calls ``torch.load``.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from typing import Any, TYPE_CHECKING

import numpy as np

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.vault import Vault

# 2: the progress holds step_in_epoch and best_loss (an older Cloister called such a
# checkpoint damaged, not newer); 1 is read too.
FORMAT_VERSION = 2
_META_KEY = "cloister_checkpoint"


def checkpoint_key(run_id: str) -> str:
    return f"runs/{run_id}/checkpoints/latest"


def has_checkpoint(ws: Vault, run_id: str) -> bool:
    """Whether ``run_id`` saved a checkpoint to resume from (False where the vault cannot say,
    a failing disk: promise nothing)."""
    try:
        return bool(ws.has(checkpoint_key(run_id)))
    except Exception:  # noqa: BLE001
        return False


@dataclass
class Progress:
    """Where training stands. ``batch_in_epoch`` counts micro-batches already done this epoch,
    ``step_in_epoch`` optimizer steps (``None`` in checkpoints written before it existed)."""

    epoch: int = 0
    batch_in_epoch: int = 0
    step_in_epoch: int | None = 0
    global_step: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    best_loss: float | None = None  # the validation loss at best_step: it breaks a metric's ties
    evals_without_improvement: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    stopped_early: bool = False


@dataclass
class Checkpoint:
    progress: Progress
    model_state: dict[str, Any]
    optimizer_state: dict[str, Any]
    scheduler_state: dict[str, Any]
    scaler_state: dict[str, Any] | None
    rng: dict[str, Any]  # python, numpy (JSON) and torch/cuda (tensors)
    # The DP accountant's history (JSON), so a resumed run's epsilon counts every step once.
    privacy_state: dict[str, Any] | None = None


def capture_rng() -> dict[str, Any]:
    import torch

    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if callable(value):  # LambdaLR keeps its lambdas out of state_dict as None; be safe anyway
        return None
    return value


def to_bytes(ckpt: Checkpoint) -> bytes:
    from engine.models.tensor_bytes import to_safetensors

    tensors, metadata = _flatten(ckpt)
    return to_safetensors(tensors, metadata=metadata)


def _flatten(ckpt: Checkpoint) -> tuple[dict[str, Any], dict[str, str]]:
    """The checkpoint as named tensors plus JSON metadata, ready for the safetensors format."""
    import torch

    tensors: dict[str, torch.Tensor] = {}

    def flat(t: torch.Tensor) -> torch.Tensor:
        # No copy for CPU tensors (a checkpoint of MiniLM with AdamW is ~270 MB); the writer
        # copies each one straight into the output buffer.
        return t.detach()

    for name, t in ckpt.model_state.items():
        tensors[f"model/{name}"] = flat(t)
    opt_json: dict[str, Any] = {"param_groups": _jsonable(ckpt.optimizer_state["param_groups"]), "state": {}}
    for idx, slots in ckpt.optimizer_state["state"].items():
        kept: dict[str, Any] = {}
        for slot, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{idx}/{slot}"] = flat(value)
            else:
                kept[slot] = _jsonable(value)
        opt_json["state"][str(idx)] = kept
    tensors["rng/torch"] = ckpt.rng["torch"].clone()
    for i, s in enumerate(ckpt.rng.get("cuda", [])):
        tensors[f"rng/cuda/{i}"] = s.clone()
    meta = {
        "version": FORMAT_VERSION,
        "progress": asdict(ckpt.progress),
        "optimizer": opt_json,
        "scheduler": _jsonable(ckpt.scheduler_state),
        "scaler": _jsonable(ckpt.scaler_state),
        "rng": {"python": _jsonable(ckpt.rng["python"]), "numpy": _jsonable(ckpt.rng["numpy"])},
        "cuda_devices": len(ckpt.rng.get("cuda", [])),
        "privacy": _jsonable(ckpt.privacy_state),
    }
    return tensors, {_META_KEY: json.dumps(meta)}


def from_bytes(data: bytes | bytearray) -> Checkpoint:
    from safetensors.torch import load

    data = bytes(data)  # the library takes bytes only
    tensors = load(data)
    # The metadata sits in the JSON header (8-byte little-endian length, then JSON).
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    meta = json.loads(header["__metadata__"][_META_KEY])
    if meta.get("version", 0) > FORMAT_VERSION:
        raise InputError("this checkpoint was written by a newer Cloister: update Cloister to resume it")
    model_state = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    opt_meta = meta["optimizer"]
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in opt_meta["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, idx, slot = key.split("/", 2)
            state.setdefault(int(idx), {})[slot] = value
    optimizer_state = {"state": state, "param_groups": opt_meta["param_groups"]}
    for group in optimizer_state["param_groups"]:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    rng: dict[str, Any] = {
        "python": meta["rng"]["python"],
        "numpy": meta["rng"]["numpy"],
        "torch": tensors["rng/torch"],
    }
    if meta.get("cuda_devices"):
        rng["cuda"] = [tensors[f"rng/cuda/{i}"] for i in range(meta["cuda_devices"])]
    progress_meta = dict(meta["progress"])
    progress_meta.setdefault("step_in_epoch", None)  # older checkpoints: derived from batches
    progress = Progress(**progress_meta)
    return Checkpoint(progress, model_state, optimizer_state, meta["scheduler"], meta["scaler"], rng,
                      privacy_state=meta.get("privacy"))


def save_checkpoint(ws: Vault, run_id: str, ckpt: Checkpoint) -> str:
    """Write the checkpoint (one atomic vault write) and return its key."""
    from engine.models.tensor_bytes import write_safetensors

    key = checkpoint_key(run_id)
    tensors, metadata = _flatten(ckpt)
    # Streamed into the encryptor (~270 MB for MiniLM with AdamW: never held twice in memory);
    # the vault's atomic write keeps the previous checkpoint if this fails part-way.
    with ws.open_write(key) as out:
        write_safetensors(out, tensors, metadata=metadata)
    return key


def load_checkpoint(ws: Vault, run_id: str) -> Checkpoint:
    key = checkpoint_key(run_id)
    if not ws.has(key):
        raise InputError(
            f"run {run_id} has no checkpoint to resume from: it stopped before its first "
            "checkpoint; start a new run with `cloister train`"
        )
    data = ws.read_bytes(key)  # a tampered container fails here, with the vault's own message
    try:
        return from_bytes(data)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure means the same thing to the user
        raise InputError(
            f"the checkpoint of run {run_id} is damaged ({type(exc).__name__}) and cannot be "
            "resumed: start a new run with `cloister train`"
        ) from exc
