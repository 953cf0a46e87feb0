"""Fix… on a dataset already in the vault (desktop/dialogs/fix_stored.py): the import's fixes
on the stored rows, without the source file, each stored at once and kept in the history and
the audit log; a refused fix changes nothing."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from engine.data.columns import infer_mapping
from engine.data.importing import read_table
from engine.data.store import load_dataset, save_dataset


def _store_with_repeats(window, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [(f"message number {i} about {'cash prizes' if i % 2 else 'lunch plans'}",
             "spam" if i % 2 else "ham") for i in range(1, 31)]
    rows += rows[:4]  # four exact repeats, as the bundled sample has eleven
    path = tmp_path / "repeats.csv"
    path.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), encoding="utf-8")
    imported = read_table(path)
    save_dataset(window.context.workspace, "repeats", imported, infer_mapping(imported))
    path.unlink()  # the source file is not needed
    window.context.datasets_changed.emit()


def _fix_dialog(qtbot, window):  # noqa: ANN001, ANN202
    """The Fix… dialog of the stored 'repeats', once it offers its fixes."""
    page = window.datasets_page
    window.show_page("datasets")
    assert page.select_stored("repeats")
    page.stored_panel.fix_selected()
    dialog = page.stored_panel.fix_dialog
    qtbot.waitUntil(lambda: bool(dialog.fixes.buttons), timeout=30_000)
    return dialog


def test_repeats_are_dropped_from_a_stored_dataset_in_one_click(qtbot, window, tmp_path, monkeypatch):
    _store_with_repeats(window, tmp_path)
    window.show_page("datasets")
    page = window.datasets_page
    assert page.select_stored("repeats") and page.stored_panel.fix_button.isEnabled()
    qtbot.mouseClick(page.stored_panel.fix_button, Qt.MouseButton.LeftButton)
    dialog = page.stored_panel.fix_dialog
    qtbot.waitUntil(lambda: bool(dialog.fixes.buttons), timeout=30_000)
    [drop] = [b for b in dialog.fixes.buttons if "Drop repeated rows" in b.text()]
    assert "removes 4 rows" in drop.text() and "repeated" in dialog.problems.item(0).text()
    from tests.desktop.test_accessibility import _listening

    heard = _listening(monkeypatch)
    drop.setFocus()
    qtbot.mouseClick(drop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Stored: 30 rows"), timeout=30_000)
    ws = window.context.workspace
    stored = load_dataset(ws, "repeats")
    assert len(stored.texts) == 30 == len(set(stored.texts))
    assert [step["kind"] for step in stored.info.history] == ["drop-duplicates"]
    assert [e.details.get("fix") for e in ws.verify_audit().entries
            if e.action == "dataset.fixed"] == ["drop-duplicates"]
    qtbot.waitUntil(lambda: "Applied: " in dialog.fixes.applied.text(), timeout=30_000)
    assert not [b for b in dialog.fixes.buttons if "Drop repeated rows" in b.text()]
    # The pressed button is gone: the focus is on what is next, where the fix is said.
    qtbot.waitUntil(lambda: (dialog.focusWidget(), dialog.fixes.applied.text()) in heard, timeout=5_000)
    assert dialog.focusWidget() in [*[b for b in dialog.fixes.buttons if b.isEnabled()], dialog.problems]
    assert page.stored.item(0, 1).text() == "30"  # the list shows the stored rows
    assert page.stored_panel.selected_name() == "repeats"


def test_a_refused_fix_changes_nothing_stored(qtbot, window, tmp_path, monkeypatch):
    from engine.data.fixes import DropClasses
    from tests.desktop.test_accessibility import _listening

    _store_with_repeats(window, tmp_path)
    ws = window.context.workspace
    before = load_dataset(ws, "repeats").texts
    dialog = _fix_dialog(qtbot, window)

    class Refused:  # dropping 'spam' would leave one class: the engine refuses it
        label, fix = "Drop the rows labelled 'spam'", DropClasses(("spam",))

    heard = _listening(monkeypatch)
    dialog.fixes._pressed = dialog.fixes.buttons[0]  # as a click on a fix does
    dialog.apply(Refused())
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not applied: "), timeout=30_000)
    assert "class" in dialog.status.text()
    assert load_dataset(ws, "repeats").texts == before
    # The dialog checks again and makes its buttons anew: the refusal is said on the first.
    qtbot.waitUntil(lambda: any(text.startswith("Not applied: ") for _w, text in heard), timeout=30_000)
    said_on, said = heard[-1]
    assert said == dialog.status.text() and said_on in [*dialog.fixes.buttons, dialog.problems]
    assert dialog.focusWidget() is said_on  # where it was said: a new button, once shown


def test_a_dialog_closed_starts_nothing_more(qtbot, window, tmp_path):
    # A lock rejects the dialog, then waits for running jobs: a fix that ended then began a new
    # check, after the lock's look at the jobs, which raced the lock.
    _store_with_repeats(window, tmp_path)
    dialog = _fix_dialog(qtbot, window)
    dialog.reject()
    dialog._check()
    assert not window.context.jobs.busy("fix")


def test_a_fix_offered_for_rows_a_command_replaced_since_is_refused_not_applied_unseen(
        qtbot, window, tmp_path):
    # `cloister import other.csv --name repeats --replace` while the dialog was open: its
    # "removes 4 rows" was applied to the new rows (20 gone) and reported as done.
    _store_with_repeats(window, tmp_path)
    ws = window.context.workspace
    dialog = _fix_dialog(qtbot, window)
    [drop] = [b for b in dialog.fixes.buttons if "Drop repeated rows" in b.text()]
    rows = [(f"another message {i}", "spam" if i % 2 else "ham") for i in range(60)] * 2
    other = tmp_path / "other.csv"
    other.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), encoding="utf-8")
    imported = read_table(other)
    save_dataset(ws, "repeats", imported, infer_mapping(imported), overwrite=True)  # the command
    qtbot.mouseClick(drop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not applied: "), timeout=30_000)
    assert "dataset 'repeats' was stored again by another Cloister window or command" \
        in dialog.status.text()
    assert len(load_dataset(ws, "repeats").texts) == 120  # nothing dropped unseen
    page = window.datasets_page
    qtbot.waitUntil(lambda: page.stored.item(0, 1).text() == "120", timeout=10_000)  # list follows
    # The dialog checked again: its offer is now the new rows' own.
    qtbot.waitUntil(lambda: any("removes 60 rows" in b.text() for b in dialog.fixes.buttons),
                    timeout=30_000)


def test_locking_the_window_does_not_wait_out_another_writers_long_save(qtbot, window, tmp_path):
    # A fix waiting for a command's long import: Ctrl+L took 10.5 s, then the fix was stored
    # anyway, after the user asked to lock.
    import time

    from tests.desktop.helpers import another_writer_holds_the_datasets

    _store_with_repeats(window, tmp_path)
    ws = window.context.workspace
    before = load_dataset(ws, "repeats").info.sha256
    dialog = _fix_dialog(qtbot, window)
    [drop] = [b for b in dialog.fixes.buttons if "Drop repeated rows" in b.text()]
    with another_writer_holds_the_datasets(ws):
        qtbot.mouseClick(drop, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.context.jobs.busy("fix"), timeout=10_000)
        qtbot.wait(300)  # the fix is waiting for the lock
        started = time.monotonic()
        window.lock()
        took = time.monotonic() - started
    assert took < 5  # not until the other writer is done
    from privacy.vault.workspace import Workspace
    from tests.desktop.conftest import PASSPHRASE

    with Workspace.unlock(ws.root, PASSPHRASE) as again:  # nothing stored after the lock
        assert load_dataset(again, "repeats").info.sha256 == before


def test_fix_dialogs_opened_and_closed_all_day_do_not_pile_up_under_the_page(qtbot, window, tmp_path):
    # Each Fix… made a new dialog and only hid the last: one more (with the problems it had
    # quoted) under the page for every opening until the next lock.
    from desktop.dialogs.fix_stored import StoredFixDialog

    _store_with_repeats(window, tmp_path)
    destroyed: list[bool] = []
    for _ in range(4):
        dialog = _fix_dialog(qtbot, window)
        dialog.destroyed.connect(lambda *_: destroyed.append(True))
        dialog.close()
    qtbot.waitUntil(lambda: len(destroyed) == 3, timeout=5_000)
    panel = window.datasets_page.stored_panel
    assert len(panel.findChildren(StoredFixDialog)) == 1 and panel.fix_dialog is dialog
