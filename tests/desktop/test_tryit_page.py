"""Try it keeps nothing stale on screen: a cleared text, a deleted run, a failed batch; and it
says when the model read only the start of a long text."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.events import Failed
from tests.engine.test_prediction import train_tiny_run


@pytest.fixture()
def tryit(qtbot, window, tmp_path: Path):
    ws, run_id, csv = train_tiny_run(tmp_path / "trained")
    window.context.set_workspace(ws)
    window.show_page("tryit")
    page = window.tryit_page
    page.select_run(run_id)
    qtbot.waitUntil(lambda: page.predictor is not None, timeout=60_000)
    return page, ws, run_id, csv


def _ask(qtbot, page, text: str) -> None:
    with qtbot.waitSignal(page.prediction_shown, timeout=30_000):
        page.text.setPlainText(text)


def test_a_long_text_says_how_much_was_read_and_a_cleared_one_leaves_no_answer(qtbot, tryit):
    page, *_ = tryit
    limit = page.predictor.max_length
    _ask(qtbot, page, "win a prize")
    assert "Only the first" not in page.answer.text() and len(page.bars.values()) == 2
    words = " ".join(["free prize"] * limit)  # well past the run's max length
    _ask(qtbot, page, words)
    tokens = len(page.predictor.tokenizer(words)["input_ids"])
    assert tokens > limit
    # The caveat sits under the answer, in the page's own font, not in the answer's large one.
    assert (f"Only the first {limit} of its {tokens:,} tokens were read (the run's max length)"
            in page.read_note.text()) and page.read_note.isVisibleTo(page)
    assert "Only the first" not in page.answer.text()
    assert page.read_note.font().pointSizeF() < page.answer.font().pointSizeF()
    _ask(qtbot, page, "win a prize")  # a short text's answer has no caveat left beside it
    assert not page.read_note.isVisibleTo(page)
    _ask(qtbot, page, words)
    page.text.clear()
    qtbot.waitUntil(lambda: page.bars.values() == [], timeout=5_000)
    assert page.answer.text() == "Model ready. Type a text." and not page.read_note.isVisibleTo(page)


def test_ctrl_return_in_the_text_box_stays_there_and_the_answer_reaches_a_screen_reader(
        qtbot, window, tryit):
    from PySide6.QtTest import QTest

    page, *_ = tryit
    page.text.setFocus()
    qtbot.waitUntil(page.text.hasFocus, timeout=2_000)
    with qtbot.waitSignal(page.prediction_shown, timeout=30_000):
        QTest.keyClicks(page.text, "win a prize")
    # Ctrl+Return is the window's Start training: typed here it started a run.
    QTest.keyClick(page.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "tryit" and page.text.hasFocus()
    assert window.train_page.cancel_button.isEnabled() is False
    # The answer label takes no focus: the text box the user is on carries it, without tags.
    with qtbot.waitSignal(page.prediction_shown, timeout=30_000):
        QTest.keyClicks(page.text, " now")
    said = page.text.accessibleDescription()
    label = page.predictor.labels[0] if said.startswith(page.predictor.labels[0]) else page.predictor.labels[1]
    assert said.startswith(f"{label} — ") and said.endswith("% confident") and "<b>" not in said
    assert page.bars.accessibleDescription() and \
        page.bars.parentWidget().parentWidget().accessibleDescription() == page.bars.accessibleDescription()


def test_a_deleted_run_takes_its_last_answer_with_it(qtbot, window, tryit):
    from desktop.jobs import delete_runs

    page, ws, run_id, _ = tryit
    _ask(qtbot, page, "win a prize")
    assert page.bars.values()
    delete_runs(ws, [run_id])
    window.context.runs_changed.emit()
    page.refresh_runs()
    assert page.bars.values() == [] and page.predictor is None
    assert "No trained model yet" in page.answer.text()
    # Said once: the empty chart's "Nothing to show yet" under it is hidden.
    assert not page.bars.isVisibleTo(page)


def test_a_failed_batch_leaves_no_full_progress_bar(qtbot, tryit, tmp_path: Path, monkeypatch):
    import errno

    from privacy.vault import atomic

    page, _, _, csv = tryit
    progress: list[int] = []
    page.batch_progress.valueChanged.connect(progress.append)

    def disk_full(path, **_):  # the one edge faked: a disk that fills up as the file is written
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(atomic, "atomic_writer", disk_full)
    # Enough rows for the progress to show before the write fails.
    many = tmp_path / "many.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    many.write_text("\n".join([lines[0]] + lines[1:] * (3000 // max(1, len(lines) - 1))) + "\n",
                    encoding="utf-8")
    target = tmp_path / "out.csv"
    assert not page.batch_progress.isVisibleTo(page)  # an empty bar looked like a text box
    with qtbot.waitSignal(page.batch_ended, timeout=120_000) as ended:
        page.predict_batch(many, target)
    assert isinstance(ended.args[0], Failed)
    assert page.batch_status.text().startswith(f"✖ could not write {target}: No space left on device")
    assert max(progress) == page.batch_progress.maximum() > 0 and page.batch_progress.value() == 0
    assert page.batch_progress.isVisibleTo(page)
    assert not target.exists()
    assert page.batch_button.isEnabled()
    # A "folder" that is a file is called what it is, before any row is predicted.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with qtbot.waitSignal(page.batch_ended, timeout=60_000):
        page.predict_batch(csv, blocker / "out.csv")
    assert page.batch_status.text() == (f"✖ the folder {blocker} is a file, not a folder; pick "
                                        "another output path")


def test_an_answer_that_arrives_after_the_text_was_cleared_is_dropped(qtbot, tryit):
    page, *_ = tryit
    page.text.blockSignals(True)
    page.text.setPlainText("free prize " * 100_000)  # long enough to still be read after the clear
    page.text.blockSignals(False)
    page._predict()
    job = page._job
    assert job is not None and job.is_running()
    page.text.clear()
    page._predict()  # (what the debounce does 250 ms later) while the long text is still read
    assert job.is_running() and page.answer.text() == "Model ready. Type a text."
    qtbot.waitUntil(lambda: not job.is_running(), timeout=60_000)
    qtbot.wait(50)  # the job's end is delivered
    assert page.bars.values() == [] and page.answer.text() == "Model ready. Type a text."


def test_a_model_that_failed_to_load_loads_when_its_run_is_chosen_again(qtbot, window, tmp_path: Path,
                                                                       monkeypatch):
    """Choosing the run already shown did nothing, even after its load had failed: the user had
    to pick another run and come back."""
    import desktop.jobs

    ws, run_id, _csv = train_tiny_run(tmp_path / "trained")
    real = desktop.jobs.load_predictor
    calls: list[str] = []

    def fails_once(workspace, run):  # noqa: ANN001
        calls.append(run)
        if len(calls) == 1:
            raise OSError("the disk was busy")
        return real(workspace, run)

    monkeypatch.setattr(desktop.jobs, "load_predictor", fails_once)
    window.context.set_workspace(ws)
    window.show_page("tryit")
    page = window.tryit_page
    page.select_run(run_id)
    qtbot.waitUntil(lambda: page.answer.text().startswith("✖"), timeout=60_000)
    assert "Choose the run again to retry." in page.answer.text() and page.predictor is None
    page.select_run(run_id)
    qtbot.waitUntil(lambda: page.predictor is not None, timeout=60_000)
    assert calls == [run_id, run_id] and page.answer.text().startswith("Model ready")


def test_the_ml_stack_imports_from_several_threads_at_once(tmp_path: Path):
    """Two load jobs (or a load and the warm-up) resolving transformers' lazy names at the
    same moment failed with "cannot import name 'AutoModelForSequenceClassification'"; the jobs
    now import the stack one thread at a time. A fresh interpreter, where nothing is imported."""
    import subprocess
    import sys

    script = (
        "import threading, sys\n"
        "from desktop.jobs import import_ml_stack\n"
        "errors = []\n"
        "def go():\n"
        "    try:\n"
        "        import_ml_stack()\n"
        "        from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "threads = [threading.Thread(target=go) for _ in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print('errors', errors); sys.exit(1 if errors else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_batch_with_rows_without_text_says_their_cells_are_empty(qtbot, tryit, tmp_path: Path):
    page, *_ = tryit
    source = tmp_path / "with-blanks.csv"
    source.write_text('text\nwin a free prize now\n""\n   \nsee you at lunch\n', encoding="utf-8")
    target = tmp_path / "out.csv"
    with qtbot.waitSignal(page.batch_ended, timeout=60_000):
        page.predict_batch(source, target)
    assert "2 rows have no text: their prediction cells are empty." in page.batch_status.text()
    assert page.batch_status.text().startswith(f"✔ Predictions written to {target}")
    assert "longer than the model reads" not in page.batch_status.text()


def test_a_batch_says_how_many_texts_were_longer_than_the_model_reads(qtbot, tryit, tmp_path: Path):
    page, *_ = tryit
    source = tmp_path / "long.csv"
    source.write_text("text\n" + " ".join(["win a free prize now"] * 200) + "\nsee you at lunch\n",
                      encoding="utf-8")
    with qtbot.waitSignal(page.batch_ended, timeout=60_000):
        page.predict_batch(source, tmp_path / "out.csv")
    assert "1 text was longer than the model reads: only the first" in page.batch_status.text()
    assert page.batch_status.text().startswith("✔ Predictions written to")  # said, not a warning


def test_a_model_of_many_labels_says_which_columns_it_wrote_without_a_warning(
        qtbot, tryit, tmp_path: Path, monkeypatch):
    from engine.evaluation import prediction_columns

    page, *_ = tryit
    monkeypatch.setattr(prediction_columns, "MANY_LABELS", 1)  # as if two labels were many
    source = tmp_path / "in.csv"
    source.write_text("text\nwin a free prize now\nsee you at lunch\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    with qtbot.waitSignal(page.batch_ended, timeout=60_000):
        page.predict_batch(source, target)
    said = page.batch_status.text()
    assert said.startswith(f"✔ Predictions written to {target}")  # nothing is missing: no ⚠
    assert "The model has 2 labels: each row's 2 most probable are written" in said
    assert "top_2_label" in target.read_text(encoding="utf-8").splitlines()[0]



def test_a_batch_with_rows_that_cannot_be_read_says_they_are_not_in_the_output(qtbot, tryit,
                                                                               tmp_path: Path):
    # It said "✔ Predictions written" for a file two rows short of its input.
    page, *_ = tryit
    source = tmp_path / "ragged.csv"
    source.write_text("id,text\n1,win a free prize now\n2,see you, at lunch\n3,call me\n",
                      encoding="utf-8")
    target = tmp_path / "out.csv"
    with qtbot.waitSignal(page.batch_ended, timeout=60_000):
        page.predict_batch(source, target)
    said = page.batch_status.text()
    assert said.startswith(f"⚠ Predictions written to {target}")
    assert ("1 row of ragged.csv could not be read (line 3 has 3 fields where the header has 2)"
            in said and "They are not in the output: fix them and predict again." in said)

def test_the_save_dialog_suggests_the_sources_own_format_and_offers_the_others():
    # A workbook's predictions were suggested as .csv, and .xlsx was not offered at all.
    from desktop.pages.tryit import prediction_target

    default, filters = prediction_target(Path("/data/tickets_fr.xlsx"))
    assert default == Path("/data/tickets_fr-predictions.xlsx")
    assert filters.split(";;")[0] == "Excel workbook (*.xlsx)" and "CSV (*.csv)" in filters
    default, filters = prediction_target(Path("/data/messages.txt"))
    assert default.suffix == ".csv" and filters.startswith("CSV (*.csv)")


def test_a_workbook_of_several_sheets_asks_which_to_classify(qtbot, tryit, tmp_path: Path, monkeypatch):
    # The first sheet ("Übersicht") was classified, without a word of the sheet with the data.
    import openpyxl
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    page, *_ = tryit
    book = openpyxl.Workbook()
    book.active.title = "Übersicht"
    book.active.append(["text", "label"])
    book.active.append(["summary of the quarter", "x"])
    data = book.create_sheet("Tickets")
    data.append(["text"])
    for text in ("win a free prize now", "see you at lunch", "call me back"):
        data.append([text])
    source = tmp_path / "tickets.xlsx"
    book.save(source)
    target = tmp_path / "out.xlsx"
    asked: list[list[str]] = []

    def pick(_parent, _title, _label, items, *_args):  # noqa: ANN001, ANN202
        asked.append(list(items))
        return "Tickets", True

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(QInputDialog, "getItem", pick)
    with qtbot.waitSignal(page.batch_ended, timeout=60_000):
        page.choose_batch_files()
    assert asked == [["Übersicht", "Tickets"]]
    written = openpyxl.load_workbook(target, read_only=True)
    rows = list(written.active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["win a free prize now", "see you at lunch", "call me back"]
    assert "sheet 'Tickets'" in page.batch_status.text()


def test_an_unchanged_answer_is_not_said_again_and_plain_labels_keep_their_brackets(
        qtbot, tryit, monkeypatch):
    from desktop.accessible import spoken
    from tests.desktop.test_accessibility import _listening

    page, *_ = tryit
    heard = _listening(monkeypatch)
    _ask(qtbot, page, "win a prize")
    _ask(qtbot, page, "win a prize ")  # a pause in typing asks again: the same answer
    assert len(heard) == 1
    assert spoken("Labels: <none>, spam") == "Labels: <none>, spam"
    assert spoken("<b>&lt;none&gt;</b> — 51.0% confident") == "<none> — 51.0% confident"


def test_a_text_in_a_language_the_model_cannot_read_is_said_to_get_an_answer_that_says_little(qtbot, tryit):
    page, *_ = tryit
    _ask(qtbot, page, "请问营业时间是几点")  # the tiny vocabulary, like MiniLM's, has no Chinese
    assert page.read_note.isVisibleTo(page)
    assert page.read_note.text().startswith("The model does not know 100% of these words")
    _ask(qtbot, page, "win a prize")
    assert not page.read_note.isVisibleTo(page)



def test_a_run_deleted_from_the_command_line_stops_answering(qtbot, window, tryit, tmp_path: Path):
    # `cloister rm-run` in a terminal: the page kept answering, and wrote a prediction file,
    # with the deleted model (the audit log showed predict-file after run.deleted).
    from engine.runs import delete_run

    page, ws, run_id, csv = tryit
    _ask(qtbot, page, "win a prize")
    delete_run(ws, run_id)  # another process: no signal reaches this window
    target = tmp_path / "predictions.csv"
    page.predict_batch(csv, target)
    assert not target.exists()
    assert page.batch_status.text() == (f"✖ Run {run_id} was deleted (by another window or a "
                                        "command): nothing was predicted. Choose another run.")
    assert page.predictor is None and page.bars.values() == []
    page.text.setPlainText("you won a prize, call now")
    page._predict()  # what the typing debounce calls: nothing answers
    assert page.bars.values() == []
    page.predict_batch(csv, target)
    assert not target.exists() and page.batch_status.text() == "Choose a run first."
    actions = [e.action for e in ws.verify_audit().entries]
    assert "predict-file" not in actions[actions.index("run.deleted"):]


def test_a_long_unbroken_label_wraps_in_the_answer_and_is_said_whole(qtbot) -> None:
    """A label with no space or slash in it (a code, a German compound, a concatenated path)
    cannot wrap: the answer widened the prediction pane until the text box was 70 pixels wide
    and the confidence was cut off."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QLabel

    from desktop.accessible import spoken
    from desktop.pages.tryit import answer_text

    label = "Kreditkartenrückbuchungsreklamationsbearbeitungsabteilung" * 2 + "<eu>"
    said = answer_text(SimpleNamespace(label=label, confidence=0.501), False, 0.5)
    answer = QLabel(said)
    qtbot.addWidget(answer)
    answer.setWordWrap(True)
    whole = answer.fontMetrics().horizontalAdvance(label)
    assert answer.minimumSizeHint().width() < whole / 2  # it can wrap now
    assert spoken(said) == f"{label} — 50.1% confident"  # and a screen reader hears it whole
    assert answer_text(SimpleNamespace(label="spam", confidence=0.9), False, 0.5) == \
        "<b>spam</b> — 90.0% confident"  # short labels are untouched


def test_a_text_anonymized_before_the_model_read_it_says_what_was_read(qtbot, tryit):
    """A run trained on an anonymized copy reads typed text anonymized by the same policy: the
    page says what the model read ('<PHONE>' for the number typed), as plain text, not as a tag
    that vanished."""
    from engine.data.anonymized_inputs import anonymizer_for
    from privacy.pii.policy import parse_policy

    page, ws, *_ = tryit
    policy = parse_policy('[entities]\nPHONE = "tag"\ndefault = "keep"\n', source="policy.toml")
    page.predictor.anonymize = anonymizer_for(ws, policy, ("text",))
    _ask(qtbot, page, "win a prize, call 415-555-0132")
    assert page.read_note.isVisibleTo(page)
    assert page.read_note.text() == ("Anonymized as the run's training rows were, and read as: "
                                     "“win a prize, call <PHONE>”.")
    assert page.read_note.textFormat() == Qt.TextFormat.PlainText
    _ask(qtbot, page, "win a prize")  # nothing to anonymize: no note
    assert not page.read_note.isVisibleTo(page)


def test_locking_lets_go_of_every_model_try_it_loaded(qtbot, window, tryit):
    # Lock forgets "every decrypted thing": the page dropped its model, yet the jobs that
    # loaded it and answered with it (kept for the session) still held it, one per run tried.
    import gc
    import weakref

    page, *_ = tryit
    _ask(qtbot, page, "win a prize")
    _ask(qtbot, page, "lunch at noon?")
    model = weakref.ref(page.predictor)
    window.lock()
    qtbot.wait(10)
    gc.collect()
    assert model() is None
