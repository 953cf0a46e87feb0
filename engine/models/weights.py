"""Trained models in and out of the vault: weights, config and tokenizer, never plaintext on disk.

Layout under ``prefix`` (e.g. ``runs/<run_id>/model``)::

    weights.safetensors   the state dict, serialised in memory by safetensors
    config.json           the model config (holds id2label: user data, so vault only)
    tokenizer/<file>      the tokenizer files (base vocabulary, no user data)

``ws`` is a ``privacy.vault.workspace.Workspace`` (anything with ``write_bytes``, ``read_bytes``,
``list`` and ``exists``).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.vault import Vault

_WEIGHTS = "weights.safetensors"
_CONFIG = "config.json"
_TOKENIZER = "tokenizer"


def bytes_to_state_dict(data: bytes | bytearray) -> dict[str, Any]:
    from safetensors.torch import load

    return load(bytes(data))


def tokenizer_bytes(tokenizer: Any) -> dict[str, bytes]:
    # The tokenizer only holds the base model's vocabulary and settings, so it may pass through
    # a private temporary folder; the label names live in config.json, which never does.
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # A fast tokenizer keeps its last call's cutting and padding (a window's stride, the
        # ONNX check's padding) and would write them into tokenizer.json: two exports of one
        # run differed. Each call sets its own again, so clearing them changes no answer.
        backend.no_truncation()
        backend.no_padding()
    with tempfile.TemporaryDirectory(prefix="cloister-tok-") as tmp:
        tokenizer.save_pretrained(tmp)
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}


def save_model(ws: Vault, prefix: str, model: Any, tokenizer: Any) -> None:
    """Store ``model`` and ``tokenizer`` encrypted under ``prefix`` in the workspace.

    The config is written last: a reader treats a prefix without config.json as absent, so a
    failure part-way leaves no half model that looks complete.
    """
    prefix = prefix.rstrip("/")
    from engine.models.tensor_bytes import write_safetensors

    files = tokenizer_bytes(tokenizer)
    config = model.config.to_json_string(use_diff=False).encode("utf-8")
    # Streamed into the encryptor tensor by tensor: no second copy of the weights in memory,
    # and the UI thread is never kept off the GIL for long (see engine.models.tensor_bytes).
    with ws.open_write(f"{prefix}/{_WEIGHTS}") as out:
        write_safetensors(out, model.state_dict())
    for name, data in files.items():
        ws.write_bytes(f"{prefix}/{_TOKENIZER}/{name}", data)
    ws.write_bytes(f"{prefix}/{_CONFIG}", config)


def model_exists(ws: Vault, prefix: str) -> bool:
    return bool(ws.has(f"{prefix.rstrip('/')}/{_CONFIG}"))


def load_config(ws: Vault, prefix: str) -> Any:
    from transformers import AutoConfig

    prefix = prefix.rstrip("/")
    if not model_exists(ws, prefix):
        raise InputError(f"no trained model stored at '{prefix}' in this workspace")
    data = json.loads(ws.read_bytes(f"{prefix}/{_CONFIG}").decode("utf-8"))
    model_type = data.pop("model_type")
    return AutoConfig.for_model(model_type, **data)


def load_tokenizer(ws: Vault, prefix: str) -> Any:
    from transformers import AutoTokenizer

    prefix = prefix.rstrip("/")
    tok_prefix = f"{prefix}/{_TOKENIZER}/"
    keys = [k for k in ws.list(tok_prefix) if not k.rstrip("/").endswith(_TOKENIZER)]
    with tempfile.TemporaryDirectory(prefix="cloister-tok-") as tmp:
        for key in keys:
            name = key.rsplit("/", 1)[-1]
            (Path(tmp) / name).write_bytes(ws.read_bytes(key))
        return AutoTokenizer.from_pretrained(tmp, local_files_only=True)


def load_state_dict(ws: Vault, prefix: str) -> dict[str, Any]:
    """Only the stored weights (CPU tensors), e.g. to put the best weights back into a model."""
    return bytes_to_state_dict(ws.read_bytes(f"{prefix.rstrip('/')}/{_WEIGHTS}"))


def load_model(ws: Vault, prefix: str, *, device: str = "cpu") -> tuple[Any, Any]:
    """Rebuild ``(model, tokenizer)`` from the vault; the model is in eval mode on ``device``."""
    from transformers import AutoModelForSequenceClassification

    prefix = prefix.rstrip("/")
    config = load_config(ws, prefix)
    model = AutoModelForSequenceClassification.from_config(config)
    state = load_state_dict(ws, prefix)
    # strict: a stored model must match its own config exactly.
    model.load_state_dict(state, strict=True)
    model.to(device)
    model.eval()
    return model, load_tokenizer(ws, prefix)
