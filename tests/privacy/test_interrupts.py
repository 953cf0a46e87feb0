"""Ctrl-C or SIGTERM landing between a change's commit and its audit entry waits for the entry:
the change is never left made but unlogged. Real signals, sent to this process."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from engine.data.columns import ColumnMapping
from engine.data.importing.table import ImportedTable
from engine.data.store import dataset_info, list_datasets, rename_dataset, save_dataset
from privacy.interrupts import interrupts_held
from privacy.vault.container import ScryptParams
from privacy.vault.workspace import Workspace

MAPPING = ColumnMapping(text_columns=("text",), label_column="label")


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws", "pw", kdf=ScryptParams(log2_n=10))


def table(n: int) -> ImportedTable:
    return ImportedTable(table=pa.table({"text": [f"ticket {i}" for i in range(n)],
                                         "label": ["ab"[i % 2] for i in range(n)]}),
                         source=Path("/elsewhere/tickets.csv"), format="csv")


def actions(ws: Workspace) -> list[str]:
    return [entry.action for entry in ws.verify_audit().entries]


def test_a_signal_inside_the_block_is_delivered_when_it_ends() -> None:
    done = []
    term_before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            ctrl_c()
            ctrl_c()  # twice: still one stop
            done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # both put back
    assert signal.getsignal(signal.SIGTERM) is term_before
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, [])  # nothing left blocked


def test_nested_blocks_deliver_once_at_the_outermost_end() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            with interrupts_held():
                ctrl_c()
            steps.append("after the inner block")  # the inner end did not raise
    assert steps == ["after the inner block"]


def test_sigterm_goes_to_the_handler_that_was_there_before() -> None:
    class Stopped(Exception):
        pass

    def stop(_signum, _frame):
        raise Stopped

    before = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stopped):
            with interrupts_held():
                os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        signal.signal(signal.SIGTERM, before)


def test_outside_the_main_thread_it_changes_no_handler() -> None:
    seen = []

    def body() -> None:
        with interrupts_held():
            seen.append(signal.getsignal(signal.SIGINT))

    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    assert seen == [signal.default_int_handler]


def test_ctrl_c_just_after_a_rename_commits_still_logs_it(ws: Workspace, monkeypatch) -> None:
    save_dataset(ws, "old", table(6), MAPPING)
    real = ws.rename_prefix

    def rename_then_ctrl_c(old: str, new: str) -> int:
        moved = real(old, new)
        ctrl_c()  # lands after the index switched, before the audit entry
        return moved

    monkeypatch.setattr(ws, "rename_prefix", rename_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        rename_dataset(ws, "old", "new")
    assert [d.name for d in list_datasets(ws)] == ["new"]
    assert actions(ws)[-1] == "dataset.renamed"


def test_ctrl_c_just_after_an_import_commits_still_logs_it(ws: Workspace, monkeypatch) -> None:
    real = ws.write_json

    def write_then_ctrl_c(key: str, obj) -> None:
        real(key, obj)
        ctrl_c()

    monkeypatch.setattr(ws, "write_json", write_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(ws, "t", table(8), MAPPING)
    monkeypatch.undo()
    assert dataset_info(ws, "t").rows == 8 and actions(ws)[-1] == "dataset.imported"


def test_ctrl_c_after_an_anonymized_import_commits_keeps_its_mapping_and_entry(
        ws: Workspace, monkeypatch) -> None:
    from engine.data.anonymize import save_anonymized_import
    from engine.data.reidentify import reidentify
    from privacy.pii.policy import parse_policy

    rows = ImportedTable(table=pa.table({
        "text": [f"write to kim{i}@example.com today" for i in range(6)],
        "label": ["ab"[i % 2] for i in range(6)]}), source=Path("/elsewhere/mail.csv"), format="csv")
    real = ws.write_json

    def write_then_ctrl_c(key: str, obj) -> None:
        real(key, obj)
        if key.endswith("/meta.json"):  # the dataset's description: its commit
            ctrl_c()

    monkeypatch.setattr(ws, "write_json", write_then_ctrl_c)
    policy = parse_policy('[entities]\nEMAIL = { action = "pseudonym", reversible = true }\n')
    with pytest.raises(KeyboardInterrupt):
        save_anonymized_import(ws, "mail", rows, MAPPING, policy)
    monkeypatch.undo()
    assert actions(ws)[-1] == "dataset.anonymized"
    # The reversible mapping was stored with it: a surrogate in the data reverses.
    from engine.data.store import load_dataset

    surrogate_text = load_dataset(ws, "mail").table.column("text")[0].as_py()
    assert "kim0@example.com" not in surrogate_text
    assert "kim0@example.com" in reidentify(ws, "mail", surrogate_text).text


def test_sigterm_just_after_a_cli_rename_commits_stops_it_logged(ws: Workspace, monkeypatch,
                                                                 capsys) -> None:
    from engine.cli import main

    save_dataset(ws, "old", table(6), MAPPING)
    real = Workspace.rename_prefix

    def rename_then_sigterm(self, old: str, new: str) -> int:
        moved = real(self, old, new)
        os.kill(os.getpid(), signal.SIGTERM)  # `kill`, `timeout`: lands after the commit
        return moved

    monkeypatch.setattr(Workspace, "rename_prefix", rename_then_sigterm)
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "pw")
    assert main(["rename", "old", "new", "--workspace", str(ws.root)]) == 143
    err = capsys.readouterr().err
    assert "stopped (terminated)" in err and "complete and in the audit log" in err
    assert [d.name for d in list_datasets(ws)] == ["new"]
    assert actions(ws)[-1] == "dataset.renamed"
