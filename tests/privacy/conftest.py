"""Fixtures for vault tests: a cheap scrypt setting and a fresh unlocked workspace."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy.vault.container import ScryptParams
from privacy.vault.workspace import Workspace

# 2^10 instead of 2^17: the same code path at ~1 ms, so tests can create many vaults.
FAST_KDF = ScryptParams(log2_n=10, r=8, p=1)
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def fast_kdf() -> ScryptParams:
    return FAST_KDF


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace.create(tmp_path / "ws", PASSPHRASE, kdf=FAST_KDF)
    yield ws
    ws.lock()
