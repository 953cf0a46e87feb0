"""What the Datasets page shows of a file before it is imported: read it, map its columns,
validate it and suggest fixes (on the worker thread), and the problems' heading."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.state import ImportDraft
from engine.data.problems import count_kinds


def read_and_check(path: Path, *, text_column: str | None = None, label_column: str | None = None,
                   skip_incomplete: bool = False, imported: Any = None,
                   history: list[dict[str, Any]] | None = None,
                   label_delimiter: str | None = None, sheet: str | None = None,
                   encoding: str | None = None, cancel: Any = None,
                   label_columns: Any = None) -> ImportDraft:
    """Worker-thread body: read (unless already read), map columns, validate.

    Without ``text_column`` the columns are inferred; with it, ``label_column`` is taken as
    given (None meaning an unlabelled dataset). With ``label_delimiter`` a row carries several
    labels: classes are counted label by label, and the fixes that drop or relabel whole rows
    by class are not offered (they would take a row's other labels with it). ``sheet``: the
    Excel sheet to read (default: the first); ``encoding``: a CSV's (default: detected).
    ``cancel``: a token looked at once the file is read (the parser itself cannot stop).
    ``label_columns``: "auto" reads the columns of 0/1 values (a hint's, besides the text) as
    one label each, several a row, into one label column; the ``LabelColumns`` a draft was
    read with keeps its problems said of those columns while that column is the label.
    """
    from engine.data.columns import ColumnMapping, infer_mapping
    from engine.data.fix_suggest import suggest_fixes
    from engine.data.multi_label_checks import class_fixes_read_as_one_label
    from engine.data.importing import read_table
    from engine.data.validation import validate

    imported = imported if imported is not None else read_table(path, sheet=sheet, encoding=encoding)
    if cancel is not None and cancel.cancelled:  # Cancel pressed while the file was read
        from engine.errors import Stopped

        raise Stopped("stopped: nothing was read in")
    from engine.data.label_columns import (AUTO, as_read, read_label_columns, wanted_columns,
                                           with_pick_problem)

    read = label_columns if label_columns != AUTO else None
    if label_columns == AUTO:
        names = wanted_columns([AUTO], imported, [text_column] if text_column else ())
        imported, read = read_label_columns(imported, names)
        label_column, label_delimiter = read.label_column, read.delimiter
    if text_column is None:
        mapping = infer_mapping(imported)  # a new file: propose the columns
    else:
        # The user's explicit choice, "no label column" included (choose() would infer one).
        mapping = ColumnMapping(text_columns=(text_column,), label_column=label_column)
    label_delimiter = label_delimiter if mapping.label_column else None
    # A merge of spellings made label by label (with a delimiter) kept each row's other labels.
    by_class = class_fixes_read_as_one_label(history)
    if label_delimiter and by_class:
        from engine.errors import InputError

        raise InputError(f"The labels were already changed class by class ({'; '.join(by_class)}) "
                         "while each cell was read as one label; with several labels a row that "
                         "would have dropped or relabelled a row's other labels too. Discard and "
                         "open the file again to read several labels a row.")
    problems = validate(imported, mapping, skip_incomplete=skip_incomplete,
                        label_delimiter=label_delimiter)
    read = read if read is not None and label_delimiter and label_column == read.label_column else None
    if read is not None:  # said of the 0/1 columns the user knows, not of the joined one
        problems = as_read(problems, read, imported)
    elif not label_delimiter:  # the label one of two 0/1 columns: both readings said
        problems = with_pick_problem(problems, imported, mapping.text_columns, mapping.label_column)
    options = suggest_fixes(imported.table, mapping, problems, label_delimiter=label_delimiter)
    return ImportDraft(imported=imported, mapping=mapping, problems=list(problems),
                       history=list(history or []), fix_options=options,
                       label_delimiter=label_delimiter, label_columns=read)


def hint_click(page: Any, problem: Any) -> bool:
    """A click on a hint that says how to read the labels reads them so (True): labels joined
    with '|' or ';' tick "Several labels per row"; columns of 0/1 values are read as one label
    each, several a row."""
    if problem is None or page.draft is None:
        return False
    if problem.code == "looks-multi-label" and not page.multi_box.isChecked():
        from engine.data.multi_label_checks import hinted_delimiter

        page.delimiter_edit.setText(hinted_delimiter(problem))  # "|" or ";", as it says
        page.multi_box.setChecked(True)  # revalidates
        return True
    if problem.code == "indicator-columns":
        draft, skip = page.draft, page.skip_box.isChecked()
        page._run(lambda _c: read_and_check(draft.imported.source, text_column=draft.text_column,
                                            label_column=None, skip_incomplete=skip,
                                            imported=draft.imported, history=draft.history,
                                            label_columns="auto"),
                  name="validate", message="Reading the 0/1 columns as labels…")
        return True
    return False


_SEVERITY_MARK = {"error": "✖", "warning": "⚠", "info": "ℹ"}
# Hints that name a command-line flag, said the way this page does it.
_PAGE_HINTS = {"legacy-encoding": "If letters look wrong, choose the encoding the file was saved "
               "in, in the Encoding box above (or export it again as UTF-8).",
               "looks-multi-label": "If a row can carry several classes, tick “Several labels per "
               "row” above (or click here): each label is then counted, and trained, on its own.",
               "indicator-columns": "Click here to read these columns as the labels: a row "
               "carries each label whose cell is 1 (several a row), one with none carries none. "
               "If one of them is the only label and the others are 0/1 features, choose it "
               "under Label column above instead.",
               "unreadable-rows": "Quote the fields that hold the delimiter and export the file "
               "again, or tick “Leave out rows … that cannot be read” above."}


# The label picked is one of two 0/1 columns (is_spam beside has_link): a warning, not the
# error of three or more, and the click reads both as labels.
_TWO_COLUMNS_HINT = ("Read as it is, the label column chosen above is one yes/no label and the "
                     "other 0/1 column is not read. If each is a label of its own, several a "
                     "row, click here to read both as the labels.")


def _page_hint(problem: Any) -> str:
    if problem.code == "indicator-columns" and not problem.blocking:
        return _TWO_COLUMNS_HINT
    return _PAGE_HINTS.get(problem.code, problem.hint)


def lock_reading_options(page: Any, labelled: bool) -> None:
    """The multi-label box and its separator, enabled where a label column is read. Labels read
    from 0/1 columns lock them, saying why: unticked, the cells Cloister joined ('toxic|insult',
    a lone '|' for none) would be read as classes of one label."""
    read = page.draft.label_columns if page.draft is not None else None
    for widget in (page.multi_box, page.delimiter_edit):
        widget.setEnabled(labelled and read is None)
    page.multi_box.setToolTip(
        f"The labels are read from the 0/1 columns {', '.join(read.columns)}, several a row. To "
        "read the file otherwise, open it again." if read is not None else "")


def problem_lines(problems: list[Any]) -> list[tuple[Any, str, str]]:
    """(problem, its line in the list, its hint) for each problem. The file is named once above
    the table, so a line names row and column only; each kind's hint is said on its first line
    only (275 empty rows need it once), and is every line's tooltip."""
    lines, hinted = [], set()
    for problem in problems:
        parts = [f"row {problem.row:,}"] if problem.row is not None else []
        if problem.column:
            parts.append(f"column {problem.column!r}")
        where = ", ".join(parts)
        text = f"{_SEVERITY_MARK.get(problem.severity.value, '')} {where + ': ' if where else ''}{problem.message}"
        hint = _page_hint(problem)
        if hint and (problem.code, hint) not in hinted:
            hinted.add((problem.code, hint))
            text += f"\n{hint}"
        lines.append((problem, text, hint))
    return lines


def problems_title(problems: list[Any]) -> str:
    """Counted by kind, as the Fix buttons are, not by entry: one kind can list a hundred rows
    (or the first few and a summary), and "24 errors" beside "275 rows in all" confuses."""
    if not problems:
        return "Problems — none found"
    parts = [f"{count_kinds(problems, blocking=True)} to fix before importing"] \
        if any(p.blocking for p in problems) else []
    parts += [f"{count_kinds(problems, blocking=False)} to review"] \
        if not all(p.blocking for p in problems) else []
    return "Problems — " + ", ".join(parts)


def fill_problem_list(widget: Any, problems: list[Any]) -> None:
    """``widget`` (a QListWidget) shows ``problems``: a line each, its hint on hover, blocking
    ones in red; each item carries its problem (``UserRole``) for a click to find its row."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QListWidgetItem

    widget.clear()
    light = widget.palette().color(QPalette.ColorRole.Base).lightness() > 128
    for problem, text, hint in problem_lines(problems):
        item = QListWidgetItem(text)
        item.setToolTip(hint)  # on every one of the kind, on hover
        item.setData(Qt.ItemDataRole.UserRole, problem)
        if problem.blocking:
            item.setForeground(QColor("#c0392b") if light else QColor("#ff8a80"))
        widget.addItem(item)


def problem_cell(draft: Any, problem: Any, rows: int) -> tuple[int, int] | None:
    """The preview cell a problem points at: its row, and its column (the text's where it names
    none shown); None for a problem of no row, or of a row the preview does not hold."""
    if problem is None or problem.row is None or draft is None or not 0 < problem.row <= rows:
        return None
    columns = draft.columns
    return problem.row - 1, (columns.index(problem.column) if problem.column in columns
                             else columns.index(draft.text_column))
