"""Forget a person from the Datasets page: the search counts the rows and runs first, the removal
waits for a second click, the vault list and the Runs page follow, and a dataset that is all
about the person is not emptied."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.data.store import dataset_info, load_dataset
from engine.runs import RunRecord, RunStatus, list_runs, new_run_id, save_run
from tests.desktop.helpers import answer_next_message_box, click_when_laid_out
from tests.desktop.test_training_ui import _store


def _tickets(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.csv"
    rows = [f"Jane Doe called about order {i},a" if i % 5 == 0
            else f"Order {i} is late,{'ab'[i % 2]}" for i in range(20)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _dialog(qtbot, window):  # noqa: ANN001, ANN202
    window.show_page("datasets")
    panel = window.datasets_page.stored_panel
    click_when_laid_out(qtbot, panel.forget_button)
    return panel.forget_dialog


def _find(qtbot, dialog, text: str) -> None:  # noqa: ANN001
    dialog.values.setPlainText(text)
    qtbot.mouseClick(dialog.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.find_button.isEnabled() and dialog.plan is not None,
                    timeout=30_000)


def test_a_person_is_found_then_removed_with_the_runs_trained_on_them(qtbot, window, tmp_path,
                                                                      monkeypatch):
    _store(window, _tickets(tmp_path), name="tickets")
    ws = window.context.workspace
    run = RunRecord(run_id=new_run_id(), dataset="tickets", config={}, status=RunStatus.FINISHED,
                    dataset_sha256=dataset_info(ws, "tickets").sha256)
    save_run(ws, run)
    dialog = _dialog(qtbot, window)
    assert not dialog.remove_button.isEnabled()  # nothing searched yet
    _find(qtbot, dialog, "jane doe\n")
    assert "tickets: 4 of 20 rows; 1 run trained on them" in dialog.found.text()
    shown = [line.strip() for line in dialog.found.text().splitlines() if "row " in line]
    assert shown[:2] == ["row 1: Jane Doe called about order 0",
                         "row 6: Jane Doe called about order 5"]
    assert dialog.remove_button.text() == "Remove 4 rows" and dialog.remove_button.isEnabled()
    # The disabled Find had sent the focus to Close (Enter closed the dialog); the result is
    # said on the button the focus goes to.
    assert dialog.focusWidget() is dialog.remove_button
    assert dialog.remove_button.accessibleDescription() == dialog.found.text()
    assert dataset_info(ws, "tickets").rows == 20  # counted, not yet removed
    # A request for access: every column of the rows found, saved where the user says.
    target = tmp_path / "found.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert dialog.save_button.isEnabled()
    dialog.reference.setText("ACC-88")  # an access request's case, logged with the rows saved
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [e.details for e in ws.verify_audit().entries if e.action == "person.exported"] == [
        {"rows": 4, "reference": "ACC-88"}]
    saved = target.read_text(encoding="utf-8-sig").splitlines()
    assert saved[0] == "[dataset],[row],text,label"
    assert saved[1] == "tickets,1,Jane Doe called about order 0,a"
    assert len(saved) == 5
    dialog.values.setPlainText("Jane Doe\nsomeone else")  # the plan was for other values
    assert not dialog.remove_button.isEnabled() and "Search again" in dialog.found.text()
    assert not dialog.save_button.isEnabled()
    _find(qtbot, dialog, "Jane Doe")
    assert dialog.with_runs.isVisible() and "1 run" in dialog.with_runs.text()
    dialog.with_runs.setChecked(True)
    dialog.reference.setText("DSR Doe")  # the audit log keeps it for good: never a name
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert "reference names the person" in dialog.found.text() and dataset_info(ws, "tickets").rows == 20
    assert dialog.focusWidget() is dialog.reference
    dialog.reference.setText("CASE-2026-019")
    asked: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=asked)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert asked == ["Remove 4 rows from 1 dataset, and delete 1 run? This cannot be undone."]
    assert dataset_info(ws, "tickets").rows == 20 and dialog.remove_button.isEnabled()
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.found.text().startswith("Removed"), timeout=30_000)
    assert "Removed 4 rows from tickets." in dialog.found.text()
    assert "Backups of the workspace made before now still hold these rows" in dialog.found.text()
    assert "Deleted 1 run trained on them." in dialog.found.text()
    assert dialog.values.toPlainText() == "" and not dialog.remove_button.isEnabled()
    assert dialog.focusWidget() is dialog.values and \
        dialog.values.accessibleDescription().startswith("Removed 4 rows from tickets.")
    # The rows found were said on Remove: not kept there once they are gone; and typing the
    # next request takes the last one's result off the field.
    assert "Jane Doe" not in dialog.remove_button.accessibleDescription()
    dialog.values.setPlainText("someone else")
    assert dialog.values.accessibleDescription() == ""
    texts = load_dataset(ws, "tickets").texts
    assert len(texts) == 16 and not any("Jane" in t for t in texts)
    assert list_runs(ws) == []
    [forgotten] = [e.details for e in ws.verify_audit().entries if e.action == "person.forgotten"]
    assert forgotten["reference"] == "CASE-2026-019"  # the DPO's case, as --reference gives it
    assert dialog.reference.text() == ""  # the next request is another case
    stored = window.datasets_page.stored
    assert stored.item(0, 1).text() == "16"  # the vault list followed at once


def test_a_dataset_all_about_them_is_not_emptied(qtbot, window, tmp_path):
    hers = tmp_path / "hers.csv"
    hers.write_text("text,label\nJane Doe rang,a\nJane Doe wrote,b\nJane Doe paid,a\n",
                    encoding="utf-8")
    _store(window, hers, name="hers")
    dialog = _dialog(qtbot, window)
    _find(qtbot, dialog, "Jane Doe")
    assert "Every row of hers is about them: delete the whole dataset" in dialog.found.text()
    assert not dialog.remove_button.isEnabled()
    _find(qtbot, dialog, "Nobody Known")
    assert "No stored row names them" in dialog.found.text()
    assert not dialog.remove_button.isEnabled()
    assert dataset_info(window.context.workspace, "hers").rows == 3


def test_a_value_matching_many_rows_cannot_be_removed_and_closing_lets_go(qtbot, window, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("text,label\n" + "".join(f"Thanks to the support team, case {i},{'ab'[i % 2]}\n"
                                             for i in range(30)), encoding="utf-8")
    _store(window, path, name="notes")
    dialog = _dialog(qtbot, window)
    _find(qtbot, dialog, "support team")
    assert "too many to be about one person" in dialog.found.text()
    assert not dialog.remove_button.isEnabled()
    # Why, first (it came last, below the rows, and fell off the dialog's edge) and on the button.
    why = ("Not removed: every row of notes is about them; delete the whole dataset instead "
           "(Delete… on the Datasets page).")
    assert dialog.found.text().startswith(f"✖ {why}") and dialog.remove_button.toolTip() == why
    dialog.reject()  # closed: nothing found or typed is kept
    assert dialog.plan is None and dialog.values.toPlainText() == "" and not dialog.found.text()
    again = _dialog(qtbot, window)
    assert again is not dialog and again.values.toPlainText() == ""


def test_a_search_that_ends_after_the_dialog_closed_is_let_go(qtbot, window, tmp_path):
    _store(window, _tickets(tmp_path), name="tickets")
    dialog = _dialog(qtbot, window)
    dialog.values.setPlainText("Jane Doe")
    qtbot.mouseClick(dialog.find_button, Qt.MouseButton.LeftButton)
    dialog.reject()  # closed while the search runs: its end arrives after
    qtbot.waitUntil(lambda: not window.context.jobs.busy(), timeout=30_000)
    qtbot.wait(200)  # the ended signal is delivered on the UI thread
    assert dialog.plan is None and not dialog.remove_button.isEnabled()
    assert not dialog.found.text()


def test_an_id_is_found_in_its_column_only(qtbot, window, tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("customer_id,text,label\n42,parcel late,a\n7,order 42 lost,b\n9,fine,a\n",
                    encoding="utf-8")
    _store(window, path, name="claims")
    _store(window, _tickets(tmp_path), name="tickets")  # no such column: not searched
    dialog = _dialog(qtbot, window)
    labels = [dialog.column.itemText(i) for i in range(dialog.column.count())]
    by_id = "Only the whole value of column “customer_id” (an id)"
    assert labels[0].startswith("Anywhere") and by_id in labels
    dialog.column.setCurrentIndex(labels.index(by_id))
    _find(qtbot, dialog, "00042")
    text = dialog.found.text()
    assert "claims: 1 of 3 rows" in text and "row 1: parcel late" in text
    assert "Not searched (no such column): tickets." in text


def test_changing_where_to_look_asks_for_a_new_search(qtbot, window, tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("customer_id,text,label\n42,parcel late,a\n7,fine,b\n9,ok,a\n",
                    encoding="utf-8")
    _store(window, path, name="claims")
    dialog = _dialog(qtbot, window)
    dialog.column.setCurrentIndex(1)
    _find(qtbot, dialog, "00042")
    assert dialog.remove_button.isEnabled()
    dialog.column.setCurrentIndex(0)  # the plan was for the column
    assert dialog.plan is None and not dialog.remove_button.isEnabled()
    qtbot.mouseClick(dialog.find_button, Qt.MouseButton.LeftButton)
    assert not dialog.column.isEnabled()  # not while it searches
    qtbot.waitUntil(lambda: dialog.find_button.isEnabled(), timeout=30_000)
    assert dialog.column.isEnabled() and "short number" in dialog.found.text()


def test_rows_found_only_through_a_shared_pseudonym_are_said_and_not_removed() -> None:
    import numpy as np

    from desktop.dialogs.forget import describe
    from engine.erasure import DatasetErasure, ErasurePlan

    copy = DatasetErasure(name="anon", rows=33, remove=np.zeros(33, dtype=bool), per_value={},
                          match_all=True, unsearched=2, mapping_left={"pairs": {}},
                          anonymized_from="people")
    imported = DatasetErasure(name="tickets", rows=5, remove=np.zeros(5, dtype=bool),
                              per_value={}, match_all=True, unsearched=1, mapping_left={"pairs": {}})
    said = describe(ErasurePlan(values=("John", "Doe"), datasets=[copy, imported]))
    assert ("anon: nothing found\n    2 rows there may be about them: they hold these values only "
            "through a pseudonym that also stands for someone else, so none is removed. If one is "
            "about them, delete anon and anonymize people again afterwards.") in said
    assert "delete tickets and import its file again, with the same anonymization" in said
    assert said.endswith("No row is surely about them: nothing removed.")


def test_a_run_whose_record_cannot_be_read_is_said_after_the_removal(qtbot, window, tmp_path):
    # "Deleted 2 runs trained on them" where a third, unreadable, may hold the same rows.
    _store(window, _tickets(tmp_path), name="tickets")
    ws = window.context.workspace
    run = RunRecord(run_id=new_run_id(), dataset="tickets", config={}, status=RunStatus.FINISHED)
    save_run(ws, run)
    path = ws.file_of(f"runs/{run.run_id}/run.json")
    path.write_bytes(path.read_bytes()[:-20])
    dialog = _dialog(qtbot, window)
    _find(qtbot, dialog, "jane doe")
    dialog.reference.setText("CASE-1")
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.found.text().startswith("Removed"), timeout=30_000)
    assert ("1 run whose record cannot be read could not be checked: its model may have been "
            "trained on these rows. Delete it on the Runs page.") in dialog.found.text()
