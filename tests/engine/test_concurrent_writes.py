"""Two writers of one workspace's datasets at once (a window and a command, two commands), and
tables a crash left behind. Found by running them side by side: both imports of one name said
"Imported" and the dataset was gone; a fix built before an erasure put the erased row back."""
from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from engine.cli import main as cli
from engine.data.dataset_writes import DatasetChanged, sweep_orphan_tables, writing_datasets
from engine.data.fix_stored import store_fixed
from engine.data.store import (
    DatasetExists,
    dataset_info,
    delete_dataset,
    list_datasets,
    load_dataset,
    save_dataset,
)
from privacy.vault.workspace import Workspace
from tests.engine.test_forget_cli import PASSPHRASE, _audit, _texts, _workspace, csv_file  # noqa: F401
from tests.engine.test_store import FAST, MAPPING, ROWS, imported


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws", "pw", kdf=FAST)


def test_a_fix_made_from_rows_stored_again_since_is_refused_and_stores_nothing(ws: Workspace) -> None:
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    read_by_the_fix = dataset_info(ws, "t")
    # Meanwhile another window stores "t" again (an erasure took a row out).
    save_dataset(ws, "t", imported(ROWS[1:]), MAPPING, overwrite=True)
    after_erasure = dataset_info(ws, "t")
    with pytest.raises(DatasetChanged, match=r"dataset 't' was stored again .* nothing was stored"):
        store_fixed(ws, read_by_the_fix, imported(ROWS), [], [])
    assert dataset_info(ws, "t") == after_erasure
    assert load_dataset(ws, "t").texts == [r[0] for r in ROWS[1:]]  # the erased row stays out


def test_a_fix_of_a_dataset_deleted_meanwhile_is_refused(ws: Workspace) -> None:
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    stale = dataset_info(ws, "t")
    delete_dataset(ws, "t")
    with pytest.raises(DatasetChanged, match="was deleted or renamed"):
        store_fixed(ws, stale, imported(ROWS), [], [])
    assert list_datasets(ws) == []


def test_two_imports_of_one_new_name_at_once_store_one_and_refuse_the_other(ws: Workspace) -> None:
    other = Workspace.unlock(ws.root, "pw")  # a second window or command on the same folder
    holding, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with writing_datasets(ws):  # the first import is between its steps
            holding.set()
            release.wait(10)
            outcome["first"] = save_dataset(ws, "race", imported(ROWS), MAPPING)

    def second() -> None:
        try:
            outcome["second"] = save_dataset(other, "race", imported(ROWS[:2]), MAPPING)
        except DatasetExists as exc:
            outcome["second"] = exc

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive()  # it waits for the first instead of writing between its steps
    release.set()
    a.join(10)
    b.join(10)
    assert isinstance(outcome["second"], DatasetExists)
    stored = load_dataset(Workspace.unlock(ws.root, "pw"), "race")
    assert stored.table.num_rows == len(ROWS)  # the first's rows, whole and readable


def _orphan(ws: Workspace, name: str, digest: str, rows: list[tuple[str, str | None]]) -> str:
    """A table as a save writes it, left unnamed as a kill -9 between its steps leaves it."""
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(imported(rows).table, sink)
    key = f"datasets/{name}/table-{digest}.parquet"
    ws.write_bytes(key, sink.getvalue().to_pybytes())
    return key


def test_tables_a_crash_left_unnamed_are_removed_by_the_next_write(ws: Workspace) -> None:
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    replaced = _orphan(ws, "t", "0" * 16, [("the erased row", "billing")])  # a replace's old table
    unfinished = _orphan(ws, "ghost", "1" * 16, ROWS)  # an import killed before its description
    assert {replaced, unfinished} <= set(ws.list())
    save_dataset(ws, "u", imported(ROWS[:3]), MAPPING)
    keys = set(ws.list())
    assert replaced not in keys and unfinished not in keys
    assert [i.name for i in list_datasets(ws)] == ["t", "u"]
    assert load_dataset(ws, "t").texts == [r[0] for r in ROWS]  # the named table is kept
    assert sweep_orphan_tables(ws) == 0


def test_the_sweep_reads_no_description_of_a_dataset_with_its_one_table(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every save read every dataset's description to sweep: an import took 4x as long in a
    # workspace of 150 datasets.
    from engine.data import store

    for name in ("a", "b", "c"):
        save_dataset(ws, name, imported(ROWS), MAPPING)
    read: list[str] = []
    real = store.table_named
    monkeypatch.setattr(store, "table_named", lambda w, name: read.append(name) or real(w, name))
    assert sweep_orphan_tables(ws) == 0 and read == []
    _orphan(ws, "b", "0" * 16, ROWS)  # a killed save's second table: that dataset is read
    assert sweep_orphan_tables(ws) == 1 and read == ["b"]


def test_a_save_killed_before_removing_the_old_table_leaves_it_only_until_the_next_write(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    old_table = [k for k in ws.list("datasets/t/") if "/table-" in k]
    real_delete = ws.delete

    def killed(key: str) -> None:  # the process ends at its first deletion
        raise SystemExit(137)

    monkeypatch.setattr(ws, "delete", killed)
    with pytest.raises(SystemExit):
        save_dataset(ws, "t", imported(ROWS[1:]), MAPPING, overwrite=True)
    monkeypatch.setattr(ws, "delete", real_delete)
    assert set(old_table) <= set(ws.list())  # the old rows, named by nothing
    assert sweep_orphan_tables(ws) == 1
    assert not set(old_table) & set(ws.list())
    assert load_dataset(ws, "t").texts == [r[0] for r in ROWS[1:]]


def test_forget_removes_a_table_an_earlier_crash_left_holding_the_persons_row(csv_file: Path) -> None:
    with _workspace() as w:
        hidden = _orphan(w, "tickets", "2" * 16, [("Kimberly Lauritsen wants her refund", "a")])
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 0
    with _workspace() as w:
        assert hidden not in w.list()
    assert not any("Lauritsen" in t for t in _texts("tickets"))


def test_an_erasure_stopped_between_two_datasets_says_it_is_incomplete_and_a_rerun_finishes(
        csv_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["import", str(csv_file), "--name", "copy", "--text-column", "text",
                "--label-column", "label"]) == 0
    import engine.data.store as store

    real_save = store.save_dataset
    saves: list[str] = []

    def stopped_after_the_first(ws, name, *args, **kwargs):  # noqa: ANN001, ANN202
        if saves:
            raise KeyboardInterrupt  # Ctrl-C as the second dataset's save begins
        saves.append(name)
        return real_save(ws, name, *args, **kwargs)

    monkeypatch.setattr(store, "save_dataset", stopped_after_the_first)
    capsys.readouterr()
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 130
    err = capsys.readouterr().err
    assert f"erasure, which is incomplete: rows were removed from {saves[0]!r} only" in err
    assert "nothing is left half-done" not in err
    assert "person.forgotten" not in [action for action, _ in _audit()]
    monkeypatch.setattr(store, "save_dataset", real_save)
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 0
    for name in ("tickets", "copy"):
        assert not any("Lauritsen" in t for t in _texts(name))
    assert "person.forgotten" in [action for action, _ in _audit()]


def test_a_reversible_copy_whose_mapping_a_kill_never_wrote_is_said_as_lost(
        csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # kill -9 between the copy's description and its mapping: `reidentify` then said the
    # policy "was not reversible", which it was.
    import engine.data.anonymize as anonymize
    from tests.engine.test_reidentify_cli import REVERSIBLE

    policy = tmp_path / "reversible.toml"
    policy.write_text(REVERSIBLE, encoding="utf-8")

    def killed(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit(137)

    real = anonymize.save_pseudonym_map
    monkeypatch.setattr(anonymize, "save_pseudonym_map", killed)
    with pytest.raises(SystemExit):
        cli(["anonymize", "tickets", "--policy", str(policy), "--name", "anon"])
    monkeypatch.setattr(anonymize, "save_pseudonym_map", real)
    capsys.readouterr()
    assert cli(["reidentify", "anon", "hello world"]) != 0
    err = capsys.readouterr().err
    assert "the reversible pseudonym mapping of dataset 'anon' was never written" in err
    assert "not reversible" not in err and "reversible = true" not in err
    # The rows are intact: an erasure still searches them (as a one-way copy is searched).
    before = len(_texts("anon"))
    assert cli(["forget", "Kimberly Lauritsen", "--yes"]) == 0
    assert not any("Lauritsen" in t for t in _texts("tickets"))
    assert len(_texts("anon")) < before  # her rows left the copy too
    capsys.readouterr()
    assert cli(["reidentify", "anon", "hello world"]) != 0  # and it is still said as lost
    assert "was never written" in capsys.readouterr().err


def test_a_replace_killed_before_its_mapping_keeps_the_mapping_before(
        csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # `import --anonymize --replace` deleted the old mapping with the old table, many index
    # writes before the new one was written: a kill -9 between (2 of 8 tries in a walk-through)
    # left neither, and the originals were only ever in a mapping. The old one now stays
    # until the new one replaces it in one write: a pseudonym still reverses.
    import engine.data.anonymize as anonymize
    from tests.engine.test_reidentify_cli import REVERSIBLE

    policy = tmp_path / "reversible.toml"
    policy.write_text(REVERSIBLE, encoding="utf-8")
    columns = ["--text-column", "text", "--label-column", "label"]
    assert cli(["import", str(csv_file), "--name", "anon", *columns, "--anonymize", str(policy)]) == 0
    stored = _texts("anon")[0]  # "Mrs. Kimberly Lauritsen paid ...", pseudonymized
    capsys.readouterr()
    assert cli(["reidentify", "anon", stored]) == 0
    reversed_before = capsys.readouterr().out
    assert "Lauritsen" in reversed_before

    def killed(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit(137)

    real = anonymize.save_pseudonym_map
    monkeypatch.setattr(anonymize, "save_pseudonym_map", killed)
    with pytest.raises(SystemExit):
        cli(["import", str(csv_file), "--name", "anon", *columns, "--anonymize", str(policy),
             "--replace"])
    monkeypatch.setattr(anonymize, "save_pseudonym_map", real)
    capsys.readouterr()
    assert cli(["reidentify", "anon", stored]) == 0  # the same rows: the same pseudonyms
    assert capsys.readouterr().out == reversed_before


def test_two_erasures_searched_before_either_ran_do_not_undo_each_other(
        csv_file: Path, tmp_path: Path) -> None:
    # Each wrote back the mapping (and test reports) as it read them when it searched: the
    # second put back the pairs the first had taken out. The second is now refused.
    from engine.data.store import pseudonym_map_key
    from engine.erasure import plan_erasure
    from engine.erasure_apply import carry_out
    from engine.errors import InputError
    from privacy.pii.reversible import PseudonymMap
    from tests.engine.test_forget_cli import _anonymize
    from tests.engine.test_reidentify_cli import REVERSIBLE

    _anonymize(tmp_path, REVERSIBLE, "tickets", "anon")
    with _workspace() as w:
        mapping = PseudonymMap.from_json(w.read_json(pseudonym_map_key("anon")))
        mapping.record("PERSON", "Greta Gone", "Unused Surrogate")
        mapping.record("PERSON", "Hanna Gone", "Other Surrogate")
        w.write_json(pseudonym_map_key("anon"), mapping.to_json())
    first, second = _workspace(), _workspace()  # two windows, or two commands at their prompts
    plan_first = plan_erasure(first, ["Greta Gone"], datasets=["anon"])
    plan_second = plan_erasure(second, ["Hanna Gone"], datasets=["anon"])
    carry_out(first, plan_first)
    with pytest.raises(InputError, match="a pseudonym mapping changed since the search"):
        carry_out(second, plan_second)
    with _workspace() as w:
        left = repr(w.read_json(pseudonym_map_key("anon")))
    assert "Greta" not in left and "Hanna" in left  # the first's erasure stands; nothing else ran
    carry_out(second, plan_erasure(second, ["Hanna Gone"], datasets=["anon"]))  # searched again
    with _workspace() as w:
        assert "Hanna" not in repr(w.read_json(pseudonym_map_key("anon")))


def test_a_ctrl_c_while_waiting_for_another_writer_is_not_said_as_a_partial_erasure(
        csv_file: Path) -> None:
    # The other writer's change was counted as this erasure's: "rows were removed from
    # 'tickets' only", while it had removed nothing.
    import _thread
    import argparse
    import time
    from dataclasses import replace

    from engine.cli.forget_cmd import _carry_out_said
    from engine.erasure import plan_erasure

    ws = _workspace()
    plan = plan_erasure(ws, ["Kimberly Lauritsen"])
    other = _workspace()
    holding = threading.Event()

    def another_fix() -> None:  # another window storing 'tickets' again, then Ctrl-C here
        with writing_datasets(other):
            holding.set()
            stored = load_dataset(other, "tickets")
            rows = stored.as_imported()
            save_dataset(other, "tickets", replace(rows, table=rows.table.slice(0, 7)),
                         stored.info.mapping, overwrite=True)
            time.sleep(0.3)
            _thread.interrupt_main()
            time.sleep(1)

    fixer = threading.Thread(target=another_fix)
    fixer.start()
    assert holding.wait(10)
    args = argparse.Namespace(with_runs=False, force=False, reference=None)
    try:
        with pytest.raises(KeyboardInterrupt) as stopped:
            _carry_out_said(ws, plan, args)
    finally:
        fixer.join(10)
    assert type(stopped.value) is KeyboardInterrupt  # the plain stop: nothing of it was done
    with _workspace() as w:  # the person's row is still there: this erasure changed nothing
        assert any("Lauritsen" in str(t) for t in load_dataset(w, "tickets").table.column("text").to_pylist())
