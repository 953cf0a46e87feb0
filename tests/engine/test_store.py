"""Datasets in the encrypted workspace: save, load, list, rename, delete, damage, replace."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from engine.data.columns import ColumnMapping
from engine.errors import InputError
from engine.data.importing.table import ImportedTable
from engine.data.store import (
    DatasetDamaged,
    DatasetExists,
    DatasetNotFound,
    dataset_info,
    delete_dataset,
    list_datasets,
    load_dataset,
    rename_dataset,
    save_dataset,
)
from privacy.vault.container import ScryptParams
from privacy.vault.workspace import Workspace

FAST = ScryptParams(log2_n=10)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws", "pw", kdf=FAST)


def imported(rows: list[tuple[str, str | None]], *, source: str = "tickets.csv") -> ImportedTable:
    table = pa.table({"id": [str(i) for i in range(len(rows))],
                      "text": [r[0] for r in rows], "label": [r[1] for r in rows]})
    return ImportedTable(table=table, source=Path("/somewhere") / source, format="csv")


ROWS = [("refund please", "billing"), ("app crashes", "bug"), ("charged twice", " billing"),
        ("login fails", "bug"), ("invoice wrong", "billing"), ("no label here", None)]
MAPPING = ColumnMapping(text_columns=("text",), label_column="label")


def test_save_then_load_round_trips(ws: Workspace) -> None:
    info = save_dataset(ws, "support", imported(ROWS), MAPPING, problems=["warning: x"])
    assert info.rows == 6
    assert info.labels == {"billing": 3, "bug": 2}  # trimmed, blanks not counted, most first
    assert info.source_name == "tickets.csv" and info.mapping == MAPPING
    assert info.problems == ("warning: x",)
    again = Workspace.unlock(ws.root, "pw")
    ds = load_dataset(again, "support")
    assert ds.texts == [r[0] for r in ROWS]
    assert ds.labels == ["billing", "bug", "billing", "bug", "billing", ""]
    assert ds.table.column_names == ["id", "text", "label"]
    assert ds.info == info


def test_list_datasets_and_info(ws: Workspace) -> None:
    save_dataset(ws, "b-set", imported(ROWS[:2]), MAPPING)
    save_dataset(ws, "A set", imported(ROWS), MAPPING)
    infos = list_datasets(ws)
    assert [i.name for i in infos] == ["A set", "b-set"]
    assert [i.rows for i in infos] == [6, 2]
    assert all(i.size_bytes > 0 for i in infos)
    assert dataset_info(ws, "b-set").labels == {"billing": 1, "bug": 1}
    assert len({*infos, *list_datasets(ws)}) == 2  # hashable, equal across reads


def test_existing_name_needs_overwrite_and_old_version_is_replaced(ws: Workspace) -> None:
    save_dataset(ws, "s", imported(ROWS), MAPPING)
    with pytest.raises(DatasetExists, match="'s' already exists"):
        save_dataset(ws, "s", imported(ROWS[:1]), MAPPING)
    assert load_dataset(ws, "s").info.rows == 6
    save_dataset(ws, "s", imported(ROWS[:1]), MAPPING, overwrite=True)
    assert load_dataset(ws, "s").texts == ["refund please"]
    assert len(ws.list("datasets/s/")) == 2  # the old table entry is gone
    actions = [e.action for e in ws.verify_audit().entries]
    assert actions == ["vault.created", "dataset.imported", "dataset.replaced"]


def test_a_replacement_whose_audit_entry_fails_still_unlinks_the_old_rows(ws: Workspace,
                                                                         monkeypatch) -> None:
    """The entry is written before the clean-up (so a kill has less room to leave the change
    unlogged); a failed entry must not leave the replaced rows indexed, beyond any search."""
    from privacy.errors import ChangeNotLogged

    save_dataset(ws, "s", imported(ROWS), MAPPING)
    real = ws.audit

    def failing(action: str, **details) -> None:  # noqa: ANN003
        if action == "dataset.replaced":
            raise ChangeNotLogged("the audit entry could not be written")
        real(action, **details)

    monkeypatch.setattr(ws, "audit", failing)
    with pytest.raises(ChangeNotLogged):
        save_dataset(ws, "s", imported(ROWS[:1]), MAPPING, overwrite=True)
    assert load_dataset(ws, "s").texts == ["refund please"]
    assert len(ws.list("datasets/s/")) == 2  # the old table is gone all the same


def test_unlabelled_dataset(ws: Workspace) -> None:
    mapping = ColumnMapping(text_columns=("text",), label_column=None)
    info = save_dataset(ws, "unlabelled", imported(ROWS), mapping)
    assert info.labels == {}
    ds = load_dataset(ws, "unlabelled")
    assert ds.labels == [] and len(ds.texts) == 6


def test_rename_and_delete(ws: Workspace) -> None:
    save_dataset(ws, "old", imported(ROWS), MAPPING)
    save_dataset(ws, "other", imported(ROWS), MAPPING)
    assert rename_dataset(ws, "old", "new").name == "new"
    assert [i.name for i in list_datasets(ws)] == ["new", "other"]
    assert load_dataset(ws, "new").texts[0] == "refund please"
    with pytest.raises(DatasetExists):
        rename_dataset(ws, "new", "other")
    with pytest.raises(DatasetNotFound, match="'old'"):
        load_dataset(ws, "old")
    assert delete_dataset(ws, "new") == 2
    assert [i.name for i in list_datasets(ws)] == ["other"]
    with pytest.raises(DatasetNotFound):
        delete_dataset(ws, "new")


@pytest.mark.parametrize("name, why", [("", "is empty"), ("   ", "is empty"), ("a/b", "contains '/'"),
                                       ("..", "is only dots"), (".", "is only dots"),
                                       ("tab\there", "control characters"), ("x" * 101, "101 characters")])
def test_bad_names_are_refused_saying_why(ws: Workspace, name: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        save_dataset(ws, name, imported(ROWS), MAPPING)
    assert ws.list("datasets/") == []


def test_unknown_mapping_column_refused(ws: Workspace) -> None:
    with pytest.raises(InputError, match="'body'.*tickets.csv"):
        save_dataset(ws, "s", imported(ROWS), ColumnMapping(text_columns=("body",), label_column=None))


def test_damaged_table_is_reported_with_dataset_and_file(ws: Workspace) -> None:
    save_dataset(ws, "hurt", imported(ROWS * 50), MAPPING)
    table_key = next(k for k in ws.list("datasets/hurt/") if "table-" in k)
    path = ws.file_of(table_key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetDamaged, match=r"'hurt'.*datasets/hurt/table-.*objects/"):
        load_dataset(ws, "hurt")
    assert [i.name for i in list_datasets(ws)] == ["hurt"]  # the description still reads


def test_failed_replace_keeps_the_previous_dataset(ws: Workspace, monkeypatch) -> None:
    save_dataset(ws, "s", imported(ROWS), MAPPING)
    before = ws.list("datasets/s/")

    def disk_full(key, obj):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ws, "write_json", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_dataset(ws, "s", imported(ROWS[:2]), MAPPING, overwrite=True)
    monkeypatch.undo()
    assert ws.list("datasets/s/") == before  # the new table was removed again
    assert load_dataset(ws, "s").texts == [r[0] for r in ROWS]


def test_the_anonymization_preview_reads_only_the_first_rows(ws: Workspace) -> None:
    from engine.data.anonymize import PREVIEW_SCAN_ROWS, preview

    # Personal data only far down the table, then once near the top.
    rows = [(f"ticket {i} about the app", "bug" if i % 2 else "billing")
            for i in range(PREVIEW_SCAN_ROWS + 200)]
    rows[PREVIEW_SCAN_ROWS + 100] = ("mail kim.l@example.com please", "bug")
    save_dataset(ws, "late", imported(rows), MAPPING)
    assert preview(ws, "late") == []  # not read: a preview is an example, not a scan
    rows[3] = ("mail kim.l@example.com please", "bug")
    save_dataset(ws, "early", imported(rows), MAPPING)
    [(column, before, found, after, _)] = preview(ws, "early")
    assert column == "text" and before == "mail kim.l@example.com please"
    assert [before[s:e] for s, e in found] == ["kim.l@example.com"] and "<EMAIL>" in after


def test_an_interrupt_after_a_replacement_is_committed_keeps_the_new_table(ws: Workspace, monkeypatch) -> None:
    """Ctrl-C landing just after the new description is written: it names the new table, so the
    new table must stay (deleting it left a dataset that could not be read)."""
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    new_rows = ROWS + [("another one", "bug")] * 3
    real_write_json = ws.write_json

    def write_then_interrupt(key, obj):
        real_write_json(key, obj)
        raise KeyboardInterrupt

    monkeypatch.setattr(ws, "write_json", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(ws, "t", imported(new_rows), MAPPING, overwrite=True)
    monkeypatch.undo()
    assert load_dataset(ws, "t").table.num_rows == len(new_rows)  # readable, the new contents
    ws.collect_garbage(grace_s=0)
    assert load_dataset(ws, "t").table.num_rows == len(new_rows)


def test_an_interrupt_before_a_replacement_is_committed_keeps_the_old_dataset(ws: Workspace, monkeypatch) -> None:
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    keys_before = ws.list()

    def interrupt(key, obj):
        raise KeyboardInterrupt

    monkeypatch.setattr(ws, "write_json", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(ws, "t", imported(ROWS + [("another one", "bug")]), MAPPING, overwrite=True)
    monkeypatch.undo()
    assert ws.list() == keys_before and load_dataset(ws, "t").table.num_rows == len(ROWS)


def test_a_files_path_given_as_a_dataset_says_to_import_it_first(ws: Workspace, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # "cloister train data.csv": the first thing a new user types.
    (tmp_path / "data.csv").write_text("text,label\nhi,a\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetNotFound, match=r"data.csv is a file: .* import it first \(`cloister import data.csv"):
        load_dataset(ws, "data.csv")
    with pytest.raises(InputError, match=r"contains '/'.* is a file: .* import it first"):
        load_dataset(ws, str(tmp_path / "data.csv"))
    with pytest.raises(DatasetNotFound) as plain:
        load_dataset(ws, "nothing.csv")  # no such file: the usual message alone
    assert "is a file" not in str(plain.value)


def test_the_first_rows_alone_are_read_as_texts_when_asked(ws: Workspace) -> None:
    # `cloister show` made Python strings of every row (1.5 GB for a million) to print five.
    save_dataset(ws, "t", imported(ROWS), MAPPING)
    head = load_dataset(ws, "t", head=2)
    assert head.texts == [r[0] for r in ROWS[:2]] and head.labels == ["billing", "bug"]
    assert head.table.num_rows == len(ROWS) and head.info == dataset_info(ws, "t")
    assert load_dataset(ws, "t", head=0).texts == []
