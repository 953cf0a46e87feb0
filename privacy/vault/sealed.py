"""Passphrase-sealed files: the container format keyed by scrypt(passphrase), outside any vault.

Used for encrypted exports a user carries to another machine: the recipient needs only the
passphrase (and Cloister, or the decryptor described in FORMAT.md). The scrypt parameters and
salt travel in the header.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from privacy.vault import container
from privacy.vault.atomic import atomic_writer
from privacy.vault.container import ScryptParams
from privacy.errors import ContainerError, PrivacyError

SEALED_CONTEXT = b"cloister/sealed"


def seal_file(out_path: Path, chunks: Iterable[bytes], passphrase: str, *,
              kdf: ScryptParams | None = None, replace: bool = True) -> None:
    """Write ``chunks`` encrypted under ``passphrase`` to ``out_path`` (atomically).

    If ``chunks`` raises, ``out_path`` is left as it was. ``replace=False``: an ``out_path``
    that exists when the file is done is never replaced (``FileExistsError``; see
    ``atomic_writer``).
    """
    if not passphrase:
        raise PrivacyError("the passphrase for a sealed file must not be empty")
    with atomic_writer(Path(out_path), replace=replace) as handle:
        container.write_all(
            container.passphrase_encryptor(handle, passphrase, kdf=kdf, context=SEALED_CONTEXT),
            chunks,
        )


def open_sealed(path: Path, passphrase: str) -> Iterator[bytes]:
    """Yield the plaintext chunks of a sealed file.

    Raises WrongPassphrase (intact file, wrong passphrase) or ContainerError (damaged, cut
    short, not a sealed file). Chunks are authenticated one by one; a file cut short raises at
    the end, so don't act on the data before the iteration completes.
    """
    path = Path(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise ContainerError(f"sealed file {path} does not exist") from None
    with handle:
        container.advise_sequential(handle)
        yield from container.decrypt_passphrase_stream(handle, passphrase, context=SEALED_CONTEXT,
                                                       label=f"sealed file {path}")


def read_sealed(path: Path, passphrase: str) -> bytes:
    """The whole plaintext of a sealed file, returned only once it is fully authenticated."""
    return b"".join(open_sealed(path, passphrase))
