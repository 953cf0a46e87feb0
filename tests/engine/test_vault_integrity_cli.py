"""The CLI shows vault-integrity refusals (weak KDF, cut or restored files) as one clear line."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main as cli
from privacy.vault.keyfile import VAULT_FILE_NAME
from privacy.vault.kdf import UNSAFE_TEST_KDF_ENV


@pytest.fixture
def no_escape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSAFE_TEST_KDF_ENV, raising=False)


def test_cli_init_refuses_a_weak_cost_with_one_line(tmp_path: Path, no_escape, monkeypatch,
                                                   capsys) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "a long enough passphrase")
    code = cli(["init", "--kdf-cost", "10", "--workspace", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert code == 2 and "below Cloister's minimum of 2^17" in err and "Traceback" not in err
    assert not (tmp_path / "w" / VAULT_FILE_NAME).exists()


def test_cli_warns_when_the_escape_is_used(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "a long enough passphrase")
    assert cli(["init", "--kdf-cost", "10", "--workspace", str(tmp_path / "w")]) == 0
    assert f"{UNSAFE_TEST_KDF_ENV}=1 is set" in capsys.readouterr().err
