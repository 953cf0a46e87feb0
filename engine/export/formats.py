"""Export formats, in a registry like the import readers (engine.data.importing.registry): a new
format is one decorated function that builds its model files in memory.

Every export carries config.json, the tokenizer and the model card; a format adds the files
that hold the model itself. ``needs`` names the Python modules a format cannot work without, so
the CLI and the desktop can say why one is unavailable instead of failing half-way.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import InputError

# (model, tokenizer, max_length) -> {file name: bytes}
ModelFiles = Callable[[Any, Any, int], dict[str, bytes]]


@dataclass(frozen=True)
class ExportFormat:
    name: str  # what --format takes ("hf")
    title: str  # what the Export dialog shows
    model_files: ModelFiles
    needs: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        """The modules this format needs that are not installed (empty: it can be used)."""
        return [module for module in self.needs if importlib.util.find_spec(module) is None]


_FORMATS: dict[str, ExportFormat] = {}


def export_format(name: str, *, title: str, needs: tuple[str, ...] = ()) -> Callable[[ModelFiles], ModelFiles]:
    """Register ``model_files(model, tokenizer, max_length)`` as the export format ``name``."""

    def register(model_files: ModelFiles) -> ModelFiles:
        if name in _FORMATS:
            raise ValueError(f"an export format named {name!r} is already registered")
        _FORMATS[name] = ExportFormat(name=name, title=title, model_files=model_files, needs=needs)
        return model_files

    return register


def export_formats() -> tuple[ExportFormat, ...]:
    """Every registered format, the default (the first registered) first."""
    return tuple(_FORMATS.values())


def export_format_named(name: str) -> ExportFormat:
    formats = {f.name: f for f in export_formats()}
    if name not in formats:
        raise InputError(f"there is no export format {name!r}; choose one of: {', '.join(formats)}")
    chosen = formats[name]
    if chosen.missing():
        raise InputError(f"the {name} export needs {', '.join(chosen.missing())}, which is not installed here; "
                         f"install it (pip install 'cloister[{name}]') or choose another format")
    return chosen


# The built-in formats. Their builders live in exporters (which pulls in numpy and, when run,
# torch), imported only when a model is exported: listing formats for --help stays cheap.
@export_format("hf", title="Hugging Face folder (safetensors, tokenizer, model card)")
def _hf_files(model: Any, tokenizer: Any, max_length: int) -> dict[str, bytes]:
    from engine.export.exporters import weights_bytes

    return {"model.safetensors": weights_bytes(model)}


@export_format("onnx", title="ONNX (for inference runtimes)", needs=("onnx", "onnxruntime"))
def _onnx_files(model: Any, tokenizer: Any, max_length: int) -> dict[str, bytes]:
    from engine.export.onnx import onnx_bytes

    return {"model.onnx": onnx_bytes(model, tokenizer, max_length=max_length)}
