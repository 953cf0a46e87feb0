"""A dataset with runs, renamed and then deleted from the Datasets page: the runs follow the
new name (they were listed under a name no dataset had, and a new import under the old name
looked like theirs), the Train page keeps the renamed dataset, and the delete question counts
the runs and can take them too (as `cloister rm --with-runs`)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QInputDialog

from engine.data.store import list_datasets
from engine.runs import list_runs
from tests.desktop.helpers import (answer_next_message_box, another_writer_holds_the_datasets,
                                   button_with_text)
from tests.desktop.test_accessibility import _trained
from tests.desktop.test_training_ui import _store


def _rename(page, new: str) -> None:  # noqa: ANN001
    tries = [0]

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            tries[0] += 1
            if tries[0] < 500:  # ~10 s; then the assertions after the rename fail
                QTimer.singleShot(20, answer)
            return
        dialog.setTextValue(new)
        dialog.accept()

    QTimer.singleShot(0, answer)
    page.rename_button.click()


def test_runs_follow_a_renamed_dataset_and_go_with_a_deleted_one(
        qtbot, window, spam_csv, tiny_model_dir: Path, tmp_path: Path) -> None:
    _trained(qtbot, window, spam_csv, tiny_model_dir)  # a run on "messages"
    ws = window.context.workspace
    run_id = list_runs(ws)[0].run_id
    train = window.train_page
    assert train.dataset_combo.currentData() == "messages"
    page = window.datasets_page
    window.show_page("datasets")
    assert page.select_stored("messages")
    _rename(page, "messages-v1")
    assert train.dataset_combo.currentData() == "messages-v1"  # not the first dataset listed
    other = tmp_path / "other.csv"
    other.write_text("text,label\n" + "".join(f"question {i},{'ab'[i % 2]}\n" for i in range(40)))
    _store(window, other, name="messages")  # other data under the freed name
    window.show_page("runs")
    runs = window.runs_page
    runs.refresh()
    assert runs.table.item(0, 1).text() == "messages-v1 (was messages)"
    window.results_page.show_run(run_id)
    assert "Dataset <b>messages-v1 (was messages)</b>" in window.results_page.summary.text()

    window.show_page("datasets")
    page.refresh_stored()
    assert page.select_stored("messages-v1")
    seen: list[str] = []

    def answer(box):  # noqa: ANN001, ANN202
        seen.append(box.informativeText())
        return button_with_text(box, "Delete it and its 1 run")

    answer_next_message_box(answer)
    page.delete_button.click()
    assert seen and seen[0].startswith("1 run was trained on it. Its model and test report")
    assert [d.name for d in list_datasets(ws)] == ["messages"]
    assert list_runs(ws) == []
    runs.refresh()
    assert runs.table.rowCount() == 0


def test_a_damaged_dataset_is_named_not_left_out_in_silence(qtbot, window, spam_csv) -> None:
    from tests.desktop.test_training_ui import _store

    _store(window, spam_csv, "readable")
    _store(window, spam_csv, "broken")
    meta = window.context.workspace.file_of("datasets/broken/meta.json")
    meta.write_bytes(meta.read_bytes()[:-1])
    said: list[str] = []
    window.context.status_message.connect(said.append)
    window.show_page("datasets")
    window.datasets_page.refresh_stored()
    stored = window.datasets_page.stored
    assert [stored.item(r, 0).text() for r in range(stored.rowCount())] == ["readable"]
    assert any(s.startswith("✖") and "'broken'" in s for s in said), said


def test_rename_while_another_writer_stores_a_dataset_says_so_instead_of_freezing(
        qtbot, window, spam_csv, monkeypatch) -> None:  # noqa: ANN001
    # Rename runs on the UI thread: behind a command's long import or erasure, the window hung.
    import desktop.jobs
    from PySide6.QtWidgets import QMessageBox

    from tests.desktop.test_training_ui import _store

    _store(window, spam_csv, "messages")
    ws = window.context.workspace
    page = window.datasets_page
    window.show_page("datasets")
    page.refresh_stored()
    assert page.select_stored("messages")
    monkeypatch.setattr(desktop.jobs, "UI_WAIT_S", 0.2)
    seen: list[str] = []
    with another_writer_holds_the_datasets(ws):
        answer_next_message_box(lambda box: QMessageBox.StandardButton.Ok, seen=seen)
        _rename(page, "messages-v1")
    assert seen and seen[0].startswith("another Cloister window or command is storing a dataset")
    assert [d.name for d in list_datasets(ws)] == ["messages"]  # nothing changed
    _rename(page, "messages-v1")  # once it is done, the rename goes through
    assert [d.name for d in list_datasets(ws)] == ["messages-v1"]


def test_train_on_it_for_a_dataset_renamed_by_a_command_says_so_not_another_dataset(
        qtbot, window, spam_csv) -> None:  # noqa: ANN001
    # `cloister rename patients patients_v2`, then Train on it: the Train page chose the first
    # dataset listed instead, and said "Check the settings, then press Start training".
    from engine.data.store import rename_dataset
    from tests.desktop.test_training_ui import _store

    _store(window, spam_csv, "alpha_public")
    _store(window, spam_csv, "patients")
    page = window.datasets_page
    window.show_page("datasets")
    page.refresh_stored()
    assert page.select_stored("patients")
    before = window.train_page.dataset_combo.currentData()
    rename_dataset(window.context.workspace, "patients", "patients_v2")  # the command
    seen: list[str] = []
    answer_next_message_box(lambda box: box.button(box.StandardButton.Ok), seen=seen)
    page.stored_panel.train_button.click()
    assert seen and seen[0].startswith("Dataset 'patients' is no longer stored")
    assert window.current_page_key() == "datasets"  # not sent to train something else
    assert window.train_page.dataset_combo.currentData() == before  # the choice left alone
    names = [page.stored.item(r, 0).text() for r in range(page.stored.rowCount())]
    assert "patients" not in names and "patients_v2" in names


def test_delete_says_a_run_is_training_on_the_dataset_right_now(qtbot, window, spam_csv) -> None:  # noqa: ANN001
    # `cloister train` in a terminal on the dataset: `cloister rm` said so, the app did not.
    from engine.data.store import dataset_info
    from engine.run_claims import claim_run
    from engine.runs import RunRecord, RunStatus, new_run_id, save_run
    from tests.desktop.test_training_ui import _store

    _store(window, spam_csv, "patients")
    ws = window.context.workspace
    record = RunRecord(run_id=new_run_id(), dataset="patients", config={}, status=RunStatus.RUNNING,
                       dataset_sha256=dataset_info(ws, "patients").sha256)
    save_run(ws, record)
    with claim_run(ws, record.run_id):  # the trainer holds its run
        said = _what_delete_says(window, "patients")
    assert f"Run {record.run_id} is training on it right now" in said
    assert [d.name for d in list_datasets(ws)] == ["patients"]  # cancelled: nothing deleted


def test_delete_names_runs_whose_record_cannot_be_read(qtbot, window, spam_csv) -> None:  # noqa: ANN001
    # "2 runs were trained on it" where there were 3: the third, unreadable, kept its model and
    # its report quoting the dataset's rows, unsaid.
    from engine.runs import RunRecord, RunStatus, new_run_id, save_run

    _store(window, spam_csv, "patients")
    ws = window.context.workspace
    record = RunRecord(run_id=new_run_id(), dataset="patients", config={}, status=RunStatus.FINISHED)
    save_run(ws, record)
    path = ws.file_of(f"runs/{record.run_id}/run.json")
    path.write_bytes(path.read_bytes()[:-20])  # cut short: it no longer authenticates
    assert _what_delete_says(window, "patients") == (
        "1 run whose record cannot be read may have been trained on it too: the Runs page names "
        "them and deletes them.")


def _what_delete_says(window, name: str) -> str:  # noqa: ANN001
    """The informative text of Delete…'s question for dataset ``name``, answered Cancel."""
    page = window.datasets_page
    window.show_page("datasets")
    page.refresh_stored()
    assert page.select_stored(name)
    seen: list[str] = []

    def answer(box):  # noqa: ANN001, ANN202
        seen.append(box.informativeText())
        return box.button(box.StandardButton.Cancel)

    answer_next_message_box(answer)
    page.delete_button.click()
    assert seen, "no question was asked"
    return seen[0]


def test_a_backup_put_back_while_unlocked_says_how_to_accept_it(qtbot, window, spam_csv, tmp_path) -> None:  # noqa: ANN001
    # The list went empty with "the workspace index is older…" and no word of the way on.
    import shutil

    from tests.desktop.test_training_ui import _store

    ws = window.context.workspace
    root = Path(ws.root)
    _store(window, spam_csv, "monday")
    backup = tmp_path / "backup"
    shutil.copytree(root, backup, ignore=shutil.ignore_patterns(".lock", ".locks", ".training"))
    _store(window, spam_csv, "tuesday")  # today's work, which the backup lacks
    for name in ("index.cloister", "index.backup.cloister"):
        shutil.copy2(backup / name, root / name)  # the older index put back
    said: list[str] = []
    window.context.status_message.connect(said.append)
    window.show_page("datasets")
    window.datasets_page.refresh_stored()
    assert any("Could not list the datasets: the workspace index is older" in s
               and "Lock the workspace (Ctrl+L) and unlock it" in s for s in said), said
