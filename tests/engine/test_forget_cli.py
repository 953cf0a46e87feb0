"""``cloister forget``: a person's erasure request on a real workspace (cheap test KDF). Their rows
leave every dataset, found by name, e-mail, number or a column's id, and through a reversible
anonymization's pseudonyms; the runs trained on them are named or deleted; nothing keeps the
values searched for; a refused or unconfirmed request changes nothing."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from engine.cli import main as cli
from engine.data.store import dataset_info, load_dataset, pseudonym_map_key
from engine.erasure import check_values, rows_matching, value_pattern
from engine.errors import InputError
from engine.runs import RunRecord, RunStatus, list_runs, new_run_id, save_run
from privacy.vault.workspace import Workspace
from tests.engine.test_privacy_cli import ROWS, write_csv

PASSPHRASE = "forget tests"
MORE = [
    ("My order never arrived, please refund", "a", "Ana Lima", "111-22-3333"),
    ("Kim from support was helpful", "b", "Jo Park", "444-55-6666"),  # "Kim" alone is not her
    ("Where is my parcel? It is late again", "a", "Lee Wong", "777-88-9999"),
    ("Password reset mail never comes", "b", "Sam Roy", "222-33-4444"),
]
REVERSIBLE = """
[entities]
default = { action = "pseudonym", reversible = true }
[columns]
customer = { action = "pseudonym", entity = "PERSON", reversible = true }
ssn = "drop"
"""


@pytest.fixture
def csv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    path = write_csv(tmp_path / "tickets.csv", rows=[*ROWS, *MORE])
    assert cli(["import", str(path), "--name", "tickets", "--text-column", "text",
                "--label-column", "label"]) == 0
    return path


def _workspace() -> Workspace:
    return Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), PASSPHRASE)


def _texts(name: str) -> list[str]:
    with _workspace() as w:
        return [str(v) for v in load_dataset(w, name).table.column("text").to_pylist()]


def _digest(name: str) -> str:
    with _workspace() as w:
        return dataset_info(w, name).sha256


def _audit() -> list[tuple[str, dict[str, Any]]]:
    with _workspace() as w:
        return [(e.action, dict(e.details)) for e in w.verify_audit().entries]


def _run_on(name: str) -> str:
    with _workspace() as w:
        record = RunRecord(run_id=new_run_id(), dataset=name, config={}, status=RunStatus.FINISHED,
                           dataset_sha256=dataset_info(w, name).sha256)
        save_run(w, record)
    return record.run_id


def test_a_person_leaves_the_dataset_with_counts_only_kept(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_on("tickets")
    capsys.readouterr()
    assert cli(["forget", "kimberly lauritsen", "kim.l@example.com", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "tickets: 2 of 8 rows ('kimberly lauritsen' 2 rows, 'kim.l@example.com' 1 row)" in out
    assert f"run {run} (finished) was trained on them" in out
    assert f"`cloister rm-run {run}`" in out  # kept, and said how to delete it
    texts = _texts("tickets")
    assert len(texts) == 6 and not any("Lauritsen" in t for t in texts)
    assert "Kim from support was helpful" in texts  # a first name alone is someone else
    with _workspace() as w:
        history = dataset_info(w, "tickets").history
    assert history[-1]["kind"] == "forget" and history[-1]["rows_removed"] == 2
    entries = _audit()
    assert ("person.forgotten", {"datasets": {"tickets": 2}, "runs_deleted": [],
                                 "pseudonyms": 0}) in entries
    assert any(a == "dataset.fixed" and d["fix"] == "forget" for a, d in entries)
    # Neither the history nor the audit log keeps what was searched for.
    assert "auritsen" not in repr(history).lower() + repr(entries).lower()
    assert "kim.l" not in repr(history) + repr(entries)
    with _workspace() as w:
        assert [r.run_id for r in list_runs(w)] == [run]


def test_with_runs_deletes_the_runs_trained_on_the_rows(csv_file: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_on("tickets")
    assert cli(["forget", "Donald van der Voet", "--with-runs", "--yes"]) == 0
    assert f"Deleted run {run}" in capsys.readouterr().out
    with _workspace() as w:
        assert list_runs(w) == []
    assert ("person.forgotten", {"datasets": {"tickets": 1}, "runs_deleted": [run],
                                 "pseudonyms": 0}) in _audit()


def test_a_number_is_found_however_it_is_spaced_and_an_id_by_its_column(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["forget", "978 645 9740", "--dry-run"]) == 0  # written "(978)645-9740"
    assert "tickets: 1 of 8 rows" in capsys.readouterr().out
    assert cli(["forget", "196-20-7761", "--column", "ssn", "--yes"]) == 0
    assert len(_texts("tickets")) == 6 and not any("Lauritsen" in t for t in _texts("tickets"))
    assert cli(["forget", "x", "--column", "nope", "--yes"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err


def test_a_dry_run_or_no_confirmation_changes_nothing(csv_file: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest("tickets")
    assert cli(["forget", "Kimberly Lauritsen", "--dry-run"]) == 0
    assert "Nothing changed (--dry-run)" in capsys.readouterr().out
    assert cli(["forget", "Kimberly Lauritsen"]) == 2  # no terminal to confirm on
    assert "pass --yes" in capsys.readouterr().err
    assert _digest("tickets") == before
    assert not any(action == "person.forgotten" for action, _ in _audit())


def test_refused_requests_change_nothing(csv_file: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest("tickets")
    assert cli(["forget", "Al", "--yes"]) == 2
    assert "too short to identify one person" in capsys.readouterr().err
    only_her = write_csv(tmp_path / "hers.csv", rows=[ROWS[0], ROWS[2]])
    assert cli(["import", str(only_her), "--name", "hers", "--text-column", "text",
                "--label-column", "label", "--force"]) == 0
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "every row of 'hers' is about this person" in err and "cloister rm" in err
    assert _digest("tickets") == before  # the other dataset was not changed either
    assert cli(["forget", "Nobody Here", "--yes"]) == 0
    assert "Nothing to remove" in capsys.readouterr().out
    assert _digest("tickets") == before


def test_a_reversible_anonymization_is_searched_through_its_pseudonyms(
        csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "reversible.toml"
    policy.write_text(REVERSIBLE, encoding="utf-8")
    assert cli(["anonymize", "tickets", "--policy", str(policy), "--name", "anon"]) == 0
    assert not any("Lauritsen" in t for t in _texts("anon"))
    with _workspace() as w:
        mapping_before = w.read_json(pseudonym_map_key("anon"))
    assert "Lauritsen" in repr(mapping_before)
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dataset", "anon", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "anon: 2 of 8 rows" in out and "in its reversible mapping" in out
    assert len(_texts("anon")) == 6
    with _workspace() as w:
        mapping_after = w.read_json(pseudonym_map_key("anon"))
        assert "anonymized from dataset 'tickets'" in dataset_info(w, "anon").problems
    assert "Lauritsen" not in repr(mapping_after)
    assert "Voet" in repr(mapping_after)  # the others' pseudonyms can still be reversed
    assert len(_texts("tickets")) == 8  # only the dataset named was searched


def test_an_anonymized_copy_with_nothing_found_is_said_to_be_out_of_reach(
        csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "one-way.toml"
    policy.write_text(REVERSIBLE.replace(", reversible = true", ""), encoding="utf-8")
    assert cli(["anonymize", "tickets", "--policy", str(policy), "--name", "anon"]) == 0
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "anon: nothing found (an anonymized copy of 'tickets'" in out
    assert "anonymize 'tickets' again afterwards" in out


@pytest.mark.parametrize(("value", "text", "found"), [
    ("Jane Doe", "Call from JANE  doe today", True),
    ("Jane Doe", "Call from Jane Doerr today", False),
    ("Ali", "Alison rang", False),
    ("José Núñez", "escribió josé núñez ayer", True),
    ("José", "Josépha", False),
    ("jane@example.com", "mail: Jane@Example.com.", True),
    ("+49 30 1234567", "Tel. 49-30-123 4567", True),
    ("030 1234567", "Tel. 0301234567", True),
    ("030 1234567", "Tel. 90301234567", False),
])
def test_values_match_as_whole_words(value: str, text: str, found: bool) -> None:
    table = pa.table({"text": [text, "nothing"]})
    mask, counts = rows_matching(table, check_values([value]))
    assert list(mask) == [found, False] and counts[check_values([value])[0]] == int(found)
    assert value_pattern(value)  # a pattern RE2 compiled above


def test_short_or_empty_values_are_refused_unless_a_column_is_named() -> None:
    with pytest.raises(InputError, match="too short"):
        check_values(["Al"])
    with pytest.raises(InputError, match="identifies nobody"):
        check_values(["  "])
    assert check_values(["42"], whole_cells=True) == ("42",)
    assert check_values(["Jane  Doe", "jane doe"]) == ("Jane Doe",)
    mask, _ = rows_matching(pa.table({"id": [42, 420, None]}), ["42"], ["id"])
    assert list(mask) == [True, False, False]
