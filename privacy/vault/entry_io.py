"""The objects a workspace hands out for streaming one entry in or out."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privacy.vault import container
from privacy.errors import ContainerError


class class_or_instance:  # noqa: N801 - used like the builtin decorators
    """A descriptor that calls one function through the class and another through an instance."""

    def __init__(self, on_class: Any, on_instance: Any) -> None:
        self._on_class = on_class.__func__ if isinstance(on_class, staticmethod) else on_class
        self._on_instance = on_instance

    def __get__(self, obj: object, owner: type) -> Any:
        if obj is None:
            return self._on_class
        return self._on_instance.__get__(obj, owner)


class EntryWriter:
    """What ``open_write`` yields: a file-like object with ``write`` only."""

    def __init__(self, encryptor: container.Encryptor) -> None:
        self._encryptor = encryptor

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return self._encryptor.write(data)


class EntryReader:
    """What ``open_read`` returns: a context manager that iterates authenticated plaintext chunks.

    Chunks are handed out as they are authenticated; a file cut short raises ContainerError at
    the end of the iteration, so consumers must not act on the data before iteration completes.
    """

    def __init__(self, path: Path, key: bytes, context: bytes, label: str,
                 expected_salt: bytes | None = None) -> None:
        self._path, self._key, self._context, self._label = path, key, context, label
        self._salt = expected_salt  # from the index: an older copy of the file is refused
        self._handle: Any = None

    def __enter__(self) -> EntryReader:
        try:
            self._handle = open(self._path, "rb")
        except FileNotFoundError:
            raise ContainerError(f"{self._label} is missing from the workspace; "
                                 "restore the workspace from a backup") from None
        container.advise_sequential(self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __iter__(self) -> Iterator[bytes]:
        if self._handle is not None:
            yield from container.decrypt_vault_stream(self._handle, self._key,
                                                      context=self._context, label=self._label,
                                                      expected_salt=self._salt)
            return
        with self:
            assert self._handle is not None  # opened by __enter__
            yield from container.decrypt_vault_stream(self._handle, self._key,
                                                      context=self._context, label=self._label,
                                                      expected_salt=self._salt)
