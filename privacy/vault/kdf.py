"""Passphrase key derivation: scrypt, with bounds that a forged file header cannot exceed."""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from privacy.errors import ContainerError

KEY_SIZE = 32

# Bounds on parameters read from a file someone hands us: a forged header must not make us
# allocate gigabytes or spin for minutes before the passphrase is even checked.
_MAX_LOG2_N = 22
_MAX_R = 32
_MAX_P = 16
_MAX_MEMORY = 1 << 30  # scrypt needs about 128 * N * r bytes


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters. The default is the issue's N=2^17, r=8, p=1 (128 MiB, ~0.5 s).

    Tests pass a small ``log2_n`` (e.g. 10) explicitly; nothing lowers the default behind the
    caller's back.
    """

    log2_n: int = 17
    r: int = 8
    p: int = 1

    @property
    def n(self) -> int:
        return 1 << self.log2_n

    @property
    def memory(self) -> int:
        return 128 * self.n * self.r

    def check(self, *, label: str = "KDF settings") -> None:
        if not (1 <= self.log2_n <= _MAX_LOG2_N and 1 <= self.r <= _MAX_R
                and 1 <= self.p <= _MAX_P and self.memory <= _MAX_MEMORY):
            raise ContainerError(
                f"{label}: unsupported scrypt parameters (log2 N={self.log2_n}, r={self.r}, "
                f"p={self.p}); the file is damaged or was not written by Cloister"
            )

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """A 32-byte key from ``passphrase`` (NFC-normalised, so the same typed text always works)."""
        self.check()
        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        # OpenSSL's default 32 MiB memory cap is below the default cost; allow what N and r need.
        maxmem = self.memory + 128 * self.r * self.p + (1 << 20)
        return hashlib.scrypt(secret, salt=salt, n=self.n, r=self.r, p=self.p,
                              maxmem=maxmem, dklen=KEY_SIZE)
