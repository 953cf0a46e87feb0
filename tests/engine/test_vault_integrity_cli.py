"""The CLI shows vault-integrity refusals (weak KDF, cut or restored files) as one clear line."""
from __future__ import annotations

import json
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


from tests.engine.test_vault_cli import env, run  # noqa: E402,F401 - the same vault set-up


def test_deleted_audit_log_is_one_clear_line_then_verify_and_accept(env: Path, isolated_dirs,
                                                                    capsys, monkeypatch) -> None:
    assert cli(["import", str(env), "--name", "a"]) == 0
    root = isolated_dirs["CLOISTER_WORKSPACE"]
    (root / "audit.log").unlink()
    (root / "audit-head.cloister").unlink()
    capsys.readouterr()

    code, _, err = run(capsys, "datasets")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "failed its integrity check" in err and "were written" in err

    code, _, err = run(capsys, "audit", "--verify")
    assert code == 1 and "audit problem:" in err and "log was deleted, cut" in err

    # The deleted log and head are two problems of one cause; the count is of what was listed.
    said = [line for line in err.splitlines() if line.startswith("cloister: audit problem:")]
    assert f"the audit log has {len(said)} problem(s); it was altered" in err
    code, out, _ = run(capsys, "audit", "--json")
    verdict = json.loads(out)
    assert code == 1 and verdict["ok"] is False and verdict["audit_problems"]

    # On a terminal, giving up rollback protection is asked first (it was done in one step).
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: (asked.append(prompt), "n")[1])
    code, out, _ = run(capsys, "audit", "--accept-restore")
    assert code == 0 and "Nothing accepted; the workspace stays refused." in out
    assert asked and "Accept the workspace as it is now?" in asked[0]
    assert run(capsys, "datasets")[0] == 1  # still refused
    code, out, err = run(capsys, "audit", "--accept-restore", "--yes")
    assert code == 0 and "Accepted the workspace" in out and "accepted:" in err and len(asked) == 1
    assert "erasures (`cloister forget`) done since it was made included: run them again" in out
    code, out, _ = run(capsys, "audit")
    assert code == 0 and "audit.restore_accepted" in out
    assert run(capsys, "datasets")[0] == 0


def test_rolled_back_index_is_named_by_audit_verify(env: Path, isolated_dirs, capsys) -> None:
    root = isolated_dirs["CLOISTER_WORKSPACE"]
    assert cli(["import", str(env), "--name", "a"]) == 0
    old = {n: (root / n).read_bytes() for n in ("index.cloister", "index.backup.cloister")}
    assert cli(["import", str(env), "--name", "b"]) == 0
    for name, data in old.items():
        (root / name).write_bytes(data)
    capsys.readouterr()
    code, _, err = run(capsys, "show", "b")
    assert code == 1 and "index is older than the vault records" in err and "Traceback" not in err
    code, _, err = run(capsys, "audit", "--verify", "--all-files")
    assert code == 1 and "integrity problem: the workspace index is older" in err


def test_an_entry_cut_off_by_a_full_disk_is_a_note_not_tampering(env: Path, isolated_dirs,
                                                                 capsys) -> None:
    # `audit --verify` called the log "altered or damaged" (exit 1) after a full disk cut an
    # append short, though no recorded entry was missing.
    import struct

    assert cli(["import", str(env), "--name", "a"]) == 0
    log = isolated_dirs["CLOISTER_WORKSPACE"] / "audit.log"
    whole = log.stat().st_size
    with log.open("ab") as handle:
        handle.write(struct.pack(">I", 300) + b"\x07" * 40)  # the disk filled mid-record
    capsys.readouterr()
    code, out, err = run(capsys, "audit", "--verify")
    assert code == 0 and "chain intact" in out
    assert f"note: the audit log ends in an entry cut off while it was written (at byte {whole}" in err
    assert "altered or damaged" not in err


def test_the_audit_log_as_json_and_chosen_entries(env: Path, capsys) -> None:
    # An admin could not export the log, nor list one kind of entry.
    assert cli(["import", str(env), "--name", "a"]) == 0
    assert cli(["rename", "a", "b"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "audit", "--json")
    log = json.loads(out)
    assert code == 0 and log["ok"] is True and log["audit_problems"] == []
    actions = [e["action"] for e in log["entries"]]
    assert actions[0] == "vault.created" and "dataset.imported" in actions and "dataset.renamed" in actions
    assert {"seq", "time", "user", "action", "details"} <= set(log["entries"][0])
    code, out, _ = run(capsys, "audit", "--json", "--action", "dataset.")
    assert code == 0 and {e["action"][:8] for e in json.loads(out)["entries"]} == {"dataset."}
    code, out, _ = run(capsys, "audit", "--since", "2999-01-01")
    assert code == 0 and out == ""
    today = log["entries"][-1]["time"][:10]
    code, out, _ = run(capsys, "audit", "--since", today, "--action", "dataset.renamed")
    assert code == 0 and len(out.splitlines()) == 1 and "dataset.renamed" in out
    with pytest.raises(SystemExit) as usage:
        cli(["audit", "--since", "last week"])
    assert usage.value.code == 2 and "'last week' is not a day as YYYY-MM-DD" in capsys.readouterr().err
