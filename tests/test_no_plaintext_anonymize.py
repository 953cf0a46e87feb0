"""Canary test for ``cloister import FILE --anonymize POLICY``: the original personal data must
not exist anywhere on disk afterwards (workspace, temp folder, caches), while the anonymized
dataset is really there."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.canary import assert_no_canaries

# Values the detectors find (an e-mail, a titled name, a Luhn-valid card, an IBAN, an SSN) and
# whole identifier columns; every one is unique enough to search the bytes on disk for.
EMAILS = [f"zqxcanarymail{i}@example.com" for i in range(4)]
NAMES = [f"Zqxcanaryperson{i}" for i in range(4)]
CARDS = ["4929578569339117", "5210402405591275", "4532213254254426", "4916050646364950"]
IBANS = ["GB42HRSI56613285431668", "GB36JGAJ77969475725982", "GB75RKJD46049068875686",
         "GB39KXYZ94874700365231"]
SSNS = ["196-20-7761", "781-05-5433", "201-82-2178", "536-32-3065"]
PATIENTS = [f"zqxcanarypatient{i}" for i in range(4)]
POLICY = """
[entities]
default = "tag"
PERSON = "pseudonym"
[columns]
patient = "pseudonym"
ssn = "drop"
"""


def test_anonymized_import_leaves_no_original_value_on_disk(
        tmp_path: Path, isolated_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    user = tmp_path / "user_documents"  # the user's own files: theirs, never scanned
    user.mkdir()
    source = user / "notes.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "patient", "ssn"])
        for i in range(40):
            k = i % 4
            writer.writerow([f"Mr. {NAMES[k]} ({EMAILS[k]}) paid with {CARDS[k]} from {IBANS[k]}",
                             "ab"[i % 2], PATIENTS[k], SSNS[k]])
    policy = user / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "canary passphrase")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "notes", "--anonymize", str(policy)]) == 0
    capsys.readouterr()
    assert cli(["show", "notes", "--rows", "4"]) == 0
    shown = capsys.readouterr().out
    assert "<EMAIL>" in shown and "<CREDIT_CARD>" in shown and "<IBAN>" in shown
    assert "Mr. " in shown  # the pseudonym replaced the name, the sentence is intact
    canaries = [*EMAILS, *NAMES, *CARDS, *IBANS, *SSNS, *PATIENTS, "Zqxcanary"]
    assert not any(c in shown for c in canaries)
    scanned = assert_no_canaries(isolated_dirs, canaries)
    assert scanned >= 6
