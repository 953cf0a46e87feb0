"""Readers by format: a decorator registers one per format name and file suffixes.

A duplicate format name or suffix raises at import time, so two readers can never silently
compete for the same file.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.data.importing.table import ImportedTable

ReaderFunc = Callable[[Path, "ReadRequest"], ImportedTable]


@dataclass(frozen=True)
class ReadRequest:
    """Options every reader receives; readers ignore the ones that do not apply to them."""

    sheet: str | None
    header: bool | None
    max_bytes: int
    # Leave out what spreadsheet exports add that is not data (``tidy``): yes for a dataset;
    # no for a file to predict, whose output has one row for each row read.
    tidy: bool = True
    # The text encoding the user named (``--encoding``), for CSV/TSV; None: detected.
    encoding: str | None = None


@dataclass(frozen=True)
class Reader:
    name: str
    suffixes: tuple[str, ...]
    read: ReaderFunc
    description: str


_READERS: dict[str, Reader] = {}
_BY_SUFFIX: dict[str, Reader] = {}


def reader(name: str, *, suffixes: tuple[str, ...], description: str) -> Callable[[ReaderFunc], ReaderFunc]:
    """Register ``func(path, request) -> ImportedTable`` as the reader for ``name``."""

    def register(func: ReaderFunc) -> ReaderFunc:
        if name in _READERS:
            raise ValueError(f"an import reader named {name!r} is already registered")
        for suffix in suffixes:
            if suffix in _BY_SUFFIX:
                raise ValueError(
                    f"suffix {suffix!r} is already read by the {_BY_SUFFIX[suffix].name!r} reader"
                )
        entry = Reader(name=name, suffixes=tuple(suffixes), read=func, description=description)
        _READERS[name] = entry
        for suffix in suffixes:
            _BY_SUFFIX[suffix] = entry
        return func

    return register


def reader_named(name: str) -> Reader:
    return _READERS[name]


def reader_for_suffix(suffix: str) -> Reader | None:
    return _BY_SUFFIX.get(suffix.lower())


def registered() -> tuple[Reader, ...]:
    return tuple(_READERS.values())
