"""``cloister scan`` / ``anonymize`` / ``import --anonymize`` end to end, in-process, on a real
workspace (cheap KDF): results, consistency of pseudonyms, and that bad input stores nothing."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.conftest import REAL_DATA

POLICY = """
[entities]
PERSON = "pseudonym"
EMAIL = "pseudonym"
CREDIT_CARD = { action = "mask", keep_last = 4 }
default = "tag"
[columns]
customer = { action = "pseudonym", entity = "PERSON" }
ssn = "drop"
"""
ROWS = [
    ("Mrs. Kimberly Lauritsen paid with 4929 5785 6933 9117, mail kim.l@example.com", "a",
     "Kimberly Lauritsen", "196-20-7761"),
    ("Call Donald van der Voet on (978)645-9740 about the refund", "b", "Donald van der Voet",
     "536-32-3065"),
    ("Kimberly Lauritsen wrote again, from 10.218.6.131", "a", "Kimberly Lauritsen",
     "196-20-7761"),
    ("The app crashes when I open settings", "b", "Erik Pirogova", "273-11-2517"),
]


def write_csv(path: Path, rows=ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "customer", "ssn"])
        writer.writerows(rows)
    return path


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "privacy cli tests")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    return {"csv": write_csv(tmp_path / "tickets.csv"), "policy": policy}


def _rows(capsys: pytest.CaptureFixture[str], name: str) -> list[str]:
    capsys.readouterr()
    assert cli(["show", name, "--rows", "10"]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]


def test_scan_a_file_as_json_needs_no_workspace(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "t.csv")
    assert cli(["scan", str(source), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 4
    assert report["findings"]["CREDIT_CARD"] == 1 and report["findings"]["PHONE"] == 1
    assert report["by_column"]["text"]["PERSON"] >= 3
    assert 0 < report["share_of_text_changed"] < 1
    proposed = {p["column"]: p["entity"] for p in report["proposed_identifier_columns"]}
    assert proposed["ssn"] == "US_SSN" and proposed["customer"] == "PERSON"
    assert "Lauritsen" not in json.dumps(report)  # examples are masked


def test_scan_real_complaints_excerpt(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["scan", str(REAL_DATA / "cfpb_complaints_extract" / "complaints.csv")]) == 0
    out = capsys.readouterr().out
    assert "376 rows" in out and "Proposed identifier column 'ZIP code'" in out


def test_a_slow_scan_says_how_far_it_is_and_a_quick_one_says_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Three silent minutes on 800,000 rows with the rules alone (progress was for the name
    # model only).
    import itertools
    import time

    complaints = str(REAL_DATA / "cfpb_complaints_extract" / "complaints.csv")
    assert cli(["scan", complaints]) == 0
    assert "scanning:" not in capsys.readouterr().err  # quick: no progress noise
    clock = itertools.count(0, 5.0)  # five seconds go by between two looks at the clock
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    assert cli(["scan", complaints]) == 0
    assert "scanning: 376/376 rows" in capsys.readouterr().err


def test_anonymize_dataset_creates_a_new_one_and_audits_the_policy(
        ws: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["import", str(ws["csv"]), "--name", "tickets", "--text-column", "text",
                "--label-column", "label"]) == 0
    assert cli(["anonymize", "tickets", "--policy", str(ws["policy"]), "--name", "tickets-anon"]) == 0
    anon = _rows(capsys, "tickets-anon")
    text = "\n".join(anon)
    assert "Lauritsen" not in text and "4929 5785" not in text and "kim.l@example.com" not in text
    assert "**** **** **** 9117" in text and "<PHONE>" in text and "<IP_ADDRESS>" in text
    assert "The app crashes when I open settings" in text
    # The same person gets the same surrogate in both rows that name her.
    first = anon[0].split("] ")[1].split(" paid")[0]
    assert anon[2].split("] ")[1].startswith(first.removeprefix("Mrs. ") + " wrote")
    original = "\n".join(_rows(capsys, "tickets"))
    assert "Kimberly Lauritsen" in original  # the source dataset is untouched
    capsys.readouterr()
    assert cli(["audit"]) == 0
    audit = capsys.readouterr().out
    assert "dataset.anonymized" in audit and "policy_sha256" in audit and "ssn = \\\"drop\\\"" in audit


def test_pseudonyms_match_across_datasets_and_differ_between_workspaces(
        ws: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--name", "a", "--anonymize", str(ws["policy"])]
    assert cli(["import", str(ws["csv"]), *args]) == 0
    assert cli(["import", str(ws["csv"]), "--name", "b", "--anonymize", str(ws["policy"])]) == 0
    a, b = _rows(capsys, "a"), _rows(capsys, "b")
    assert a == b and "Lauritsen" not in "\n".join(a)
    monkeypatch.setenv("CLOISTER_WORKSPACE", str(tmp_path / "other"))
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(ws["csv"]), *args]) == 0
    other = _rows(capsys, "a")
    assert other != a and len(other) == len(a)


def test_identifier_columns_the_policy_leaves_out_are_named_after_anonymizing(
        ws: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """"Anonymized" must not read as "every identifier handled": the scan's proposed identifier
    columns that the policy does not name are stored as they were, and the user is told which."""
    assert cli(["import", str(ws["csv"]), "--name", "tickets", "--text-column", "text",
                "--label-column", "label"]) == 0
    text_only = tmp_path / "text-only.toml"
    text_only.write_text('scan_columns = ["text"]\n[entities]\nPERSON = "pseudonym"\ndefault = "tag"\n',
                         encoding="utf-8")
    capsys.readouterr()
    assert cli(["anonymize", "tickets", "--policy", str(text_only), "--name", "partly"]) == 0
    err = capsys.readouterr().err
    assert "warning: kept as they were" in err and "'ssn' (US_SSN" in err and "'customer' (PERSON" in err
    assert "under [columns] in the policy" in err
    # A policy that names both says nothing more.
    assert cli(["anonymize", "tickets", "--policy", str(ws["policy"]), "--name", "whole"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_proposed_column_whose_every_value_the_detectors_replaced_is_not_said_kept(
        tmp_path: Path, ws: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # An "E-Mail" column of addresses, scanned as text: every value became <EMAIL>, yet the
    # warning said it was "kept as it was". A customer number no detector knows is kept.
    source = tmp_path / "kontakt.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "E-Mail", "customer_id"])
        for i, (text, label, _, _) in enumerate(ROWS):
            writer.writerow([text, label, f"kunde{i}@example.de", f"K{7310 + i}"])
    tag_all = tmp_path / "tag.toml"
    tag_all.write_text('[entities]\ndefault = "tag"\n', encoding="utf-8")
    capsys.readouterr()
    assert cli(["import", str(source), "--name", "kontakt", "--anonymize", str(tag_all)]) == 0
    err = capsys.readouterr().err
    assert "kept as they were" in err and "'customer_id' (ID" in err
    assert "E-Mail" not in err
    import argparse

    from engine.cli.common import open_workspace
    from engine.data.store import load_dataset

    stored = load_dataset(open_workspace(argparse.Namespace(workspace=None)), "kontakt").table
    assert set(stored.column("E-Mail").to_pylist()) == {"<EMAIL>"}
    assert stored.column("customer_id").to_pylist() == ["K7310", "K7311", "K7312", "K7313"]


@pytest.mark.parametrize("policy, message", [
    ('[entities]\nPERSONS = "tag"\n', "line 2: [entities] PERSONS: unknown entity type"),
    ('[columns]\ncustomr = "drop"\n', "columns names column 'customr'"),
    ('[entities\n', "not valid TOML"),
    ('[entities]\nPERSON = { action = "pseudonym", reversable = true }\n',
     "line 2: entities.PERSON: 'pseudonym' takes no setting 'reversable'"),
    ("[[patterns]]\nentity = 'X'\nregex = '(a|aa)+$'\n", "catastrophic"),
])
def test_bad_policy_changes_nothing_stored(ws: dict[str, Path], tmp_path: Path, policy: str,
                                           message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["import", str(ws["csv"]), "--name", "tickets"]) == 0
    workspace = Path(__import__("os").environ["CLOISTER_WORKSPACE"])
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.toml"
    bad.write_text(policy, encoding="utf-8")
    capsys.readouterr()
    assert cli(["anonymize", "tickets", "--policy", str(bad), "--name", "x"]) == 2
    assert cli(["import", str(ws["csv"]), "--name", "y", "--anonymize", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    after = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    assert after == before


def test_empty_file_and_existing_target_are_refused(ws: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n", encoding="utf-8")
    assert cli(["scan", str(empty)]) != 0
    err = capsys.readouterr().err
    assert "no data rows" in err and "Traceback" not in err
    assert cli(["import", str(ws["csv"]), "--name", "tickets"]) == 0
    assert cli(["anonymize", "tickets", "--policy", str(ws["policy"]), "--name", "tickets"]) == 2
    assert "needs a new name" in capsys.readouterr().err


def test_review_state_follows_scans_reimports_and_renames(ws: dict[str, Path]) -> None:
    import os

    from engine.data.anonymize import privacy_reviewed
    from privacy.vault.workspace import Workspace

    assert cli(["import", str(ws["csv"]), "--name", "t"]) == 0
    root = Path(os.environ["CLOISTER_WORKSPACE"])
    with Workspace.unlock(root, "privacy cli tests") as w:
        assert "t" not in privacy_reviewed(w)
    assert cli(["scan", "t"]) == 0
    assert cli(["rename", "t", "u"]) == 0
    with Workspace.unlock(root, "privacy cli tests") as w:
        assert privacy_reviewed(w) == {"u"}
    assert cli(["import", str(ws["csv"]), "--name", "u", "--replace"]) == 0
    with Workspace.unlock(root, "privacy cli tests") as w:
        assert privacy_reviewed(w) == set()


def test_show_says_what_was_done_about_personal_data(ws: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    def personal(name: str) -> str:
        capsys.readouterr()
        assert cli(["show", name, "--rows", "0"]) == 0
        return next(line for line in capsys.readouterr().out.splitlines()
                    if line.startswith("Personal data: "))

    assert cli(["import", str(ws["csv"]), "--name", "t"]) == 0
    assert personal("t").startswith("Personal data: never scanned; `cloister scan t`")
    assert cli(["scan", "t"]) == 0
    line = personal("t")
    assert line.startswith("Personal data: scanned, not anonymized (found: ") and "CREDIT_CARD 1" in line
    assert cli(["rename", "t", "u"]) == 0
    assert personal("u").startswith("Personal data: scanned, not anonymized")
    assert cli(["import", str(ws["csv"]), "--name", "a", "--anonymize", str(ws["policy"])]) == 0
    line = personal("a")
    assert line.startswith(f"Personal data: anonymized under {ws['policy']} (found: ") and "PHONE 1" in line
    assert "scanned since" not in line
    # A scan of the anonymized dataset does not undo what was done: still anonymized, and what
    # the scan found (the types the policy kept) said beside it.
    assert cli(["scan", "a"]) == 0
    line = personal("a")
    assert line.startswith(f"Personal data: anonymized under {ws['policy']} (found: ") and "PHONE 1" in line
    assert "; scanned since, found: " in line
    assert cli(["import", str(ws["csv"]), "--name", "u", "--replace"]) == 0
    assert personal("u").startswith("Personal data: never scanned")  # new contents, no review


def test_a_long_policy_is_kept_in_the_vault_and_named_in_the_audit(ws: dict[str, Path],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The bundled example policy (several kB) crashed the import after storing the dataset: the
    audit log takes short details only, so the entry saying it was anonymized was never written."""
    import hashlib
    import os

    from engine.data.anonymize import policy_key
    from privacy.vault.workspace import Workspace

    example = ws["policy"].with_name("long-policy.toml")  # the bundled example is 3.7 kB
    text = "".join(f"# why this policy: reason {i} of a long explanation\n" for i in range(20))
    example.write_text(text + ws["policy"].read_text(encoding="utf-8"), encoding="utf-8")
    text = example.read_text(encoding="utf-8")
    assert len(text) > 256
    assert cli(["import", str(ws["csv"]), "--name", "a", "--anonymize", str(example)]) == 0
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    capsys.readouterr()
    assert cli(["audit"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "dataset.anonymized" in x)
    assert sha in line and policy_key(sha) in line
    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), "privacy cli tests") as w:
        assert w.read_bytes(policy_key(sha)).decode("utf-8") == text
    capsys.readouterr()
    assert cli(["show", "a", "--rows", "0"]) == 0
    assert "Personal data: anonymized under" in capsys.readouterr().out


def test_fixes_applied_with_anonymize_stay_in_the_history_of_both_copies(
        ws: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # ROWS repeated: the second copy of each row is an exact duplicate for --drop-duplicates.
    doubled = write_csv(tmp_path / "doubled.csv", ROWS + ROWS)
    assert cli(["import", str(doubled), "--name", "fixed", "--text-column", "text",
                "--label-column", "label", "--drop-duplicates",
                "--anonymize", str(ws["policy"])]) == 0
    capsys.readouterr()
    assert cli(["show", "fixed", "--rows", "0"]) == 0
    shown = capsys.readouterr().out
    assert f"{len(ROWS)} rows" in shown
    assert "Fixed: dropped 4 rows repeating an earlier row" in shown
    # A fixed dataset imported plainly keeps its history when an anonymized copy is made.
    assert cli(["import", str(doubled), "--name", "plain", "--text-column", "text",
                "--label-column", "label", "--drop-duplicates"]) == 0
    assert cli(["anonymize", "plain", "--policy", str(ws["policy"]), "--name", "again"]) == 0
    capsys.readouterr()
    assert cli(["show", "again", "--rows", "0"]) == 0
    again = capsys.readouterr().out
    assert "Fixed: dropped 4 rows repeating an earlier row" in again


def test_names_option_brings_the_name_model_to_scan_and_anonymize(
        ws: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [("Wells Fargo closed my account without notice", "a", "Kim Lee", "196-20-7761"),
            ("thanks jiminy, I went to Brightwave Logistics", "b", "Kim Lee", "196-20-7761")]
    source = write_csv(tmp_path / "orgs.csv", rows)
    assert cli(["scan", str(source), "--json"]) == 0
    assert "ORGANIZATION" not in json.loads(capsys.readouterr().out)["findings"]
    assert cli(["scan", str(source), "--json", "--names", "both"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["findings"]["ORGANIZATION"] == 2
    assert "name model: 2/2 rows" in captured.err  # progress, since the model is the slow part
    assert cli(["import", str(source), "--name", "orgs", "--text-column", "text",
                "--label-column", "label", "--force"]) == 0
    assert cli(["anonymize", "orgs", "--policy", str(ws["policy"]), "--name", "orgs-anon",
                "--names", "model"]) == 0
    text = "\n".join(_rows(capsys, "orgs-anon"))
    assert "Wells Fargo" not in text and "Brightwave" not in text and "jiminy" not in text
    assert "<ORGANIZATION>" in text


def test_anonymized_multi_label_import_checks_classes_one_by_one(ws: dict[str, Path], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(text, "a|b" if i == 0 else label, customer, ssn)
            for i, (text, label, customer, ssn) in enumerate(ROWS * 8)]
    source = write_csv(tmp_path / "multi.csv", rows)
    assert cli(["import", str(source), "--name", "m", "--anonymize", str(ws["policy"]),
                "--label-delimiter", "|"]) == 0
    capsys.readouterr()
    # Stored without the one-row "a|b" class error, so training does not refuse the dataset.
    assert cli(["train", "m", "--multi-label", "--dry-run"]) == 0
    assert "dry run: nothing was trained" in capsys.readouterr().out


def test_the_example_policy_is_printed_and_is_a_valid_policy(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Help texts point at `cloister example-policy`: an installed build's users cannot find a
    path inside the repository."""
    from privacy.pii.policy import load_policy

    assert cli(["example-policy"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Cloister anonymization policy") and "[entities]" in text
    saved = tmp_path / "policy.toml"
    saved.write_text(text, encoding="utf-8")
    policy = load_policy(saved)
    assert policy.entities["PERSON"].action == "pseudonym"


def test_a_scan_s_counts_are_said_to_be_older_than_an_erasure(
        ws: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """After rows were removed, the scan's counts still showed as the dataset's: a data
    protection officer read them as personal data still held."""
    assert cli(["import", str(ws["csv"]), "--name", "t", "--text-column", "text",
                "--label-column", "label"]) == 0
    assert cli(["scan", "t"]) == 0
    capsys.readouterr()
    assert cli(["show", "t"]) == 0
    assert "counted before the rows" not in capsys.readouterr().out
    assert cli(["forget", "Donald van der Voet", "--yes"]) == 0
    capsys.readouterr()
    assert cli(["show", "t"]) == 0
    shown = capsys.readouterr().out
    assert "scanned, not anonymized" in shown
    assert "counted before the rows were fixed or erased: `cloister scan t` counts again" in shown


def test_the_model_card_says_when_the_training_rows_were_anonymized(ws: dict[str, Path]) -> None:
    # It said "Anonymization of personal data: none" of every run, one trained on an anonymized
    # copy too; and the same for a dataset imported again since, which it cannot know of.
    import os
    from types import SimpleNamespace

    from engine.data.anonymize import anonymization_said
    from engine.data.store import dataset_info
    from privacy.vault.workspace import Workspace

    assert cli(["import", str(ws["csv"]), "--name", "tickets", "--text-column", "text",
                "--label-column", "label"]) == 0
    assert cli(["anonymize", "tickets", "--policy", str(ws["policy"]), "--name", "anon"]) == 0
    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), "privacy cli tests") as w:
        def run_on(name: str, sha256: str | None = None) -> SimpleNamespace:
            return SimpleNamespace(dataset=name, dataset_sha256=sha256 or dataset_info(w, name).sha256)

        said = anonymization_said(w, run_on("anon"))
        assert said.startswith("the training rows were anonymized before training (one-way "
                               "pseudonyms where the policy pseudonymizes; policy sha256 ")
        assert anonymization_said(w, run_on("tickets")) == "none"
        assert anonymization_said(w, run_on("gone", "0" * 64)).startswith("not known (the dataset")
        before = run_on("anon")
    assert cli(["rename", "anon", "renamed"]) == 0  # a rename keeps what the rows are
    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), "privacy cli tests") as w:
        assert anonymization_said(w, before).startswith("the training rows were anonymized")


def test_ids_the_texts_still_hold_beside_their_pseudonyms_are_said(ws: dict[str, Path],
                                                                   tmp_path: Path, capsys) -> None:
    # The customer_id column became ID_a16aba while the texts kept "Kundennummer CUST-008812":
    # anyone could link the pseudonym back, and nothing said so.
    rows = [(f"Kundennummer CUST-00{8810 + i} wartet auf die Erstattung", "a" if i % 2 else "b",
             f"CUST-00{8810 + i}") for i in range(4)] + [("Keine Nummer hier", "a", "CUST-009999"),
                                                        ("Billing question", "b", "Bill")]
    path = tmp_path / "ids.csv"
    path.write_text("text,label,customer_id\n" + "".join(f"{t},{lab},{c}\n" for t, lab, c in rows),
                    encoding="utf-8")
    assert cli(["import", str(path), "--name", "ids", "--text-column", "text",
                "--label-column", "label"]) == 0
    plain = tmp_path / "ids.toml"
    plain.write_text('[columns]\ncustomer_id = "pseudonym"\n', encoding="utf-8")
    capsys.readouterr()
    assert cli(["anonymize", "ids", "--policy", str(plain), "--name", "ids-anon"]) == 0
    err = capsys.readouterr().err
    assert ("the texts still hold, as written, values of columns the policy replaced "
            "('customer_id' in 4 rows)") in err and "[[patterns]]" in err
    patterned = tmp_path / "ids-patterned.toml"
    patterned.write_text('[columns]\ncustomer_id = "pseudonym"\n[[patterns]]\nentity = "CUSTOMER_ID"\n'
                         "regex = 'CUST-\\d{6}'\naction = \"pseudonym\"\n", encoding="utf-8")
    assert cli(["anonymize", "ids", "--policy", str(patterned), "--name", "ids-anon2"]) == 0
    assert "still hold" not in capsys.readouterr().err


def test_show_full_prints_every_column_whole(ws: dict[str, Path], capsys) -> None:
    # `show` printed the text column alone, cut at 100 characters: an anonymized copy could not
    # be checked from the command line, its other columns least of all.
    assert cli(["import", str(ws["csv"]), "--name", "tickets", "--text-column", "text",
                "--label-column", "label"]) == 0
    assert cli(["anonymize", "tickets", "--policy", str(ws["policy"]), "--name", "anon"]) == 0
    capsys.readouterr()
    assert cli(["show", "anon", "--rows", "2", "--full"]) == 0
    out = capsys.readouterr().out
    first = out.split("     1\n")[1].split("     2\n")[0]
    assert [line.split(":")[0].strip() for line in first.splitlines()] == ["text", "label", "customer"]
    assert "kim.l@example.com" not in out and "Lauritsen" not in out and "customer: " in first
    assert cli(["show", "anon", "--rows", "1"]) == 0
    assert "customer:" not in capsys.readouterr().out  # without --full, as before


def test_scan_progress_into_a_log_is_a_line_now_and_then_not_one_per_row(monkeypatch, capsys) -> None:
    import io

    from engine.cli.privacy_cmds import _progress
    from privacy.pii.policy import Policy

    policy = Policy()
    policy.names = "model"  # said from the first row
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal: a log file
    show = _progress(policy)
    for done in range(1, 121):
        show(done, 120)
    lines = __import__("sys").stderr.getvalue().splitlines()
    assert "\r" not in "".join(lines)
    assert lines[-1] == "  name model: 120/120 rows" and len(lines) <= 2


def test_a_date_column_s_unreadable_cells_are_named_by_row(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # "unknown" in a column under generalize_date became <ID> without a word.
    source = tmp_path / "visits.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "dob"])
        writer.writerows([("fine", "a", "1990-03-14"), ("slow", "b", "unknown"),
                          ("ok", "a", "3/14/2013"), ("bad", "b", "n/a")])
    policy = tmp_path / "dates.toml"
    policy.write_text('[columns]\ndob = "generalize_date"\n', encoding="utf-8")
    assert cli(["scan", str(source), "--policy", str(policy)]) == 0
    err = capsys.readouterr().err
    assert "warning: cells that their column's rule cannot read are tagged" in err
    assert "column 'dob': 2 cells (rows 2, 4) that generalize_date cannot read, tagged <DATE>" in err
    assert cli(["scan", str(source), "--policy", str(policy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unread_cells"] == {"dob": {"cells": 2, "rows": [2, 4], "tag": "<DATE>"}}
