"""Batch prediction over a file, as a nightly job meets it: rows without text, an output folder
that cannot be written, and progress in a log rather than on a terminal."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.events import Failed, Finished, Progress
from engine.evaluation.file_prediction import predict_file
from engine.evaluation.prediction import Predictor
from tests.engine.test_prediction import train_tiny_run
from tests.engine.tiny_model import TEST_PASSPHRASE


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("file-prediction")
    ws, run_id, source = train_tiny_run(root)
    texts = [row["text"] for row in csv.DictReader(source.open(encoding="utf-8"))]
    return ws, run_id, texts, root / "workspace"


def _write(path: Path, texts: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    return path


def test_rows_without_text_get_empty_prediction_cells_and_are_counted(run, tmp_path: Path) -> None:
    # Each got "ham 0.57", read from nothing, and nothing said so.
    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    rows = [texts[0], "", "   ", texts[1], "\t \t", texts[2]]
    output = tmp_path / "out.csv"
    events = list(predict_file(predictor, _write(tmp_path / "in.csv", rows), output))
    assert isinstance(events[-1], Finished)
    assert events[-1].metrics == {"rows": 6.0, "rows_without_text": 3.0, "formula_like_cells": 0.0,
                                  "rows_not_read": 0.0, "texts_cut": 0.0}
    assert events[-1].notes == ()
    first = next(e for e in events if isinstance(e, Progress))
    assert first.total == 3 and "(3 without text get no prediction)" in first.message
    written = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [r["text"] for r in written] == rows  # every row is kept, in order
    for i in (1, 2, 4):
        assert written[i]["predicted_label"] == written[i]["confidence"] == written[i]["prob_spam"] == ""
    expected = predictor.predict_proba([texts[0], texts[1], texts[2]])
    got = np.array([[float(written[i]["prob_ham"]), float(written[i]["prob_spam"])] for i in (0, 3, 5)])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_an_output_folder_that_cannot_be_written_is_refused_before_predicting(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It was found only after every row had been predicted (a minute of a 50,000-row file).
    # Running as root here, a read-only folder is simulated at the one call that finds out.
    import errno
    import tempfile

    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")

    def read_only(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    events = list(predict_file(predictor, _write(tmp_path / "in.csv", texts[:5]), tmp_path / "o.csv"))
    assert len(events) == 1 and isinstance(events[0], Failed)  # no Progress: nothing predicted
    assert events[0].message.startswith(f"cannot write to the folder {tmp_path}: Read-only file system")
    assert not (tmp_path / "o.csv").exists()


def test_a_log_gets_plain_progress_lines_and_the_count_without_text(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Not a terminal: a nightly job's log had one line, then nothing until the end.
    from engine.cli import predict_file_cmd

    _, run_id, texts, root = run
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.setattr(predict_file_cmd, "LOG_PROGRESS_MIN_S", 0.0)
    source = _write(tmp_path / "big.csv", (texts * 5)[:200] + [""])
    code = main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "p.csv"),
                 "--batch-size", "8", "--workspace", str(root)])
    out, err = capsys.readouterr()
    assert code == 0
    lines = [line for line in err.splitlines() if "rows predicted (" in line]
    # One line per further tenth (batches of 8 rows cross each one), never a bar's \r frames.
    assert [int(line.split("(")[-1].rstrip("%)")) // 10 for line in lines] == list(range(1, 10))
    assert "\r" not in err
    assert "1 of them had no text: their prediction cells are left empty" in err
    assert "201 rows predicted in" in out
    code = main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "q.csv"),
                 "--json", "--workspace", str(root)])
    assert code == 0 and json.loads(capsys.readouterr().out)["rows_without_text"] == 1


def test_a_full_workspace_disk_is_named_not_the_output_that_was_written(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The output's disk had space; the workspace's audit log could not grow. The message sent
    # the administrator to the output's disk.
    import errno

    from engine.events import FailureKind

    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")

    from privacy.vault.audit import AuditLog

    def full(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(AuditLog, "append", full)  # the disk under the real audit path
    output = tmp_path / "o.csv"
    events = list(predict_file(predictor, _write(tmp_path / "in.csv", texts[:5]), output, ws=ws))
    assert isinstance(events[-1], Failed) and events[-1].kind is FailureKind.DISK
    assert events[-1].message == (
        "the predictions were not kept: the workspace's audit log could not record them (No space "
        f"left on device); free space on the workspace's disk ({Path(ws.root)}) and predict again")
    assert not output.exists()  # plaintext rows outside the vault never go unlogged


def test_an_output_replaced_is_kept_when_the_audit_log_refuses_and_a_read_only_disk_is_said(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With --overwrite, the new predictions replaced the old file, then the audit entry was
    # refused (a workspace on read-only media, or its disk full) and the new file was removed:
    # the user's earlier predictions were gone. And a read-only disk was told to free space.
    import errno

    from privacy.vault.audit import AuditLog

    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    output = tmp_path / "o.csv"
    output.write_text("earlier predictions\n", encoding="utf-8")

    def read_only(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        raise OSError(errno.EROFS, "Read-only file system", str(Path(ws.root) / ".lock"))

    monkeypatch.setattr(AuditLog, "append", read_only)
    events = list(predict_file(predictor, _write(tmp_path / "in.csv", texts[:5]), output, ws=ws,
                               overwrite=True))
    assert isinstance(events[-1], Failed)
    assert output.read_text(encoding="utf-8") == "earlier predictions\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]  # none left
    assert events[-1].message == (
        "the predictions were not kept: the workspace's audit log could not record them "
        f"(Read-only file system): the workspace ({Path(ws.root)}) is on a read-only disk, and "
        "predicting a file is recorded in its audit log; make that disk writable (or copy the "
        f"workspace to one that is) and predict again; {output} is as it was")


def test_cells_a_spreadsheet_would_run_as_formulas_are_counted_and_warned_of(
        run, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # A complaint reading =HYPERLINK(...) came back verbatim in the CSV, and Excel runs it.
    ws, run_id, texts, root = run
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    rows = ['=HYPERLINK("http://example.com","refund")', "+33 1 42 68 53 00 called", "-5.3 degrees",
            "@support please help", "- a list item", texts[0]]
    source = _write(tmp_path / "risky.csv", rows)
    code = main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "p.csv"),
                 "--json", "--workspace", str(root)])
    said = capsys.readouterr()
    # "-5.3 degrees" too: a spreadsheet reads a cell starting with "-" as a formula unless it is
    # a number alone (which "-2+3+cmd|..." below also starts like).
    assert code == 0 and json.loads(said.out)["formula_like_cells"] == 5
    assert "warning: 5 cells of p.csv start with =, +, - or @" in said.err
    # Among the JSON's warnings too: a script reading "warnings" saw [] beside it.
    assert json.loads(said.out)["warnings"][0].startswith("5 cells of p.csv start with =")
    # Excel's DDE after a minus and a digit, and a formula for a column name, went unwarned.
    dde = tmp_path / "dde.csv"
    with dde.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([['=HYPERLINK("http://example.com","x")', "id"],
                                      ["-2+3+cmd|' /C calc'!A0", "-12.5"],
                                      ["(555) 123", "+44 (20) 7946 0958"]])
    code = main(["predict", run_id, "--input", str(dde), "--output", str(tmp_path / "d.csv"),
                 "--text-column", "id", "--json", "--workspace", str(root)])
    said = capsys.readouterr()
    assert code == 0 and json.loads(said.out)["formula_like_cells"] == 2, said.err
    # An .xlsx keeps them as text: nothing to warn of.
    code = main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "p.xlsx"),
                 "--json", "--workspace", str(root)])
    said = capsys.readouterr()
    assert code == 0 and json.loads(said.out)["formula_like_cells"] == 0 and "warning" not in said.err


def test_a_plain_list_of_texts_one_a_line_is_predicted_line_by_line(run, tmp_path: Path) -> None:
    # "not recognisably CSV, TSV or JSON": a .txt of one text per line was refused, though a
    # list of texts is all a prediction needs.
    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    lines = ["Win a FREE prize now, text WIN to 80086", "", "see you at lunch; bring the notes",
             "ok"]
    source = tmp_path / "messages.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    events = list(predict_file(predictor, source, output))
    assert isinstance(events[-1], Finished), events[-1]
    written = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [r["text"] for r in written] == lines and written[1]["predicted_label"] == ""
    expected = predictor.predict_proba([lines[0], lines[2], lines[3]])
    got = np.array([[float(written[i]["prob_ham"]), float(written[i]["prob_spam"])] for i in (0, 2, 3)])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # A dataset still needs a table: importing it says what a dataset file is.
    from engine.data.importing import NotTabular, read_table

    with pytest.raises(NotTabular, match="not recognisably CSV, TSV or JSON"):
        read_table(source)


def test_the_output_keeps_the_inputs_values_as_written(run, tmp_path: Path) -> None:
    # Imports are stored NFC; a file written back with predictions is not an import: its key
    # columns must still join with the source byte for byte (macOS writes accents decomposed).
    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    key = ["Rene\u0301-1", "Zoe\u0308-2"]
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["client", "text"])
        writer.writerows(zip(key, texts[:2]))
    output = tmp_path / "out.csv"
    events = list(predict_file(predictor, source, output))
    assert isinstance(events[-1], Finished), events[-1]
    assert [r["client"] for r in csv.DictReader(output.open(encoding="utf-8"))] == key


def test_a_csv_from_european_excel_gets_its_predictions_back_in_excels_own_conventions(
        run, tmp_path: Path) -> None:
    # Written UTF-8 without a BOM, comma-separated with decimal points, German Excel opened it
    # as one column of "LieferverzÃ¶gerung".
    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    source = tmp_path / "tickets.csv"
    source.write_bytes(("Beschreibung;Betrag\n" + "".join(f"{t.replace(';', ',')} – Verzögerung;{i},50\n"
                                                           for i, t in enumerate(texts[:5]))).encode("cp1252"))
    output = tmp_path / "out.csv"
    events = list(predict_file(predictor, source, output, text_column="Beschreibung"))
    assert isinstance(events[-1], Finished), events[-1]
    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 that Excel recognises as such
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert [r["Betrag"] for r in rows] == [f"{i},50" for i in range(5)]
    assert rows[0]["Beschreibung"].endswith("– Verzögerung")
    assert "," in rows[0]["confidence"] and "." not in rows[0]["confidence"]
    assert abs(float(rows[0]["prob_ham"].replace(",", ".")) + float(rows[0]["prob_spam"].replace(",", ".")) - 1) < 1e-4
    # A plain UTF-8 comma file is written as before: no BOM, commas, decimal points.
    plain = _write(tmp_path / "plain.csv", texts[:3])
    list(predict_file(predictor, plain, tmp_path / "plain-out.csv"))
    written = (tmp_path / "plain-out.csv").read_bytes()
    assert not written.startswith(b"\xef\xbb\xbf")
    assert "." in next(csv.DictReader(written.decode().splitlines()))["confidence"]


def test_rows_with_the_wrong_number_of_fields_are_named_not_silently_left_out(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # A 5-row file gave "3 rows predicted" and a 3-row output, and nothing said two were missing
    # (inspect names them; predict did not): a join on the output lost them without a word.
    _, run_id, texts, root = run
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    source = tmp_path / "ragged.csv"
    source.write_text(f"id,text,note\n1,{texts[0]},ok\n2,{texts[1]}\n3,Too,many,cells,here\n"
                      f"4,{texts[2]},ok\n", encoding="utf-8")
    code = main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "p.csv"),
                 "--workspace", str(root)])
    out, err = capsys.readouterr()
    assert code == 0 and "2 rows predicted" in out
    assert ("warning: 2 rows of ragged.csv could not be read (line 3 has 2 fields where the header "
            "has 3; line 4 has 5 fields where the header has 3)") in err
    assert "They are not in the output: fix them and predict again." in err
    assert "comma" in err  # how to fix them: quote the delimiter
    written = list(csv.DictReader((tmp_path / "p.csv").open(encoding="utf-8")))
    assert [r["id"] for r in written] == ["1", "4"]
    code = main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "q.csv"),
                 "--json", "--workspace", str(root)])
    said = capsys.readouterr()
    data = json.loads(said.out)
    assert code == 0 and data["rows"] == 2 and data["rows_not_read"] == 2
    assert len(data["warnings"]) == 1 and "line 3 has 2 fields" in data["warnings"][0]
    # A whole file says nothing of the kind.
    code = main(["predict", run_id, "--input", str(_write(tmp_path / "whole.csv", texts[:3])),
                 "--output", str(tmp_path / "w.csv"), "--json", "--workspace", str(root)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["rows_not_read"] == 0 and data["warnings"] == []


def test_large_counts_are_written_with_thousands_separators(capsys: pytest.CaptureFixture[str]) -> None:
    # "2048/800000 rows" on an 800,000-row file.
    from engine.cli.predict_file_cmd import _bar

    _bar(2048, 800_000)
    assert capsys.readouterr().err.endswith("] 2,048/800,000 rows")


def test_a_model_of_many_labels_writes_each_rows_most_probable_not_a_column_per_label(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 diagnosis codes once made 5,000 prob_ columns and ~25 GB for 60,000 rows."""
    from engine.evaluation import prediction_columns

    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    rows = [texts[0], "", texts[1], texts[2]]
    monkeypatch.setattr(prediction_columns, "MANY_LABELS", 1)  # as if two labels were many
    output = tmp_path / "out.csv"
    events = list(predict_file(predictor, _write(tmp_path / "in.csv", rows), output))
    assert isinstance(events[-1], Finished)
    assert events[-1].notes == ()  # no warning: nothing is missing from the output
    assert events[-1].info == ("The model has 2 labels: each row's 2 most probable are written "
                               "(top_1_label, top_1_prob, ... top_2_prob), not a column per "
                               "label.",)
    written = list(csv.DictReader(output.open(encoding="utf-8")))
    assert list(written[0]) == ["text", "predicted_label", "confidence", "top_1_label",
                                "top_1_prob", "top_2_label", "top_2_prob"]
    assert written[1]["top_1_label"] == written[1]["top_2_prob"] == ""  # no text, no prediction
    probs = predictor.predict_proba([texts[0], texts[1], texts[2]])
    for line, p in zip((0, 2, 3), probs):
        order = np.argsort(-p, kind="stable")
        assert [written[line]["top_1_label"], written[line]["top_2_label"]] == [
            predictor.labels[i] for i in order]
        assert written[line]["predicted_label"] == written[line]["top_1_label"]
        np.testing.assert_allclose([float(written[line]["top_1_prob"]),
                                    float(written[line]["top_2_prob"])], p[order], atol=1e-6)
    # Asked for, the user's number is used and nothing is said about it.
    asked = list(predict_file(predictor, tmp_path / "in.csv", tmp_path / "one.csv", top_k=1))
    assert asked[-1].info == () and "top_2_label" not in (tmp_path / "one.csv").read_text()
    # Predicting a file of predictions again, in another layout: no old columns are left.
    again = list(predict_file(predictor, output, tmp_path / "again.csv", top_k=1))
    assert isinstance(again[-1], Finished)
    header = next(csv.reader((tmp_path / "again.csv").open(encoding="utf-8")))
    assert header == ["text", "predicted_label", "confidence", "top_1_label", "top_1_prob"]
    monkeypatch.setattr(prediction_columns, "MANY_LABELS", 50)
    every = list(predict_file(predictor, output, tmp_path / "every.csv"))
    assert isinstance(every[-1], Finished)
    header = next(csv.reader((tmp_path / "every.csv").open(encoding="utf-8")))
    assert header == ["text", "predicted_label", "confidence", "prob_ham", "prob_spam"]
    refused = list(predict_file(predictor, tmp_path / "in.csv", tmp_path / "none.csv", top_k=0))
    assert isinstance(refused[-1], Failed) and "top-k must be 1 or more" in refused[-1].message


def test_prediction_columns_keep_rows_times_k_and_match_a_column_per_label() -> None:
    from engine.evaluation.prediction_columns import PredictionColumns, top_k_for

    assert [top_k_for(n, None) for n in (2, 50, 51, 5000)] == [None, None, 5, 5]
    assert top_k_for(3, 10) == 3 and top_k_for(5000, 2) == 2
    labels = tuple(f"code{i}" for i in range(300))
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(300), size=40).astype(np.float32)
    top = PredictionColumns(labels, 40, k=3)
    every = PredictionColumns(labels, 40, k=None)
    for start in range(0, 40, 16):  # batches in any order of rows, as iter_proba gives them
        rows = np.arange(start, min(40, start + 16))[::-1]
        top.add(rows, probs[rows])
        every.add(rows, probs[rows])
    assert top.top.nbytes == 40 * 3 * 8 and not hasattr(top, "probs")
    a, b = top.arrays(), every.arrays()
    assert a["predicted_label"].to_pylist() == b["predicted_label"].to_pylist()
    assert a["top_1_label"].to_pylist() == [labels[i] for i in probs.argmax(axis=1)]
    third = np.sort(probs, axis=1)[:, -3]
    np.testing.assert_allclose(a["top_3_prob"].to_numpy(), third, rtol=1e-6)
    assert len(b) == 2 + 300 and len(a) == 2 + 2 * 3
    multi = PredictionColumns(("a", "b", "c"), 2, k=2, multi_label=True, threshold=0.5)
    multi.add(np.array([0, 1]), np.array([[0.9, 0.2, 0.6], [0.1, 0.3, 0.2]], dtype=np.float32))
    assert multi.arrays()["predicted_label"].to_pylist() == ["a|c", ""]
    assert multi.arrays()["top_2_label"].to_pylist() == ["c", "c"]


def test_a_column_of_the_users_own_that_the_output_replaces_is_named(run, tmp_path: Path) -> None:
    """An input column "confidence" ("high"/"low") was dropped for the model's with no word;
    a file of earlier predictions is predicted again without one."""
    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    source = tmp_path / "mine.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "confidence"])
        writer.writerows([[texts[0], "high"], [texts[1], "low"]])
    first = list(predict_file(predictor, source, tmp_path / "out.csv"))[-1]
    assert isinstance(first, Finished), first
    assert first.notes == ("column 'confidence' of mine.csv held the output's name: the predictions "
                           "took its place; rename it in the input to keep both.",)
    again = list(predict_file(predictor, tmp_path / "out.csv", tmp_path / "again.csv"))[-1]
    assert isinstance(again, Finished) and again.notes == ()


def test_texts_longer_than_the_model_reads_are_counted_and_said(run, tmp_path: Path, capsys,
                                                                  monkeypatch) -> None:
    """Try it said when a text was cut; a file's predictions never did."""
    ws, run_id, texts, root = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)  # max length 32
    long = " ".join(["free cash prize call now"] * 20)
    source = _write(tmp_path / "long.csv", [texts[0], long, long])
    finished = list(predict_file(predictor, source, tmp_path / "out.csv"))[-1]
    assert isinstance(finished, Finished) and finished.metrics["texts_cut"] == 2.0
    assert predictor.cut_said(2) == ("2 texts were longer than the model reads: only the first 32 "
                                     "tokens (its max length) of each counted, as in training.")
    monkeypatch.setenv("CLOISTER_WORKSPACE", str(root))
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    assert main(["predict", run_id, "--input", str(source), "--output", str(tmp_path / "o2.csv"),
                 "--device", "cpu"]) == 0
    assert "cloister: note: 2 texts were longer than the model reads" in capsys.readouterr().err


def test_parquet_predicted_into_parquet_keeps_its_column_types(run, tmp_path: Path) -> None:
    """Integers, floats and timestamps came back as text, which broke the pipelines reading them."""
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    source = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2], pa.int64()), "score": [2.5, 0.5],
                             "when": pa.array([datetime.datetime(2024, 1, 1)] * 2, pa.timestamp("ms")),
                             "text": texts[:2]}), source)
    finished = list(predict_file(predictor, source, tmp_path / "out.parquet"))[-1]
    assert isinstance(finished, Finished), finished
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("id").type == pa.int64() and out.column("id").to_pylist() == [1, 2]
    assert out.schema.field("score").type == pa.float64()
    assert out.schema.field("when").type == pa.timestamp("ms")
    assert out.column("predicted_label").to_pylist() == [p.label for p in predictor.predict(texts[:2])]


def test_a_workbook_predicted_into_a_workbook_keeps_its_sheet_name_and_numbers(run, tmp_path: Path) -> None:
    """A Polish bank's 'Zgłoszenia' sheet came back as 'Sheet1', its amounts as text cells."""
    import openpyxl

    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Zgłoszenia"
    sheet.append(["Kwota", "Numer", "text"])
    sheet.append([220.5, "00042", texts[0]])
    sheet.append([-3, "00043", texts[1]])
    book.save(tmp_path / "in.xlsx")
    finished = list(predict_file(predictor, tmp_path / "in.xlsx", tmp_path / "out.xlsx"))[-1]
    assert isinstance(finished, Finished), finished
    out = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert out.sheetnames == ["Zgłoszenia"]
    rows = list(out["Zgłoszenia"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Kwota", "Numer", "text")
    assert rows[1][:2] == (220.5, "00042") and rows[2][:2] == (-3, "00043")  # the id stays text
    assert isinstance(rows[1][4], float)  # the confidence is a number, as before


@pytest.mark.parametrize("suffix", ["jsonl", "json"])
def test_json_predicted_into_json_keeps_each_object_as_written(run, tmp_path: Path, suffix: str) -> None:
    """Numbers and booleans came back as text, and nested objects as "meta.src" keys."""
    ws, run_id, texts, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    records = [{"id": 1, "score": 2.5, "flag": True, "meta": {"src": "app"}, "text": texts[0],
                "confidence": "high"},
               {"id": 2, "score": None, "flag": False, "meta": {"src": "web"}, "text": ""}]
    source = tmp_path / f"in.{suffix}"
    source.write_text(json.dumps(records) if suffix == "json"
                      else "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    finished = list(predict_file(predictor, source, tmp_path / f"out.{suffix}"))[-1]
    assert isinstance(finished, Finished), finished
    text = (tmp_path / f"out.{suffix}").read_text(encoding="utf-8")
    out = json.loads(text) if suffix == "json" else [json.loads(line) for line in text.splitlines()]
    assert [{k: r[k] for k in ("id", "score", "flag", "meta")} for r in out] == \
        [{k: r[k] for k in ("id", "score", "flag", "meta")} for r in records]
    assert out[0]["predicted_label"] == predictor.predict([texts[0]])[0].label
    assert isinstance(out[0]["confidence"], float)  # the model's, in place of the user's own,
    assert "column 'confidence'" in finished.notes[0]  # and said
    assert out[1]["predicted_label"] is None  # no text, no prediction


def test_on_windows_a_file_open_in_excel_is_said_so(tmp_path: Path, monkeypatch) -> None:
    """Windows refuses to replace a file another program has open: the predictions of the last
    run, open in Excel. The message named the folder, its rights and free space instead."""
    import sys

    from engine.evaluation.file_prediction import _failed

    out = tmp_path / "predictions.csv"
    out.write_text("old", encoding="utf-8")
    # What os.replace raises there: the temporary file first, the file it replaces second.
    refused = PermissionError(13, "Access is denied", str(tmp_path / ".tmp-x.part"), None, str(out))
    monkeypatch.setattr(sys, "platform", "win32")
    assert "another program has it open" in _failed(refused, out).message
    assert "another program" not in _failed(refused, tmp_path / "new.csv").message  # not there
    # The folder refused the temporary file: its rights, not another program.
    folder = PermissionError(13, "Access is denied", str(tmp_path / ".tmp-y.part"))
    assert "is writable" in _failed(folder, out).message
    monkeypatch.setattr(sys, "platform", "linux")
    assert "is writable" in _failed(refused, out).message  # elsewhere: rights, as before
