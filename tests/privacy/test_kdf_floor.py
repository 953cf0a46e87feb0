"""The scrypt floor: a new vault or sealed file below 2^17 is refused unless the explicit
test-only escape is on (tests/conftest.py turns it on for speed; these tests turn it off)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy.errors import WeakKdfRefused
from privacy.vault.container import ScryptParams
from privacy.vault.keyfile import VAULT_FILE_NAME, change_passphrase, create_vault
from privacy.vault.kdf import MIN_LOG2_N, UNSAFE_TEST_KDF_ENV
from privacy.vault.sealed import seal_file
from privacy.vault.workspace import Workspace


@pytest.fixture
def no_escape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSAFE_TEST_KDF_ENV, raising=False)


def test_a_normal_call_below_the_floor_is_refused(tmp_path: Path, no_escape) -> None:
    for weak in (ScryptParams(log2_n=1), ScryptParams(log2_n=10), ScryptParams(log2_n=16)):
        with pytest.raises(WeakKdfRefused, match="below Cloister's minimum of 2\\^17"):
            create_vault(tmp_path / VAULT_FILE_NAME, "pw", kdf=weak)
        with pytest.raises(WeakKdfRefused):
            Workspace.create(tmp_path / "ws", "pw", kdf=weak)
        with pytest.raises(WeakKdfRefused):
            seal_file(tmp_path / "out.sealed", [b"x"], "pw", kdf=weak)
    assert not (tmp_path / VAULT_FILE_NAME).exists() and not (tmp_path / "out.sealed").exists()
    assert not (tmp_path / "ws" / VAULT_FILE_NAME).exists()


def test_the_escape_needs_exactly_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("", "0", "true", "yes"):
        monkeypatch.setenv(UNSAFE_TEST_KDF_ENV, value)
        with pytest.raises(WeakKdfRefused):
            create_vault(tmp_path / VAULT_FILE_NAME, "pw", kdf=ScryptParams(log2_n=10))
    monkeypatch.setenv(UNSAFE_TEST_KDF_ENV, "1")
    with pytest.raises(WeakKdfRefused):  # even the escape keeps a floor of 2^10
        create_vault(tmp_path / VAULT_FILE_NAME, "pw", kdf=ScryptParams(log2_n=9))
    create_vault(tmp_path / VAULT_FILE_NAME, "pw", kdf=ScryptParams(log2_n=10))


def test_the_floor_itself_is_accepted_and_rewrapping_cannot_go_below_it(tmp_path: Path,
                                                                         no_escape) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, "pw", kdf=ScryptParams(log2_n=MIN_LOG2_N))
    assert json.loads(path.read_text())["kdf"]["log2_n"] == 17
    with pytest.raises(WeakKdfRefused):
        change_passphrase(path, "pw", "new", kdf=ScryptParams(log2_n=12))
    assert json.loads(path.read_text())["kdf"]["log2_n"] == 17  # untouched


def test_rewrapping_an_old_weak_vault_upgrades_it(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, "pw", kdf=ScryptParams(log2_n=10))  # written under the escape
    monkeypatch.delenv(UNSAFE_TEST_KDF_ENV)
    change_passphrase(path, "pw", "new")  # no explicit cost: keeping 2^10 would be refused
    assert json.loads(path.read_text())["kdf"]["log2_n"] == 18
