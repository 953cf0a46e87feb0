"""Write the safetensors format ourselves, one tensor at a time.

``safetensors.torch.save`` serialises a whole state dict in one native call that holds the
GIL throughout: ~0.2 s for MiniLM's weights, longer for a checkpoint with AdamW moments. In the
desktop app training runs on a worker thread, so that call froze the window for as long
(bench/bench_gui.py). Copying tensor by tensor into one preallocated buffer gives the
interpreter a chance to switch threads between slices, and streaming them straight into the
vault's encryptor means no buffer the size of the whole state is built either. The bytes follow the published format
(8-byte little-endian header length, JSON header padded with spaces to 8 bytes, raw
little-endian data), so ``safetensors.torch.load`` reads them back; a test checks both ways.
"""
from __future__ import annotations

import io
import json
import struct
import sys
from collections.abc import Mapping
from typing import Any

_DTYPE_NAMES = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
}


_SLICE = 4 << 20


def _dtype_name(tensor: Any) -> str:
    name = str(tensor.dtype).removeprefix("torch.")
    try:
        return _DTYPE_NAMES[name]
    except KeyError:
        raise ValueError(f"cannot serialise a tensor of dtype {tensor.dtype}") from None


def write_safetensors(sink: Any, tensors: Mapping[str, Any], *,
                      metadata: Mapping[str, str] | None = None) -> int:
    """Stream ``tensors`` (name -> torch tensor) in the safetensors format to ``sink.write``.

    Returns the number of bytes written. Tensors are moved to the CPU and made contiguous;
    tensors sharing storage (tied weights) are simply written twice, as the format expects.
    Nothing the size of the whole state is ever built in memory.
    """
    if sys.byteorder != "little":  # pragma: no cover - every platform we ship on is little-endian
        raise RuntimeError("safetensors stores little-endian data; this machine is big-endian")
    prepared = []
    header: dict[str, Any] = {}
    offset = 0
    for name, tensor in tensors.items():
        t = tensor.detach().to("cpu").contiguous()
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": _dtype_name(t), "shape": list(t.shape),
                        "data_offsets": [offset, offset + nbytes]}
        prepared.append((t, nbytes))
        offset += nbytes
    if metadata:
        header["__metadata__"] = dict(metadata)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    sink.write(struct.pack("<Q", len(head)) + head)
    import torch

    for t, nbytes in prepared:
        if nbytes:
            raw = memoryview(t.reshape(-1).view(torch.uint8).numpy())
            # Slices of a few MB: each is one step of the interpreter, so another thread (the
            # UI) waits at most that long for the GIL.
            for lo in range(0, nbytes, _SLICE):
                sink.write(raw[lo:min(lo + _SLICE, nbytes)])
    return 8 + len(head) + offset


def to_safetensors(tensors: Mapping[str, Any], *, metadata: Mapping[str, str] | None = None) -> bytes:
    """The same bytes as :func:`write_safetensors`, in memory (for small states and tests)."""
    buffer = io.BytesIO()
    write_safetensors(buffer, tensors, metadata=metadata)
    return buffer.getvalue()
