"""Forget a person: the desktop side of ``cloister forget`` (``engine.erasure``).

Someone asks to be erased: the user types what identifies them, the vault's datasets are searched
on a worker thread, the rows found are counted per dataset with the runs trained on them, and a
second, explicit click removes them. Nothing that identifies the person is kept: not in the
settings, the history or the audit log (which records counts, and the request's case reference
when one is given, refused if it names them)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QLabel, QLineEdit,
    QMessageBox, QPlainTextEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from desktop.accessible import announce
from desktop.context import AppContext
from desktop.worker import Done, Job
from engine.events import Failed
from engine.erasure import ERASED_FROM_BACKUPS
from engine.erasure_traces import clean_copy_advice
from engine.units import count_of

INTRO = ("When someone asks to be erased, type what identifies them, one per line: a full name, "
         "an e-mail address, a phone or customer number. Every dataset in the vault is searched "
         "(whole words, any case, in every column); the rows naming any of them are counted "
         "first and removed only when you confirm. What identifies them is not kept; the case "
         "reference, if you give one, is kept in the audit log.")


SHOWN_ROWS = 5  # rows found, shown per dataset (`cloister forget --show` prints them all)


class ForgetDialog(QDialog):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.plan: Any = None
        # Bumped on close and on every new search: a search that ends after either is dropped
        # (a closed dialog must not hold decrypted rows, nor an older search replace a newer).
        self._generation = 0
        self.setWindowTitle("Forget a person")
        self.setMinimumWidth(520)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.values = QPlainTextEdit()
        self.values.setPlaceholderText("Jane Doe\njane.doe@example.com\n+44 20 7946 0958")
        self.values.setAccessibleName("What identifies the person, one per line")
        self.values.setTabChangesFocus(True)
        self.values.setMaximumHeight(110)
        self.values.textChanged.connect(self._forget_plan)
        # An id ("00042") is found as the whole value of its column, not anywhere in a text.
        self.column = QComboBox()
        self.column.setAccessibleName("Where to look")
        self.column.addItem("Anywhere (names, addresses, numbers)", None)
        for name in self._columns():
            self.column.addItem(f"Only the whole value of column “{name}” (an id)", name)
        self.column.currentIndexChanged.connect(lambda *_: self._forget_plan())
        # The request's case number, kept in the audit entries of the removal and of rows
        # saved for an access request (`--reference` on the command line): a DPO's file is
        # rebuilt from the log. Never a name: that is refused.
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Case reference (optional), such as DSR-2026-019; never a name")
        self.reference.setAccessibleName("Case reference, kept in the audit log")
        self.find_button = QPushButton("Find their rows")
        self.find_button.clicked.connect(self.find)
        self.found = QLabel()
        self.found.setWordWrap(True)
        self.found.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.with_runs = QCheckBox()
        self.with_runs.hide()
        # A request for access to one's data: every column of the rows found, as CSV.
        self.save_button = QPushButton("Save rows found…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_rows)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.find_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        for widget in (intro, self.values, self.column, self.reference):
            layout.addWidget(widget)
        layout.addLayout(row)
        # Scrolled: a search of many datasets says ten lines and more, and the last of them (why
        # Remove stays greyed out) fell below the dialog's edge.
        self.found.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        found_area = QScrollArea()
        found_area.setWidgetResizable(True)
        found_area.setFrameShape(QFrame.Shape.NoFrame)
        found_area.setMinimumHeight(140)
        found_area.setWidget(self.found)
        layout.addWidget(found_area, 1)
        layout.addWidget(self.with_runs)
        layout.addWidget(buttons)

    def done(self, result: int) -> None:
        """Closed: what was typed and what was found (decrypted rows) are let go at once, and
        a search still running is let go when it ends."""
        self._generation += 1
        self._busy(False)
        self.plan = None
        self.values.blockSignals(True)
        self.values.clear()
        self.values.blockSignals(False)
        self.reference.clear()
        self.found.clear()
        self._unsay()  # rows were said there
        self.remove_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.with_runs.hide()
        super().done(result)

    def _columns(self) -> list[str]:
        """Every column of the stored datasets, from their descriptions (no rows decrypted)."""
        if self.context.workspace is None:
            return []
        from desktop.jobs import stored_datasets

        try:
            infos = stored_datasets(self.context.workspace)
        except Exception:  # noqa: BLE001 - a damaged entry: searching anywhere still works
            return []
        return sorted({c for info in infos for c in info.columns})

    def _typed(self) -> list[str]:
        return [line for line in self.values.toPlainText().splitlines() if line.strip()]

    def _forget_plan(self) -> None:
        """What was found belongs to the values as they were: typing again asks for a new search."""
        self._generation += 1  # a search still running was for the old values
        self._unsay()  # what was said of the old values (rows found, a removal's counts)
        if self.plan is not None:
            self.plan = None
            self.found.setText("Search again: the values changed.")
        self.remove_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.with_runs.hide()

    def _busy(self, busy: bool) -> None:
        for widget in (self.find_button, self.values, self.column):
            widget.setEnabled(not busy)
        if busy:
            self.remove_button.setEnabled(False)
            self.save_button.setEnabled(False)

    def find(self) -> None:
        workspace, values = self.context.workspace, self._typed()
        if workspace is None:
            return
        if not values:
            self.found.setText("Type at least one name, address or number first.")
            return
        from engine.erasure import plan_erasure

        self._busy(True)
        self.found.setText("Searching the vault…")
        self._generation += 1
        generation = self._generation
        column = self.column.currentData()
        # With a column, the datasets without it are left out (the plan says which).
        job = Job.call(lambda cancel: plan_erasure(
            workspace, values, columns=[column] if column else [], cancel=cancel),
            name="search", parent=self)
        job.ended.connect(lambda terminal: self._on_found(terminal, generation))
        self.context.start(job)

    def _on_found(self, terminal: object, generation: int) -> None:
        if generation != self._generation:
            return  # closed, or searched again, meanwhile
        self._busy(False)
        if not isinstance(terminal, Done):
            message = terminal.message if isinstance(terminal, Failed) else "Stopped."
            self.found.setText(f"Not searched: {message}")
            self._heard(self.find_button)
            return
        self.plan = plan = terminal.value
        runs, refused = plan.runs, plan.refusal()
        why_not = _why_not_removable(plan) if refused else ""
        # The reason first: below ten lines of rows found, it was read last, if at all.
        self.found.setText((f"✖ {why_not}\n\n" if why_not else "") + describe(plan))
        self.remove_button.setText(f"Remove {count_of(plan.rows, 'row')}" if plan.rows
                                   else "Remove them")
        self.remove_button.setEnabled(bool(plan.affected or plan.reports) and not refused)
        self.remove_button.setToolTip(why_not)
        self.save_button.setEnabled(plan.rows > 0)
        self.with_runs.setText(f"Also delete the {count_of(len(runs), 'run')} trained on them "
                               "(their models and test reports)")
        self.with_runs.setChecked(False)
        self.with_runs.setVisible(bool(runs) and not refused)
        self._heard(self.remove_button if self.remove_button.isEnabled() else self.find_button)

    def _heard(self, where: QWidget) -> None:
        """After a search or a removal: the focus on what comes next, and the result said there.
        The disabled Find had sent the focus to Close, where Enter closed the dialog and cleared
        what was typed, and the result sat unread in a label."""
        where.setFocus(Qt.FocusReason.OtherFocusReason)
        self._unsay()  # the rows found stay said nowhere else (nor an old result)
        announce(self.found.text(), on=where)

    def _unsay(self) -> None:
        for said in (self.find_button, self.remove_button, self.values, self.reference):
            said.setAccessibleDescription("")

    def _case(self) -> tuple[bool, str | None]:
        """The case reference typed (None for none), and whether it may go into the audit log:
        one naming the person is refused there, and said on its field."""
        from engine.erasure import check_reference
        from engine.errors import InputError

        reference = self.reference.text().strip() or None
        try:
            check_reference(reference, self.plan.values if self.plan is not None else self._typed())
        except InputError as exc:  # said above what was found, which still stands
            shown = self.found.text()
            if shown.startswith("✖ ") and "\n\n" in shown:  # an earlier refusal goes
                shown = shown.split("\n\n", 1)[1]
            self.found.setText(f"✖ {str(exc)[:1].upper()}{str(exc)[1:]}." + (f"\n\n{shown}" if shown else ""))
            self._heard(self.reference)
            return False, None
        return True, reference

    def save_rows(self) -> None:
        workspace, plan = self.context.workspace, self.plan
        if workspace is None or plan is None:
            return
        allowed, reference = self._case()
        if not allowed:
            return
        from pathlib import Path

        from PySide6.QtWidgets import QFileDialog

        from engine.erasure_traces import export_rows

        # In the home folder: a bare name lands in the working folder, "/" for a macOS app.
        target, _ = QFileDialog.getSaveFileName(self, "Save the rows found",
                                                str(Path.home() / "rows-found.csv"),
                                                "CSV (*.csv)")
        if not target:
            return
        try:
            count = export_rows(plan.affected, Path(target))
            # Personal data left the vault, for this request (its case, when given).
            workspace.audit("person.exported", rows=count, **({"reference": reference} if reference else {}))
        except Exception as exc:  # noqa: BLE001 - the engine's message, the dialog stays
            QMessageBox.warning(self, "Cloister", str(exc))
            return
        self.context.status_message.emit(f"Saved {count_of(count, 'row')} to {target} "
                                         "(plaintext: delete it once sent).")

    def remove(self) -> None:
        workspace, plan = self.context.workspace, self.plan
        if workspace is None or plan is None:
            return
        from engine.erasure_apply import carry_out

        allowed, reference = self._case()
        if not allowed:
            return
        delete_runs = self.with_runs.isVisible() and self.with_runs.isChecked()
        also = f", and delete {count_of(len(plan.runs), 'run')}" if delete_runs else ""
        what = (f"Remove {count_of(plan.rows, 'row')} from "
                f"{count_of(len(plan.affected), 'dataset')}{also}?" if plan.rows else
                f"Remove what names them from mappings and test reports{also}?")
        if QMessageBox.question(
                self, "Forget a person", f"{what} This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Yes:
            return
        self._busy(True)
        self.found.setText("Removing…")
        job = Job.call(lambda _cancel: carry_out(workspace, plan, delete_runs=delete_runs,
                                                 reference=reference),
                       name="erasure", parent=self)
        job.ended.connect(lambda terminal: self._on_removed(terminal, plan))
        self.context.start(job)

    def _on_removed(self, terminal: object, plan: Any) -> None:
        self._busy(False)
        self.plan = None
        self.with_runs.hide()
        self.context.datasets_changed.emit()
        if not isinstance(terminal, Done):
            message = terminal.message if isinstance(terminal, Failed) else "Stopped."
            self.found.setText(f"Not removed: {message}")
            self._heard(self.find_button)
            return
        done = terminal.value
        self.values.blockSignals(True)  # what identified them is not kept on screen either
        self.values.clear()
        self.values.blockSignals(False)
        self.reference.clear()  # this request's case: the next one is another
        self.remove_button.setText("Remove")
        if done.runs_deleted:
            self.context.runs_changed.emit()
        lines = [f"Removed {count_of(n, 'row')} from {name}." for name, n in done.rows.items()]
        if done.pseudonyms:
            lines.append(f"Took {count_of(done.pseudonyms, 'pseudonym')} of theirs out of "
                         "reversible mappings.")
        if done.quotes:
            lines.append(f"Took {count_of(done.quotes, 'quoted row')} out of test reports.")
        kept = [r.run_id for r in plan.runs if r.run_id not in done.runs_deleted]
        if done.runs_deleted:
            lines.append(f"Deleted {count_of(len(done.runs_deleted), 'run')} trained on them.")
        if kept:
            verb = "is" if len(kept) == 1 else "are"
            lines.append(f"{count_of(len(kept), 'run')} trained on them {verb} "
                         "kept: a model can remember its training rows. Delete "
                         f"{'it' if len(kept) == 1 else 'them'} on the Runs page and train again.")
        unread = _unreadable_runs(self.context.workspace)
        if unread:  # what they were trained on cannot be told: the person's rows, perhaps
            one = len(unread) == 1
            lines.append(f"{count_of(len(unread), 'run')} whose record cannot be read could not "
                         f"be checked: {'its model' if one else 'their models'} may have been "
                         f"trained on these rows. Delete {'it' if one else 'them'} on the Runs "
                         "page.")
        for name in done.blocking:
            lines.append(f"{name} cannot be trained on as it is now: open it on this page to "
                         "see why (Train on it says so).")
        lines.append("Copies outside the vault (exported models, saved predictions) are yours to "
                     "delete.")
        if sum(done.rows.values()):
            lines.append(ERASED_FROM_BACKUPS)
        self.found.setText("\n".join(lines))
        self._heard(self.values)  # empty again, for the next request
        removed = count_of(sum(done.rows.values()), 'row')
        self.context.status_message.emit(f"Forgot a person: {removed} removed.")


def _unreadable_runs(workspace: Any) -> list[str]:
    from desktop.jobs import runs_and_unreadable

    try:
        return [run_id for run_id, _ in runs_and_unreadable(workspace)[1]] if workspace else []
    except Exception:  # noqa: BLE001 - the erasure is done; this note is no reason to fail it
        return []


def describe(plan: Any) -> str:
    """What the search found, a line a dataset, as plain text."""
    lines = []
    for part in plan.datasets:
        notes = []
        if part.anonymized_from and part.mapping_left is None:
            notes.append(f"    An anonymized copy of {part.anonymized_from}: searched for their "
                         "pseudonyms; the person written otherwise was replaced beyond search.")
        if part.name_named:
            notes.append("    The dataset's own name names them: rename it (Rename…).")
        if part.unsearched:
            notes.append(f"    {count_of(part.unsearched, 'row')} there may be about them: they "
                         "hold these values only through a pseudonym that also stands for "
                         "someone else, so none is removed. If one is about them, "
                         + clean_copy_advice(part) + ".")
        if not part.changes:
            lines += [f"{part.name}: nothing found", *notes]
            continue
        line = f"{part.name}: " + (f"{part.removed:,} of {part.rows:,} rows" if part.removed
                                   else "no row to remove")
        if part.through_pseudonyms:
            line += f" ({part.through_pseudonyms:,} of them by their pseudonyms)"
        if part.pseudonyms:
            line += f", {count_of(part.pseudonyms, 'pseudonym')} in its reversible mapping"
        if part.runs:
            line += f"; {count_of(len(part.runs), 'run')} trained on them"
        lines += [line, *notes]
        shown = part.matched(limit=SHOWN_ROWS, width=70)  # to check the matches by eye
        lines += [f"    row {number}: {text}" for number, text in shown]
        if part.removed > len(shown):
            lines.append(f"    … and {part.removed - len(shown):,} more")
        if part.shared:
            stand = "stands" if part.shared == 1 else "stand"
            lines.append(f"    {count_of(part.shared, 'pseudonym')} also {stand} for someone "
                         "else: they leave the mapping, their rows stay.")
        for what, n in part.broad:
            lines.append(f"    {what} match{'es' if what.startswith(chr(39)) else ''} {n:,} "
                         "rows, too many to be about one person: type a fuller value.")
        if part.removed == part.rows:
            lines.append(f"    Every row of {part.name} is about them: delete the whole dataset "
                         "instead (Delete…).")
    lines += plan.notes()
    if not plan.affected and not plan.reports:
        unsure = any(part.unsearched for part in plan.datasets)
        lines.append("No row is surely about them: nothing removed." if unsure or plan.damaged
                     else "No stored row names them: nothing to remove.")
    return "\n".join(lines)


def _why_not_removable(plan: Any) -> str:
    """``plan.refusal()`` in the app's words (it names command-line flags)."""
    if plan.whole:
        return (f"Not removed: every row of {', '.join(plan.whole)} is about them; delete the "
                "whole dataset instead (Delete… on the Datasets page).")
    return "Not removed: a value matches too many rows to be about one person; type a fuller value."
