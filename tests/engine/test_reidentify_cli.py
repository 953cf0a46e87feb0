"""``reversible = true`` pseudonyms and ``cloister reidentify`` end to end, in-process, on a real
workspace (cheap test KDF): the round trip, one-way runs keeping nothing, no plaintext mapping
on disk, and the mapping following the dataset through rename, replace and rm."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main as cli
from engine.data.store import load_dataset, pseudonym_map_key
from privacy.vault.workspace import Workspace
from tests.canary import assert_no_canaries
from tests.engine.test_privacy_cli import ROWS, write_csv

PASSPHRASE = "reidentify tests"
REVERSIBLE = """
[entities]
default = { action = "pseudonym", reversible = true }
[columns]
customer = { action = "pseudonym", entity = "PERSON", reversible = true }
ssn = "drop"
"""
ONE_WAY = """
[entities]
default = "pseudonym"
[columns]
customer = { action = "pseudonym", entity = "PERSON" }
ssn = "drop"
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    (tmp_path / "reversible.toml").write_text(REVERSIBLE, encoding="utf-8")
    (tmp_path / "one-way.toml").write_text(ONE_WAY, encoding="utf-8")
    return {"csv": write_csv(tmp_path / "tickets.csv"), "reversible": tmp_path / "reversible.toml",
            "one_way": tmp_path / "one-way.toml"}


def _workspace() -> Workspace:
    return Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), PASSPHRASE)


def _column(name: str, column: str) -> list[str]:
    with _workspace() as w:
        return [str(v) for v in load_dataset(w, name).table.column(column).to_pylist()]


def _keys(prefix: str) -> list[str]:
    with _workspace() as w:
        return w.list(prefix)


def _audit(action: str) -> list[dict[str, Any]]:
    with _workspace() as w:
        return [dict(e.details) for e in w.verify_audit().entries if e.action == action]


def _import(files: dict[str, Path], name: str = "tickets") -> None:
    assert cli(["import", str(files["csv"]), "--name", name, "--text-column", "text",
                "--label-column", "label"]) == 0


def test_reversible_anonymization_round_trips(files: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _import(files)
    assert cli(["anonymize", "tickets", "--policy", str(files["reversible"]), "--name", "anon"]) == 0
    assert "cloister reidentify anon TEXT" in capsys.readouterr().out
    originals, anonymized = [r[0] for r in ROWS], _column("anon", "text")
    assert anonymized != originals and "Lauritsen" not in "\n".join(anonymized)
    surrogates = tmp_path / "surrogates.txt"
    surrogates.write_text("\n".join(anonymized), encoding="utf-8")
    assert cli(["reidentify", "anon", "--file", str(surrogates)]) == 0
    out, err = capsys.readouterr()
    assert out == "\n".join(originals) + "\n"
    assert "Re-identified" in err and "Lauritsen" not in err
    customer = _column("anon", "customer")[1]
    assert customer != ROWS[1][2]
    assert cli(["reidentify", "anon", f"ask {customer} later"]) == 0
    assert capsys.readouterr().out == f"ask {ROWS[1][2]} later\n"
    anonymized_entry = _audit("dataset.anonymized")[-1]
    assert anonymized_entry["dataset"] == "anon" and anonymized_entry["reversible"] is True
    assert anonymized_entry["pseudonyms_kept"] >= 5
    entries = _audit("dataset.reidentified")
    assert [e["dataset"] for e in entries] == ["anon", "anon"] and entries[0]["replaced"] >= 5
    assert entries[1]["replaced"] == 1 and entries[1]["by_entity"] == {"PERSON": 1}
    assert "Lauritsen" not in json.dumps(entries) and "Voet" not in json.dumps(entries)
    assert cli(["reidentify", "anon", "hello world"]) == 0  # no surrogate in it: said so
    out, err = capsys.readouterr()
    assert out == "hello world\n" and "No pseudonym of dataset 'anon' was found" in err
    assert "personal data" not in err


def test_a_one_way_run_keeps_no_mapping_and_reidentify_refuses(
        files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _import(files)
    assert cli(["anonymize", "tickets", "--policy", str(files["one_way"]), "--name", "oneway"]) == 0
    assert "reidentify" not in capsys.readouterr().out
    keys = _keys("datasets/oneway/")
    assert len(keys) == 2 and pseudonym_map_key("oneway") not in keys  # meta and table only
    assert _audit("dataset.anonymized")[-1]["reversible"] is False
    surrogate = _column("oneway", "customer")[0]
    assert cli(["reidentify", "oneway", surrogate]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "has no reversible pseudonym mapping" in err and "Traceback" not in err
    assert cli(["reidentify", "tickets", "text"]) == 2  # a plain import has none either
    assert "has no reversible pseudonym mapping" in capsys.readouterr().err
    assert cli(["reidentify", "oneway"]) == 2  # neither TEXT nor --file
    assert "give the TEXT to re-identify" in capsys.readouterr().err
    assert _audit("dataset.reidentified") == []


def test_the_mapping_is_never_on_disk_in_plaintext(
        tmp_path: Path, isolated_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"Zqxrevcanary{i}" for i in range(4)]
    emails = [f"zqxrevmail{i}@example.com" for i in range(4)]
    user = tmp_path / "user_documents"  # the user's own files, outside what is scanned
    user.mkdir()
    source = user / "notes.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "patient"])
        for i in range(20):
            writer.writerow([f"Mr. {names[i % 4]} wrote from {emails[i % 4]}", "ab"[i % 2],
                             names[i % 4]])
    policy = user / "policy.toml"
    policy.write_text('[entities]\ndefault = { action = "pseudonym", reversible = true }\n'
                      '[columns]\npatient = { action = "pseudonym", entity = "PERSON", '
                      'reversible = true }\n', encoding="utf-8")
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "notes", "--anonymize", str(policy)]) == 0
    assert pseudonym_map_key("notes") in _keys("datasets/notes/")
    anonymized = _column("notes", "text")[0]
    assert not any(n in anonymized for n in names)
    capsys.readouterr()
    assert cli(["reidentify", "notes", anonymized]) == 0
    # The mapping really holds the canaries (so their absence on disk below means something).
    assert capsys.readouterr().out == f"Mr. {names[0]} wrote from {emails[0]}\n"
    scanned = assert_no_canaries(isolated_dirs, [*names, *emails, "Zqxrev", "zqxrev"])
    assert scanned >= 6


def test_the_mapping_follows_rename_and_goes_with_rm_and_replace(
        files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _import(files)
    assert cli(["anonymize", "tickets", "--policy", str(files["reversible"]), "--name", "anon"]) == 0
    assert pseudonym_map_key("anon") in _keys("datasets/anon/")
    surrogate = _column("anon", "customer")[0]
    assert cli(["rename", "anon", "moved"]) == 0
    assert _keys("datasets/anon/") == [] and pseudonym_map_key("moved") in _keys("datasets/moved/")
    capsys.readouterr()
    assert cli(["reidentify", "moved", surrogate]) == 0
    assert capsys.readouterr().out == f"{ROWS[0][2]}\n"
    assert cli(["rm", "moved", "--yes"]) == 0
    assert _keys("datasets/moved/") == []
    assert cli(["reidentify", "moved", surrogate]) == 2
    assert "no dataset named 'moved'" in capsys.readouterr().err
    # Replacing a reversibly anonymized dataset with a one-way one drops the old mapping.
    assert cli(["import", str(files["csv"]), "--name", "imp", "--anonymize",
                str(files["reversible"])]) == 0
    assert pseudonym_map_key("imp") in _keys("datasets/imp/")
    capsys.readouterr()
    assert cli(["import", str(files["csv"]), "--name", "imp", "--replace", "--anonymize",
                str(files["one_way"])]) == 0
    assert pseudonym_map_key("imp") not in _keys("datasets/imp/") and _keys("datasets/imp/")
    # Said, as a plain `import --replace` says it (it said only "Imported").
    assert "It replaces the earlier import of 'imp': " in capsys.readouterr().out
    assert cli(["reidentify", "imp", surrogate]) == 2
    assert "has no reversible pseudonym mapping" in capsys.readouterr().err


def test_a_mapping_that_cannot_be_stored_leaves_no_silently_one_way_dataset(
        files: dict[str, Path], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping is a second vault write after the dataset's: when it fails (here a full
    disk), the new dataset is removed again and the error says so; the source is untouched."""
    import engine.data.anonymize as anonymize

    _import(files)
    before = _column("tickets", "customer")

    def disk_full(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(anonymize, "save_pseudonym_map", disk_full)
    assert cli(["anonymize", "tickets", "--policy", str(files["reversible"]), "--name", "anon"]) == 2
    err = capsys.readouterr().err
    assert "mapping of 'anon' could not be stored" in err and "was not kept" in err
    assert "No space left on device" in err and "Traceback" not in err
    assert _keys("datasets/anon/") == []  # nothing half-made stays behind
    assert _column("tickets", "customer") == before
    assert _audit("dataset.anonymized") == []


def test_fixing_a_reversibly_anonymized_dataset_keeps_its_mapping(
        files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`cloister fix` replaces the stored rows; the save drops the old contents' mapping, and the
    pseudonyms in the fixed rows must still reverse (here and in a fixed copy)."""
    _import(files)
    assert cli(["anonymize", "tickets", "--policy", str(files["reversible"]), "--name", "anon"]) == 0
    customer = _column("anon", "customer")[1]
    assert cli(["fix", "anon", "--drop-duplicates"]) == 0
    assert cli(["fix", "anon", "--strip-markup", "--name", "anon-copy"]) == 0
    capsys.readouterr()
    for name in ("anon", "anon-copy"):
        assert cli(["reidentify", name, f"ask {customer} later"]) == 0
        assert capsys.readouterr().out == f"ask {ROWS[1][2]} later\n"
        # ... and the fixed rows are still the anonymized ones: not "never scanned" again
        assert cli(["show", name, "--rows", "0"]) == 0
        assert "Personal data: anonymized under" in capsys.readouterr().out
    _import(files, name="plain")  # a plain dataset's fix does not make it reviewed
    assert cli(["fix", "plain", "--drop-duplicates"]) == 0
    capsys.readouterr()
    assert cli(["show", "plain", "--rows", "0"]) == 0
    assert "Personal data: never scanned" in capsys.readouterr().out
