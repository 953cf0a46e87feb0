"""Our tensor-by-tensor safetensors writer must produce what the safetensors library reads."""
from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import load, save

from engine.models.tensor_bytes import to_safetensors, write_safetensors


def _sample() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    shared = torch.randn(4, 3, generator=g)
    return {
        "weight": torch.randn(5, 7, generator=g),
        "tied": shared,
        "tied_again": shared,  # same storage, as tied embeddings are
        "half": torch.randn(3, generator=g).to(torch.float16),
        "bf16": torch.randn(2, 2, generator=g).to(torch.bfloat16),
        "steps": torch.arange(6, dtype=torch.int64).reshape(2, 3),
        "rng": torch.randint(0, 255, (9,), dtype=torch.uint8, generator=g),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "strided": torch.randn(6, 4, generator=g).t(),  # not contiguous
    }


def test_library_reads_back_every_tensor_exactly() -> None:
    tensors = _sample()
    loaded = load(bytes(to_safetensors(tensors, metadata={"k": "v"})))
    assert sorted(loaded) == sorted(tensors)
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype, name
        assert loaded[name].shape == tensor.shape, name
        assert torch.equal(loaded[name], tensor), name


def test_header_is_valid_and_carries_metadata() -> None:
    data = to_safetensors({"a": torch.ones(3)}, metadata={"progress": json.dumps({"step": 4})})
    (length,) = struct.unpack("<Q", bytes(data[:8]))
    assert length % 8 == 0
    header = json.loads(bytes(data[8:8 + length]))
    assert header["a"] == {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}
    assert json.loads(header["__metadata__"]["progress"]) == {"step": 4}
    assert len(data) == 8 + length + 12


def test_same_tensors_as_the_library_writes() -> None:
    tensors = {k: v for k, v in _sample().items() if k != "tied_again"}  # the library refuses aliases
    ours = load(bytes(to_safetensors(tensors)))
    theirs = load(save({k: v.contiguous() for k, v in tensors.items()}))
    for name in tensors:
        assert torch.equal(ours[name], theirs[name]), name


def test_unsupported_dtype_is_named() -> None:
    with pytest.raises(ValueError, match="complex64"):
        to_safetensors({"z": torch.zeros(2, dtype=torch.complex64)})


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[int] = []
        self.data = bytearray()

    def write(self, chunk) -> None:  # noqa: ANN001
        self.writes.append(len(chunk))
        self.data += chunk


def test_streaming_writes_in_bounded_slices_and_matches_the_in_memory_bytes() -> None:
    big = torch.arange(3 * 1024 * 1024, dtype=torch.float32)  # 12 MiB: more than one slice
    tensors = {"big": big, "small": torch.ones(3)}
    sink = _Recorder()
    total = write_safetensors(sink, tensors, metadata={"m": "1"})
    assert total == len(sink.data)
    assert bytes(sink.data) == to_safetensors(tensors, metadata={"m": "1"})
    assert max(sink.writes) <= 4 * 1024 * 1024  # never the whole tensor in one write
    assert torch.equal(load(bytes(sink.data))["big"], big)
