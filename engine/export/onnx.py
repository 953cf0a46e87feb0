"""The ONNX export: a run's model as an ONNX graph of its logits (dynamic batch and sequence),
checked against PyTorch before it is written. Kept apart from the Hugging Face folder and the
sealing (engine/export/exporters.py), which are long enough."""
from __future__ import annotations

import io
import logging
import warnings
from typing import Any

from engine.errors import CloisterError, InputError

log = logging.getLogger(__name__)

ONNX_TOLERANCE = 1e-4
ONNX_OPSET = 17
# Fixed, data-free sentences used to check the ONNX graph against PyTorch.
_ONNX_CHECK_TEXTS = (
    "A short sentence.",
    "A somewhat longer sentence, used only to check that the exported graph matches PyTorch.",
    "Yes.",
)


def onnx_bytes(model: Any, tokenizer: Any, *, max_length: int = 128) -> bytes:
    """Export logits to ONNX (dynamic batch and sequence) and check it against PyTorch."""
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - onnx is an optional extra
        raise InputError("ONNX export needs the onnx extras: pip install 'cloister[onnx]' (onnx, "
                         "onnxruntime)") from exc
    # Windows: telemetry through event tracing, which privacy.offline's variables may not stop.
    getattr(onnxruntime, "disable_telemetry_events", lambda: None)()
    import numpy as np
    import torch

    model = model.to("cpu").eval()
    limit = getattr(model.config, "max_position_embeddings", None)
    max_length = min(max_length, limit) if limit else max_length
    # eval(): a fresh wrapper module starts in training mode, and the exporter restores that
    # mode on the whole tree afterwards, which would switch dropout on in the model.
    wrapper = _logits_only(model).eval()
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if wrapper.takes_token_types else [])

    def encode(texts: tuple[str, ...]) -> tuple[Any, ...]:
        enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        return tuple(enc.get(name, torch.zeros_like(enc["input_ids"])) for name in names)

    buffer = io.BytesIO()
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # Tracer warnings about shape checks in attention masking are expected; the check
        # below on a batch of another shape is what proves the graph generalises.
        warnings.simplefilter("ignore")
        # The TorchScript exporter (dynamo=False): the dynamo one needs onnxscript, which is
        # not a dependency here.
        torch.onnx.export(wrapper, encode(_ONNX_CHECK_TEXTS[:2]), buffer,  # type: ignore[arg-type]  # a file object is accepted
                          input_names=names,
                          output_names=["logits"], dynamic_axes=dynamic,
                          opset_version=ONNX_OPSET, dynamo=False)
        wrapper.eval()
        # Check on a batch of another size and length than the traced one: the axes must
        # really be dynamic, not frozen at the example's shape.
        check = encode(_ONNX_CHECK_TEXTS)
        expected = wrapper(*check).numpy()
    data = buffer.getvalue()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {n: t.numpy() for n, t in zip(names, check)})[0]
    diff = float(np.abs(got - expected).max())
    if not diff < ONNX_TOLERANCE:
        raise CloisterError(
            f"the ONNX graph does not reproduce the PyTorch model (max difference {diff:.2e} > "
            f"{ONNX_TOLERANCE}); export in the Hugging Face format instead (--format hf)"
        )
    log.info("ONNX export checked against PyTorch: max abs difference %.2e", diff)
    return data


def _logits_only(model: Any) -> Any:
    """A module around ``model`` returning only the logits tensor (ONNX wants plain outputs)."""
    import inspect

    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.takes_token_types = "token_type_ids" in inspect.signature(model.forward).parameters

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits

    return LogitsOnly()
