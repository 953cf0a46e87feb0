"""The desktop Privacy step on a real stored dataset: scan, choose actions, preview, create."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.desktop.helpers import click_when_laid_out, drop_files


def _notes(tmp_path: Path) -> Path:
    path = tmp_path / "notes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(12):
            writer.writerow([f"Mrs. Kimberly Lauritsen called from (978)645-9740 about order {i}"
                             if i % 2 else f"Donald van der Voet paid with 4929 5785 6933 9117, note {i}",
                             "ab"[i % 2]])
    return path


def _privacy_panel(qtbot, window, path: Path):
    """Import ``path`` by drag and drop and open the Privacy step of the stored dataset."""
    page = window.datasets_page
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    assert page.select_stored(path.stem)
    click_when_laid_out(qtbot, page.stored_panel.privacy_button)
    return page.stored_panel.privacy_dialog.panel


def test_scan_preview_and_create_anonymized_dataset(qtbot, window, tmp_path):
    page = window.datasets_page
    panel = _privacy_panel(qtbot, window, _notes(tmp_path))
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    actions = panel.actions()
    assert actions["PERSON"] == "pseudonym" and actions["CREDIT_CARD"] == "mask"
    # Only text and label: no empty "Other columns" table, a line that says there are none.
    assert panel.columns.isHidden() and panel.columns_label.text().startswith("Other columns: none")
    combos = [panel.table.cellWidget(r, 4) for r in range(panel.table.rowCount())]
    assert all(panel.table.columnWidth(4) >= c.sizeHint().width() for c in combos)  # read whole
    # The menus say what each action does; the policy keeps the actions' names.
    shown = {panel.table.item(r, 0).text(): combos[r].currentText() for r in range(len(combos))}
    assert shown["PERSON"] == "Replace by a fake value" and "_" not in "".join(shown.values())
    types = [panel.table.item(r, 0) for r in range(len(combos))]  # read whole ("STREET_ADD…")
    assert all(panel.table.columnWidth(0) >= panel.table.fontMetrics().horizontalAdvance(t.text())
               for t in types)
    # "Replace by its type" names the row's own type (it said <PERSON> on every row).
    row = [panel.table.item(r, 0).text() for r in range(len(combos))].index("PHONE")
    assert combos[row].itemText(combos[row].findData("tag")) == "Replace by its type (<PHONE>)"
    assert panel.report.counts["PHONE"] == 6 and panel.report.counts["CREDIT_CARD"] == 6
    assert "Lauritsen" not in panel.table.item(0, 3).text()  # examples are masked
    panel.set_action("PHONE", "redact")
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "→" in panel.preview.toPlainText(), timeout=30_000)
    assert "**** **** **** 9117" in panel.preview.toPlainText()
    # The suggested name is whole in its box and in the tooltip (a long one showed "…s-anonymized").
    edit = panel.name_edit
    assert edit.toolTip() == edit.text() and edit.width() > edit.fontMetrics().horizontalAdvance(edit.text())
    panel.name_edit.setText("notes-safe")
    assert panel.name_edit.toolTip() == "notes-safe"
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.created is not None, timeout=30_000)
    from engine.data.store import load_dataset

    texts = load_dataset(window.context.workspace, "notes-safe").texts
    joined = "\n".join(texts)
    assert "Lauritsen" not in joined and "(978)" not in joined and "9117" in joined
    assert "Lauritsen" in "\n".join(load_dataset(window.context.workspace, "notes").texts)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 2, timeout=10_000)
    # The name is taken now: creating again waits for another name.
    assert not panel.create_button.isEnabled()
    qtbot.keyClicks(panel.name_edit, "-2")
    assert panel.create_button.isEnabled()


def test_training_an_unscanned_dataset_warns_until_dismissed(qtbot, window, tmp_path):
    page = window.datasets_page
    drop_files(window, _notes(tmp_path))
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    train = window.train_page
    train.select_dataset("notes")
    assert not train.privacy_warning.isHidden()
    # In a narrow window it wraps to more lines, and gets the height of all of them.
    window.show_page("train")
    label = train.privacy_warning
    for width in (1280, 1024, 900):
        window.resize(width, 700)
        # Once the layout has settled (a resize lays out over a few event-loop turns).
        qtbot.waitUntil(lambda: label.isVisible() and label.width() > 0
                        and label.height() >= label.heightForWidth(label.width()), timeout=5_000)
    qtbot.mouseClick(train.privacy_dismiss, Qt.MouseButton.LeftButton)
    assert train.privacy_warning.isHidden()
    from engine.data.anonymize import scan_dataset

    drop_files(window, _notes(tmp_path))  # a second copy, scanned this time
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    page.name_edit.setText("scanned")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 2, timeout=30_000)
    scan_dataset(window.context.workspace, "scanned")
    train.select_dataset("scanned")
    assert train.privacy_warning.isHidden()


def test_the_name_model_can_be_chosen_and_the_scan_shows_rows_done(qtbot, window, tmp_path):
    path = tmp_path / "orgs.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(10):
            writer.writerow([f"Brightwave Logistics lost parcel {i}" if i % 2 else
                             f"Wells Fargo froze my account {i}", "ab"[i % 2]])
    panel = _privacy_panel(qtbot, window, path)
    assert panel.names_mode() == "rules"  # the fast default
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    assert "ORGANIZATION" not in panel.report.counts
    panel.report = None
    panel.names.setCurrentIndex(panel.names.findData("both"))
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=60_000)
    assert panel.report.counts["ORGANIZATION"] == 10
    assert (panel.progress.maximum(), panel.progress.value()) == (10, 10)  # rows done, not a busy bar
    assert panel.actions()["ORGANIZATION"] == "keep"
    panel.set_action("ORGANIZATION", "tag")
    assert 'names = "both"' in panel.policy().text and panel.policy().names == "both"
    panel.name_edit.setText("orgs-safe")
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.created is not None, timeout=60_000)
    from engine.data.store import load_dataset

    joined = "\n".join(load_dataset(window.context.workspace, "orgs-safe").texts)
    assert "Brightwave" not in joined and "Wells Fargo" not in joined and "<ORGANIZATION>" in joined


def test_locking_closes_the_privacy_dialog_and_its_preview_of_personal_data(qtbot, window, tmp_path):
    panel = _privacy_panel(qtbot, window, _notes(tmp_path))
    dialog = window.datasets_page.stored_panel.privacy_dialog
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Lauritsen" in panel.preview.toPlainText(), timeout=30_000)
    assert dialog.isVisible()
    destroyed: list[bool] = []
    dialog.destroyed.connect(lambda *_: destroyed.append(True))
    window.lock_action.trigger()
    assert not window.context.unlocked and not dialog.isVisible()
    qtbot.waitUntil(lambda: bool(destroyed), timeout=5_000)  # deleted, names and all


def test_locking_deletes_a_privacy_dialog_that_was_only_closed(qtbot, window, tmp_path):
    panel = _privacy_panel(qtbot, window, _notes(tmp_path))
    dialog = window.datasets_page.stored_panel.privacy_dialog
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    dialog.close()  # hidden, its scan report still in memory
    destroyed: list[bool] = []
    dialog.destroyed.connect(lambda *_: destroyed.append(True))
    window.lock()
    qtbot.waitUntil(lambda: bool(destroyed), timeout=5_000)


def test_identifier_columns_are_proposed_and_dropped_or_pseudonymized_in_the_copy(
        qtbot, window, tmp_path):
    """Columns the model does not read still go into the copy: an id or a name in a column of
    its own is proposed by the scan and acted on as a whole (no detector finds an MRN)."""
    path = tmp_path / "visits.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mrn", "patient_name", "visit", "note", "label"])
        for i in range(12):
            writer.writerow([f"MRN-1002{i:02d}", ["Kimberly Lauritsen", "Donald Voet"][i % 2],
                             ["checkup", "follow-up", "routine"][i % 3],
                             f"felt better after dose {i}" if i else "MRN-100200 felt better",
                             "ab"[i % 2]])
    panel = _privacy_panel(qtbot, window, path)
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    assert not panel.report.by_column.get("mrn")  # no detector sees a record number
    assert panel.columns.actions() == {"mrn": "pseudonym", "patient_name": "pseudonym",
                                       "visit": "keep"}
    assert "identifier" in panel.status.text() and panel.create_button.isEnabled()
    # Tab leaves each table for the next control (cell by cell, it never reached Create).
    assert not panel.table.tabKeyNavigation() and not panel.columns.tabKeyNavigation()
    assert panel.columns.item(0, 1).text().startswith("ID (its name 'mrn')")
    panel.columns.set_action("mrn", "drop")
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Preview ready" in panel.status.text(), timeout=30_000)
    shown = panel.preview.toPlainText()  # the column actions are previewed too
    assert "MRN-100200\n→ (the column is left out)" in shown
    assert "Kimberly Lauritsen\n→ " in shown and "→ Kimberly" not in shown
    # Three rows of the pseudonymized column: the same patient gets the same stand-in.
    stand_ins = [line[2:] for line, before in zip(shown.splitlines()[1:], shown.splitlines())
                 if line.startswith("→ ") and before in ("Kimberly Lauritsen", "Donald Voet")]
    assert len(stand_ins) == 3 and stand_ins[0] == stand_ins[2] != stand_ins[1]
    assert shown.count("(the column is left out)") == 1
    # Rows from the scanned texts come first, whole-column changes after them.
    panel._show_preview([("mrn", "MRN-1", [], "", []),
                         ("note", "call Kim", [(5, 8)], "call Ann", [(5, 8)])])
    reordered = panel.preview.toPlainText()
    assert reordered.index("call Kim") < reordered.index("MRN-1")
    panel.name_edit.setText("visits-safe")
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.created is not None, timeout=30_000)
    from engine.data.store import load_dataset

    # The note of row 1 still holds its record number, which the copy drops: said.
    assert "⚠ The texts still hold values of columns replaced here, as written: mrn (1 row)" \
        in panel.status.text()
    copy = load_dataset(window.context.workspace, "visits-safe").table
    assert "mrn" not in copy.column_names and copy.column("visit").to_pylist()[:2] == ["checkup", "follow-up"]
    names = copy.column("patient_name").to_pylist()
    assert not {"Kimberly Lauritsen", "Donald Voet"} & set(names) and len(set(names)) == 2
    entry = [e for e in window.context.workspace.verify_audit().entries
             if e.action == "dataset.anonymized"][-1]
    assert entry.details["dropped_columns"] == ["mrn"]
    assert '"patient_name" = { action = "pseudonym", entity = "PERSON" }' in entry.details["policy"]
    from privacy.pii.policy import parse_policy  # the recorded policy is one a file can repeat

    again = parse_policy(entry.details["policy"])
    assert {c: r.operator.action for c, r in again.columns.items()} == {
        "mrn": "drop", "patient_name": "pseudonym"}
    panel.columns.set_action("visit", "redact")  # a change of choice keeps the name's state
    assert not panel.create_button.isEnabled()  # "visits-safe" is taken now
    qtbot.keyClicks(panel.name_edit, "-2")
    assert panel.create_button.isEnabled()


def test_a_long_scan_can_be_stopped_and_stores_nothing(qtbot, window, tmp_path):
    """A scan with the name model reads ~90 rows a second: Stop ends it at its next progress
    report, and nothing is stored (here a job that reports like the scan and never ends)."""
    import time

    panel = _privacy_panel(qtbot, window, _notes(tmp_path))
    finished: list[object] = []

    def endless_scan(_workspace):  # noqa: ANN001, ANN202
        for row in range(10**9):
            panel._rows_progress(row, 10**9)
            time.sleep(0.005)

    panel._run(endless_scan, "Scanning…", finished.append)
    qtbot.waitUntil(lambda: panel.stop_button.isVisible() and panel._rows_done is not None,
                    timeout=10_000)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel._job_running(), timeout=10_000)
    qtbot.waitUntil(lambda: panel.status.text() == "Stopped; nothing was stored or changed.",
                    timeout=10_000)
    assert finished == [] and not panel.stop_button.isVisible() and panel.scan_button.isEnabled()


def test_the_privacy_step_by_keyboard_and_screen_reader(qtbot, window, tmp_path):
    """Each action box is named for what it acts on (five read the same before), Tab reaches
    them in the order they are shown, and Enter in the new name creates the copy (it pressed
    Scan, the dialog's first button)."""
    from PySide6.QtTest import QTest

    from tests.desktop.test_accessibility import unnamed

    panel = _privacy_panel(qtbot, window, _notes(tmp_path))
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    dialog = window.datasets_page.stored_panel.privacy_dialog
    assert unnamed(dialog) == []
    combos = [panel.table.cellWidget(r, 4) for r in range(panel.table.rowCount())]
    assert [c.accessibleName() for c in combos] == \
        [f"Action for {panel.table.item(r, 0).text()}" for r in range(len(combos))]
    assert combos[0].nextInFocusChain() is combos[1]  # not after everything below the table
    scans = []
    panel.scan_button.clicked.connect(lambda: scans.append(1))
    panel.name_edit.setFocus()
    panel.name_edit.setText("by-enter")
    QTest.keyClick(panel.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.created is not None, timeout=30_000)
    assert scans == []
    from engine.data.store import dataset_exists

    assert dataset_exists(window.context.workspace, "by-enter")


def test_dates_written_day_first_are_generalised_to_their_own_month(qtbot, window, tmp_path):
    # A French file's 05/03/2024 (5 March) became 2024-05 with no way to say otherwise here.
    path = tmp_path / "factures.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "Date"])
        for i in range(12):
            writer.writerow([f"Facture {i} du 05/03/2024, payée", "ab"[i % 2], "05/03/2024"])
    panel = _privacy_panel(qtbot, window, path)
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    assert panel.actions()["DATE"] == "generalize_date"
    panel.day_first.setChecked(False)
    assert panel.policy().operator_for("DATE").params.get("day_first") is None
    panel.day_first.setChecked(True)
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "→" in panel.preview.toPlainText(), timeout=30_000)
    assert "2024-03" in panel.preview.toPlainText() and "2024-05" not in panel.preview.toPlainText()
    # A whole date column follows the box too (it was generalised month first regardless).
    panel.columns.set_action("Date", "generalize_date")
    assert panel.policy().columns["Date"].operator.params.get("day_first") is True
    panel.name_edit.setText("factures-safe")
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.created is not None, timeout=30_000)
    from engine.data.store import load_dataset

    stored = load_dataset(window.context.workspace, "factures-safe").table
    assert set(stored.column("Date").to_pylist()) == {"2024-03"}


@pytest.mark.parametrize("locale, day_first", [("de_DE.UTF-8", True), ("fr_FR.UTF-8", True),
                                               ("en_US.UTF-8", False), ("C", False)])
def test_the_day_first_default_follows_the_computers_date_format(locale: str, day_first: bool) -> None:
    # Qt reads the locale from the environment; a bare server (C) keeps the US order.
    import os
    import subprocess
    import sys

    code = "from desktop.pages.privacy_step import _locale_writes_day_first as f; print(f())"
    env = {**os.environ, "LC_ALL": locale, "LANG": locale, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).parents[2], timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == str(day_first)


def test_a_dataset_renamed_by_a_command_during_the_scan_is_said_not_a_traceback(qtbot, window, tmp_path):
    # `cloister rename notes notes_v2` while the scan ran: DatasetNotFound raised on the UI
    # thread as the findings were shown, and the dialog said "Scanning…" for good.
    from engine.data.store import rename_dataset

    panel = _privacy_panel(qtbot, window, _notes(tmp_path))
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    rename_dataset(window.context.workspace, "notes", "notes_v2")  # the command, meanwhile
    panel._show_report(panel.report)  # the scan's findings arriving after it
    assert panel.status.text().startswith("✖ Dataset 'notes' was renamed or deleted while it was "
                                          "scanned (by another window or a command)")
    assert not panel.create_button.isEnabled() and not panel.preview_button.isEnabled()


def test_a_long_suggested_name_is_shown_whole(qtbot, window) -> None:
    from desktop.pages.privacy_step import PrivacyPanel

    panel = PrivacyPanel(window.context, "sms-spam-with-a-rather-long-file-name")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    edit = panel.name_edit
    assert edit.text() == "sms-spam-with-a-rather-long-file-name-anonymized" == edit.toolTip()
    assert edit.width() > edit.fontMetrics().horizontalAdvance(edit.text())  # it showed its tail


def test_a_column_the_user_sets_to_a_date_action_holds_dates(qtbot) -> None:
    # A column the scan did not propose was written 'entity = "ID"' whatever its action, so a
    # cell that generalize_date could not read ("unknown") became <ID> in the stored copy.
    from desktop.pages.privacy_columns import ColumnActions
    from privacy.pii.policy import parse_policy

    table = ColumnActions()
    qtbot.addWidget(table)
    table.show_columns(["Visit date", "Ref"], [])
    table.set_action("Visit date", "generalize_date")
    table.set_action("Ref", "pseudonym")
    policy = parse_policy("[columns]\n" + "\n".join(table.policy_lines()) + "\n")
    assert policy.columns["Visit date"].entity == "DATE"
    assert policy.columns["Ref"].entity == "ID"
