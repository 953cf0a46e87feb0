"""``cloister forget``: a person's erasure request on a real workspace (cheap test KDF). Their rows
leave every dataset, found by name, e-mail, number or a column's id, and through a reversible
anonymization's pseudonyms; the runs trained on them are named or deleted; nothing keeps the
values searched for; a refused or unconfirmed request changes nothing."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main as cli
from engine.data.store import dataset_info, load_dataset, pseudonym_map_key
from engine.runs import RunRecord, RunStatus, list_runs, new_run_id, save_run
from privacy.vault.workspace import Workspace
from tests.engine.test_privacy_cli import ROWS, write_csv
from tests.engine.test_reidentify_cli import REVERSIBLE

PASSPHRASE = "forget tests"
MORE = [
    ("My order never arrived, please refund", "a", "Ana Lima", "111-22-3333"),
    ("Kim from support was helpful", "b", "Jo Park", "444-55-6666"),  # "Kim" alone is not her
    ("Where is my parcel? It is late again", "a", "Lee Wong", "777-88-9999"),
    ("Password reset mail never comes", "b", "Sam Roy", "222-33-4444"),
]


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


def _anonymize(tmp_path: Path, policy_text: str, source: str, name: str) -> None:
    policy = tmp_path / f"{name}.toml"
    policy.write_text(policy_text, encoding="utf-8")
    assert cli(["anonymize", source, "--policy", str(policy), "--name", name]) == 0


def _run_on(name: str) -> str:
    with _workspace() as w:
        record = RunRecord(run_id=new_run_id(), dataset=name, config={}, status=RunStatus.FINISHED,
                           dataset_sha256=dataset_info(w, name).sha256)
        save_run(w, record)
    return record.run_id


def test_a_person_leaves_the_dataset_with_counts_only_kept(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_on("tickets")
    with _workspace() as w:  # imported long ago, not in this same second
        meta = w.read_json("datasets/tickets/meta.json")
        w.write_json("datasets/tickets/meta.json", {**meta, "created": "2024-01-02T03:04:05+00:00"})
        imported = dataset_info(w, "tickets").created
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
        assert dataset_info(w, "tickets").created == imported  # still when it was imported
    assert history[-1]["kind"] == "forget" and history[-1]["rows_removed"] == 2
    entries = _audit()
    # The run that keeps the rows is named: a DPO's file rebuilt from the log must show it.
    assert ("person.forgotten", {"datasets": {"tickets": 2}, "runs_deleted": [], "runs_kept": [run],
                                 "pseudonyms": 0, "report_quotes": 0}) in entries
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
    out = capsys.readouterr().out
    assert f"Deleted run {run}" in out
    assert "Models exported from those runs" in out  # their copies outlive the deletion
    with _workspace() as w:
        assert list_runs(w) == []
    assert ("person.forgotten", {"datasets": {"tickets": 1}, "runs_deleted": [run], "runs_kept": [],
                                 "pseudonyms": 0, "report_quotes": 0}) in _audit()


def test_a_number_is_found_however_it_is_spaced_and_an_id_by_its_column(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["forget", "978 645 9740", "--dry-run", "--show"]) == 0  # "(978)645-9740"
    out = capsys.readouterr().out
    assert "tickets: 1 of 8 rows" in out
    assert "    row     2  Call Donald van der Voet on (978)645-9740 about the refund" in out
    assert cli(["forget", "196-20-7761", "--column", "ssn", "--yes"]) == 0
    assert len(_texts("tickets")) == 6 and not any("Lauritsen" in t for t in _texts("tickets"))
    assert cli(["forget", "x", "--column", "nope", "--yes"]) == 2
    assert "no dataset has the column 'nope'" in capsys.readouterr().err


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
    _anonymize(tmp_path, REVERSIBLE, "tickets", "anon")
    assert not any("Lauritsen" in t for t in _texts("anon"))
    with _workspace() as w:
        mapping_before = w.read_json(pseudonym_map_key("anon"))
    assert "Lauritsen" in repr(mapping_before)
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dataset", "anon", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "anon: 2 of 8 rows (2 of them by their pseudonyms)" in out
    # Her two names, and what only her rows held: her card, address and IP address.
    assert "5 pairs of its reversible mapping (naming them, or only in their rows)" in out
    assert len(_texts("anon")) == 6
    with _workspace() as w:
        mapping_after = w.read_json(pseudonym_map_key("anon"))
        assert "anonymized from dataset 'tickets'" in dataset_info(w, "anon").problems
    assert "Lauritsen" not in repr(mapping_after)
    for hers in ("4929 5785 6933 9117", "kim.l@example.com", "10.218.6.131"):
        assert hers in repr(mapping_before) and hers not in repr(mapping_after)
    assert "Voet" in repr(mapping_after)  # the others' pseudonyms can still be reversed
    assert len(_texts("tickets")) == 8  # only the dataset named was searched


def test_a_one_way_anonymized_copy_is_searched_through_the_pseudonyms_its_key_gives(
        csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _anonymize(tmp_path, REVERSIBLE.replace(", reversible = true", ""), "tickets", "anon")
    with _workspace() as w:
        assert not w.has(pseudonym_map_key("anon"))  # nothing to look her up in
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dataset", "anon", "--yes"]) == 0
    out = capsys.readouterr().out
    # The workspace's key gives "Kimberly Lauritsen" the same pseudonym in every copy.
    assert "anon: 2 of 8 rows (2 of them by their pseudonyms)" in out
    assert "an anonymized copy of 'tickets', searched for the pseudonyms" in out
    assert len(_texts("anon")) == 6
    capsys.readouterr()
    # Found by a column the policy kept, the same is said.
    _anonymize(tmp_path, 'scan_columns = ["text"]\n[entities]\ndefault = "pseudonym"\n',
               "tickets", "anon2")
    capsys.readouterr()
    assert cli(["forget", "196-20-7761", "--column", "ssn", "--dry-run", "--dataset", "anon2",
                "--dataset", "anon2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Searched 1 dataset")  # named twice, searched once
    assert "anon2: 2 of 8 rows ('196-20-7761' 2 rows)\n    an anonymized copy of 'tickets'" in out


def test_a_value_matching_many_rows_is_refused_unless_forced(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    rows = [(f"Thanks to the support team for ticket {i}" if i < 20 else f"Broken screen {i}",
             "ab"[i % 2], f"Person {i}", "") for i in range(60)]
    assert cli(["import", str(write_csv(tmp_path / "t.csv", rows=rows)), "--name", "t",
                "--text-column", "text", "--label-column", "label"]) == 0
    capsys.readouterr()
    assert cli(["forget", "support team", "--yes"]) == 2
    captured = capsys.readouterr()
    assert "'support team' matches 20 rows: too many to be about one person" in captured.out
    assert "too many rows match to be about one person ('support team' in 't')" in captured.err
    assert len(_texts("t")) == 60
    assert cli(["forget", "support team", "--yes", "--force"]) == 0
    assert len(_texts("t")) == 40


def test_a_pseudonym_shared_with_someone_else_leaves_the_mapping_and_their_rows_stay(
        csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from privacy.pii.reversible import PseudonymMap

    _anonymize(tmp_path, REVERSIBLE, "tickets", "anon")
    with _workspace() as w:  # her pseudonyms ("Stephanie Atkins", with and without "Mrs.")
        pairs = w.read_json(pseudonym_map_key("anon"))  # also stand for another customer
        mapping = PseudonymMap.from_json(pairs)
        hers = [s for s, p in pairs["pairs"].items() if "Lauritsen" in p[0][1]]
        assert len(hers) == 2
        for surrogate in hers:
            mapping.record("PERSON", "Karl Other", surrogate)
        w.write_json(pseudonym_map_key("anon"), mapping.to_json())
        before = dataset_info(w, "anon").sha256
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--dataset", "anon", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "2 pseudonyms there also stand for someone else" in out
    with _workspace() as w:
        after = w.read_json(pseudonym_map_key("anon"))
        assert dataset_info(w, "anon").sha256 == before  # no row of hers could be told apart
    assert not set(hers) & set(after["pairs"]) and "Karl Other" not in repr(after)
    assert "Lauritsen" not in repr(after) and "Voet" in repr(after)
    assert "Took 2 pairs naming them out of the mapping of 'anon'" in out


def test_a_dataset_changed_since_the_search_is_not_touched(csv_file: Path) -> None:
    from engine.erasure import plan_erasure
    from engine.erasure_apply import carry_out

    with _workspace() as w:
        plan = plan_erasure(w, ["Kimberly Lauritsen"])
    assert cli(["import", str(write_csv(csv_file.with_name("v2.csv"), rows=[*ROWS, *MORE[:3]])),
                "--name", "tickets", "--replace", "--text-column", "text",
                "--label-column", "label"]) == 0
    changed = _digest("tickets")
    with _workspace() as w, pytest.raises(Exception, match="changed since it was searched"):
        carry_out(w, plan)
    assert _digest("tickets") == changed


def test_quotes_in_a_test_report_leave_it(csv_file: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    import numpy as np

    from engine.evaluation.report import compute_report, load_report, save_report

    run = _run_on("tickets")
    texts = [r[0] for r in ROWS]
    report = compute_report([0, 1, 0, 1], np.array([[0.1, 0.9], [0.8, 0.2], [0.2, 0.8],
                                                    [0.3, 0.7]]), ["a", "b"], texts)
    assert len(report.misclassified) == 3
    with _workspace() as w:
        save_report(w, run, report)
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"Run {run}'s test report quotes 2 rows about them" in out
    with _workspace() as w:
        quoted = [m.text or "" for m in load_report(w, run).misclassified]
    assert len(quoted) == 1 and not any("Lauritsen" in t for t in quoted)
    assert any(a == "person.forgotten" and d["report_quotes"] == 2 for a, d in _audit())


def test_values_can_come_from_standard_input_and_a_dataset_left_untrainable_is_said(
        csv_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Donald van der Voet\n\nErik Pirogova\n"))
    capsys.readouterr()
    assert cli(["forget", "--file", "-", "--yes", "--dataset", "tickets"]) == 0
    out = capsys.readouterr().out
    assert "for 'Donald van der Voet', 'Erik Pirogova'" in out
    assert len(_texts("tickets")) == 6
    monkeypatch.setattr("sys.stdin", io.StringIO("Ana Lima\nJo Park\nLee Wong\nSam Roy\n"))
    assert cli(["forget", "--file", "-", "--yes"]) == 0
    out = capsys.readouterr().out  # two rows of one class left
    assert "'tickets' cannot be trained on as it is now" in out and "cloister fix tickets" in out
    assert cli(["show", "tickets"]) == 0
    assert "Blocks training (left so by `cloister forget`)" in capsys.readouterr().out


def test_first_and_last_name_in_their_columns_must_both_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    path = tmp_path / "people.csv"
    path.write_text("first_name,last_name,text,label\nJane,Doe,late parcel,a\nJohn,Doe,refund,b\n"
                    "Jane,Smith,card lost,a\nAna,Lima,app crash,b\nLee,Wong,fees,a\n",
                    encoding="utf-8")
    assert cli(["import", str(path), "--name", "people", "--text-column", "text",
                "--label-column", "label", "--force"]) == 0
    assert cli(["forget", "Jane", "Doe", "--column", "first_name", "--column", "last_name",
                "--match-all", "--yes"]) == 0
    assert _texts("people") == ["refund", "card lost", "app crash", "fees"]  # John, Jane Smith


def test_a_reference_is_audited_and_names_of_files_and_datasets_are_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    path = write_csv(tmp_path / "Complaints_Klaus_Mueller_2024.csv", rows=[
        ("Klaus Müller rief wegen der Karte an", "a", "Klaus Müller", ""), *MORE])
    assert cli(["import", str(path), "--name", "klaus-mueller-escalation", "--text-column", "text",
                "--label-column", "label"]) == 0
    capsys.readouterr()
    for naming in ("request of Klaus Mueller", "DSR Müller"):  # even in part, even dry
        assert cli(["forget", "Klaus Müller", "--dry-run", "--reference", naming]) == 2
        assert "reference names the person" in capsys.readouterr().err
    assert cli(["forget", "Klaus Müller", "--yes", "--reference", "DSR-2024-17"]) == 0
    out = capsys.readouterr().out
    assert "the dataset's own name names them: rename it" in out
    assert "the name of the file it came from names them: it will be withheld" in out
    assert "The audit log names them in 1 entry" in out  # the import's file and dataset names
    with _workspace() as w:
        assert "withheld" in dataset_info(w, "klaus-mueller-escalation").source_name
    assert any(a == "person.forgotten" and d.get("reference") == "DSR-2024-17"
               for a, d in _audit())


def test_a_report_quote_of_a_removed_row_leaves_it_though_it_shows_none_of_the_values(
        csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    from engine.evaluation.report import compute_report, load_report, save_report

    run = _run_on("tickets")
    # Row 4's text names nobody; its customer column names Erik Pirogova.
    report = compute_report([0, 1], np.array([[0.2, 0.8], [0.9, 0.1]]), ["a", "b"],
                            ["The app crashes when I open settings", "My order never arrived"])
    with _workspace() as w:
        save_report(w, run, report)
    assert cli(["forget", "Erik Pirogova", "--yes"]) == 0
    assert f"Run {run}'s test report quotes 1 row about them" in capsys.readouterr().out
    with _workspace() as w:
        assert [m.text for m in load_report(w, run).misclassified] == ["My order never arrived"]


def _people(tmp_path: Path, rows: str, name: str = "people") -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text("first_name,last_name,text,label\n" + rows, encoding="utf-8")
    assert cli(["import", str(path), "--name", name, "--text-column", "text",
                "--label-column", "label", "--force"]) == 0


def test_match_all_holds_in_a_reversible_copy_and_its_guard_counts_rows_found_together(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    johns = "".join(f"John,Roe{i},note {i},{'ab'[i % 2]}\n" for i in range(30))
    _people(tmp_path, "Jane,Doe,late parcel,a\nJohn,Doe,refund,b\nJane,Smith,card lost,a\n"
            + johns)
    rule = '{ action = "pseudonym", entity = "PERSON", reversible = true }'
    _anonymize(tmp_path, f'scan_columns = ["text"]\n[columns]\nfirst_name = {rule}\n'
               f'last_name = {rule}\n', "people", "anon")
    assert cli(["forget", "Jane", "Doe", "--match-all"]) == 2  # a column is needed
    assert "--match-all needs --column" in capsys.readouterr().err
    # "John" alone fills 31 rows, but only one row is John and Doe: not refused as too broad.
    assert cli(["forget", "John", "Doe", "--column", "first_name", "--column", "last_name",
                "--match-all", "--yes"]) == 0
    assert len(_texts("people")) == 32 and "refund" not in _texts("people")
    # The copy, through its pseudonyms: test_forget_shared_pseudonyms.py (one anonymization in
    # eight gave Doe's pseudonym to a Roe too, and then the row rightly stays).


def test_a_one_word_name_is_not_looked_for_by_its_pseudonym(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A one-word name's pseudonym is one common name standing for many: searching a one-way
    copy for it would take other people's rows."""
    from engine.erasure_traces import computed_surrogates

    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    _people(tmp_path, "Aaron,X,Aaron wrote again,a\nGuy,Y,Harris called,b\nAna,Z,hello,a\n")
    _anonymize(tmp_path, '[entities]\ndefault = "pseudonym"\n', "people", "anon")
    with _workspace() as w:
        assert computed_surrogates(w, ["Faulkner", "Jane Doe"])["Faulkner"] == []
        assert computed_surrogates(w, ["Faulkner", "Jane Doe"])["Jane Doe"]
    capsys.readouterr()
    assert cli(["forget", "Faulkner", "--dataset", "anon", "--dry-run"]) == 0
    assert "anon: nothing found" in capsys.readouterr().out


def test_runs_of_a_dataset_whose_mapping_alone_named_them_are_not_deleted(
        csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from privacy.pii.reversible import PseudonymMap

    _anonymize(tmp_path, REVERSIBLE, "tickets", "anon")
    run = _run_on("anon")
    with _workspace() as w:  # a pair of hers whose rows went before (fixed away, say)
        mapping = PseudonymMap.from_json(w.read_json(pseudonym_map_key("anon")))
        mapping.record("PERSON", "Greta Gone", "Unused Surrogate")
        w.write_json(pseudonym_map_key("anon"), mapping.to_json())
    capsys.readouterr()
    assert cli(["forget", "Greta Gone", "--with-runs", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "anon: no row to remove" in out and "Deleted run" not in out
    with _workspace() as w:
        assert [r.run_id for r in list_runs(w)] == [run]
        assert "Greta" not in repr(w.read_json(pseudonym_map_key("anon")))


def test_the_export_keeps_its_own_columns_apart_and_disarms_formulas(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv
    import stat

    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    path = tmp_path / "t.csv"
    path.write_text("row,dataset,text,phone,label\n7,crm,=HYPERLINK(\"x\") Jane Doe,+49 30 12,a\n"
                    "8,crm,other,,b\n9,crm,more,,a\n", encoding="utf-8")
    assert cli(["import", str(path), "--name", "t", "--text-column", "text",
                "--label-column", "label", "--force"]) == 0
    target = tmp_path / "out.csv"
    assert cli(["forget", "Jane Doe", "--dry-run", "--export", str(target)]) == 0
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"[dataset]": "t", "[row]": "1", "row": "7", "dataset": "crm",
                     "text": "'=HYPERLINK(\"x\") Jane Doe", "phone": "+49 30 12", "label": "a"}]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_match_all_leaves_a_mapping_alone_where_no_row_names_every_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    _people(tmp_path, "Hans,Schmidt,a,a\nPetra,Müller,b,b\nAna,Lima,c,a\n")
    rule = '{ action = "pseudonym", entity = "PERSON", reversible = true }'
    _anonymize(tmp_path, f'scan_columns = ["text"]\n[columns]\nfirst_name = {rule}\n'
               f'last_name = {rule}\n', "people", "anon")
    with _workspace() as w:
        before = w.read_json(pseudonym_map_key("anon"))
    capsys.readouterr()
    assert cli(["forget", "Hans", "Müller", "--column", "first_name", "--column", "last_name",
                "--match-all", "--yes"]) == 0  # no Hans Müller here: Hans Schmidt's pair stays
    assert "Nothing to remove" in capsys.readouterr().out
    with _workspace() as w:
        assert w.read_json(pseudonym_map_key("anon")) == before


def test_a_column_search_skips_datasets_without_it_and_numbers_get_a_reminder(
        csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Kundennummer,text,label\n00042,late,a\n7,fine,b\n8,ok,a\n", encoding="utf-8")
    assert cli(["import", str(path), "--name", "crm", "--text-column", "text",
                "--label-column", "label", "--force"]) == 0
    capsys.readouterr()
    assert cli(["forget", "42", "--column", "Kundennummer", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Not searched (no such column): tickets." in out and "crm: 1 of 3 rows" in out
    assert cli(["forget", "+1 978 645 9740", "--dry-run"]) == 0
    assert "give that form too" in capsys.readouterr().out
    target = tmp_path / "exists.csv"
    target.write_text("keep me", encoding="utf-8")
    assert cli(["forget", "Kimberly Lauritsen", "--dry-run", "--export", str(target)]) == 2
    assert target.read_text(encoding="utf-8") == "keep me"
