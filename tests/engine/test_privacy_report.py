"""What `import --anonymize`, `anonymize` and `scan` say of each type found: the policy's action
beside its count, and of an applied policy that it changed the text. A walk-through read
'ORGANIZATION 7' listed like the replaced types, then "the original values were not stored",
while the policy had kept those names as written."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.engine.test_privacy_cli import POLICY, write_csv

KEEPS_IPS = POLICY.replace('default = "tag"', 'IP_ADDRESS = "keep"\ndefault = "tag"')


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "privacy report tests")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    path = tmp_path / "policy.toml"
    path.write_text(KEEPS_IPS, encoding="utf-8")
    return path


def _row(out: str, entity: str) -> list[str]:
    (line,) = [line.split() for line in out.splitlines() if line.strip().startswith(entity + " ")]
    return line


def test_each_type_says_its_action_and_kept_types_are_said_stored(policy: Path, tmp_path: Path,
                                                                  capsys) -> None:
    source = write_csv(tmp_path / "tickets.csv")
    capsys.readouterr()
    assert cli(["scan", str(source), "--policy", str(policy)]) == 0
    out = capsys.readouterr().out
    assert "ACTION" in out and _row(out, "IP_ADDRESS")[2] == "keep"
    assert _row(out, "PERSON")[2] == "pseudonym"
    assert "Share of the scanned text that would change:" in out  # a scan changes nothing
    assert cli(["scan", str(source), "--policy", str(policy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["actions"]["IP_ADDRESS"] == "keep"
    assert cli(["import", str(source), "--name", "t", "--anonymize", str(policy)]) == 0
    out = capsys.readouterr().out
    assert _row(out, "IP_ADDRESS")[2] == "keep" and _row(out, "EMAIL")[2] == "pseudonym"
    assert "Share of the scanned text changed:" in out
    assert ("the original values were not stored (those of IP_ADDRESS, which the policy keeps, "
            "were stored as written)") in out
    capsys.readouterr()
    assert cli(["show", "t", "--rows", "5"]) == 0
    assert "10.218.6.131" in capsys.readouterr().out  # kept, as the line says
