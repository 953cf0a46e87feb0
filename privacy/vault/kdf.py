"""Passphrase key derivation: scrypt, with bounds that a forged file header cannot exceed, and a
floor below which Cloister refuses to *write* a new vault or sealed file.

Reading stays lenient (down to 2^1) so an old file remains readable; writing is held to
``MIN_LOG2_N`` = 2^17 (OWASP's minimum for scrypt), the default is 2^18.

The test suite needs thousands of vaults, so it sets ``CLOISTER_UNSAFE_TEST_KDF=1``
(tests/conftest.py), which lowers the floor to 2^10 and nothing else. It is a deliberately
loud name that nobody sets by accident; the first weak write under it in a process is logged as a warning, and
the CLI prints a warning whenever it is set (engine/cli). Nothing lowers the *default*.
"""
from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from dataclasses import dataclass

from privacy.errors import ContainerError, WeakKdfRefused

log = logging.getLogger(__name__)

KEY_SIZE = 32
DEFAULT_LOG2_N = 18
MIN_LOG2_N = 17
UNSAFE_TEST_KDF_ENV = "CLOISTER_UNSAFE_TEST_KDF"
_TEST_MIN_LOG2_N = 10  # the escape hatch still has a floor: the same code paths, ~1 ms
_warned_unsafe = False


def unsafe_test_kdf_enabled() -> bool:
    """Whether the test-only escape is on (exactly ``1``: a stray value does not count)."""
    return os.environ.get(UNSAFE_TEST_KDF_ENV) == "1"


def write_floor() -> int:
    """The lowest scrypt log2 N a new file may be written with, now."""
    return _TEST_MIN_LOG2_N if unsafe_test_kdf_enabled() else MIN_LOG2_N

# Bounds on parameters read from a file someone hands us: a forged header must not make us
# allocate gigabytes or spin for minutes before the passphrase is even checked.
_MAX_LOG2_N = 22
_MAX_R = 32
_MAX_P = 16
_MAX_MEMORY = 1 << 30  # scrypt needs about 128 * N * r bytes


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters. The default is N=2^18, r=8, p=1 (256 MiB, about 1 s), one step
    above the floor of 2^17 that :meth:`check_for_writing` enforces.

    Tests pass a small ``log2_n`` (e.g. 10) explicitly and must enable the test escape (module
    docstring); nothing lowers the default behind the caller's back.
    """

    log2_n: int = DEFAULT_LOG2_N
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

    def check_for_writing(self, *, label: str = "the requested KDF settings") -> None:
        """Refuse to protect a *new* file with a cost below the floor (reading stays lenient)."""
        self.check(label=label)
        floor = write_floor()
        if self.log2_n < floor:
            raise WeakKdfRefused(
                f"{label}: scrypt cost 2^{self.log2_n} is below Cloister's minimum of "
                f"2^{MIN_LOG2_N}; a stolen file would be cheap to attack. Use 2^{MIN_LOG2_N} or "
                f"more (the default is 2^{DEFAULT_LOG2_N})")
        global _warned_unsafe
        if self.log2_n < MIN_LOG2_N and not _warned_unsafe:
            _warned_unsafe = True  # once per process: loud enough, without flooding test logs
            log.warning("%s is set: writing with scrypt 2^%d, below the floor of 2^%d (tests only)",
                        UNSAFE_TEST_KDF_ENV, self.log2_n, MIN_LOG2_N)

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """A 32-byte key from ``passphrase`` (NFC-normalised, so the same typed text always works)."""
        self.check()
        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        # OpenSSL's default 32 MiB memory cap is below the default cost; allow what N and r need.
        maxmem = self.memory + 128 * self.r * self.p + (1 << 20)
        return hashlib.scrypt(secret, salt=salt, n=self.n, r=self.r, p=self.p,
                              maxmem=maxmem, dklen=KEY_SIZE)
