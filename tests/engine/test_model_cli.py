"""``cloister evaluate / predict / export / open-export`` end to end, in process."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from engine.evaluation.metrics import accuracy_interval

from engine.cli import main
from engine.evaluation.report import load_report
from engine.evaluation.prediction import Predictor
from tests.engine.test_prediction import train_tiny_run, write_sms_csv
from tests.engine.tiny_model import TEST_PASSPHRASE


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cli-run")
    ws, run_id, csv = train_tiny_run(root)
    return ws, run_id, csv, root / "workspace"


@pytest.fixture
def cli(trained, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run ``cloister ARGS`` against the trained workspace -> (exit code, stdout, stderr)."""
    _, _, _, root = trained
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.delenv("CLOISTER_EXPORT_PASSPHRASE", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--workspace", str(root)] if args[0] != "open-export" else list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_evaluate_on_the_test_split_matches_the_stored_report(trained, cli) -> None:
    ws, run_id, _, _ = trained
    before = load_report(ws, run_id)
    code, out, _ = cli("evaluate", run_id, "--json", "--device", "cpu")
    assert code == 0
    data = json.loads(out)
    assert data["accuracy"] == pytest.approx(before.accuracy)
    assert data["confusion"] == [list(r) for r in before.confusion]
    assert data["misclassified"] == [] and data["misclassified_total"] == len(before.misclassified)
    code, out, _ = cli("evaluate", run_id, "--misclassified", "1")
    assert code == 0 and f"accuracy     {before.accuracy:.4f}" in out
    low, high = accuracy_interval(before.accuracy, before.n)
    assert f"95% interval {low:.4f}-{high:.4f} ({before.n:,} rows)" in out
    assert "confusion (rows: true, columns: predicted)" in out


def test_a_test_split_mistake_is_placed_in_the_dataset(trained, cli) -> None:
    # "test-split row 18" could not be found in the dataset: its row there is said too.
    from engine.data.store import load_dataset

    ws, run_id, _, _ = trained
    code, out, _ = cli("evaluate", run_id, "--misclassified", "40", "--json")
    listed = json.loads(out)["misclassified"]
    assert code == 0 and listed, "the tiny run gets some test rows wrong"
    texts = load_dataset(ws, "sms").texts
    for mistake in listed:
        assert texts[mistake["dataset_row"] - 1] == mistake["text"]
        assert 1 <= mistake["row"] <= load_report(ws, run_id).n
    code, out, _ = cli("evaluate", run_id, "--stored", "--misclassified", "40")
    first = listed[0]
    assert (f"  test-split row {first['row']} (dataset row {first['dataset_row']:,}): true "
            f"{first['true_label']}") in out


def test_a_stored_report_still_shows_its_mistakes_when_the_dataset_is_damaged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # --stored is what messages recommend when the dataset cannot be read; placing its mistakes
    # in that dataset made it fail ("dataset 'sms' cannot be read").
    ws, run_id, _ = train_tiny_run(tmp_path)
    for key in ws.list("datasets/sms/"):
        ws.file_of(key).unlink()
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    code = main(["evaluate", run_id, "--stored", "--misclassified", "3", "--workspace", str(ws.root)])
    out = capsys.readouterr().out
    shown = [line for line in out.splitlines() if line.startswith("  test-split row ")]
    assert code == 0 and shown and all("(dataset row" not in line for line in shown)


def test_evaluate_on_a_file_and_unseen_labels(trained, cli, tmp_path: Path) -> None:
    _, run_id, csv, _ = trained
    code, out, _ = cli("evaluate", run_id, "--data", str(csv), "--json")
    assert code == 0 and json.loads(out)["n"] == 40
    # The training file itself: every row but the test split's was trained or validated on.
    test_rows = load_report(trained[0], run_id).n
    assert json.loads(out)["trained_rows"] == 40 - test_rows > 0
    code, out, err = cli("evaluate", run_id, "--data", str(csv), "--misclassified", "40")
    assert code == 0 and f"warning: {40 - test_rows} of these 40 rows are rows the run trained" in err
    # Mistakes are numbered as import, inspect and show number the file's rows: from 1.
    import csv as csv_module

    with open(csv, newline="", encoding="utf-8") as handle:
        file_rows = list(csv_module.DictReader(handle))
    shown = [line for line in out.splitlines() if line.startswith("  row ")]
    assert shown  # a tiny model trained for seconds gets some wrong
    for line in shown:
        number, text = int(line.split()[1].rstrip(":")), line.split("): ", 1)[1]
        assert file_rows[number - 1]["text"].replace("\n", " ")[:200] == text
    # --json numbers them the same way (it counted from 0: a script joining it to inspect was
    # one row off).
    code, out, _ = cli("evaluate", run_id, "--data", str(csv), "--misclassified", "40", "--json")
    listed = json.loads(out)["misclassified"]
    assert code == 0 and [m["row"] for m in listed] == [int(line.split()[1].rstrip(":")) for line in shown]
    assert all(file_rows[m["row"] - 1]["text"] == m["text"] for m in listed)
    assert all("dataset_row" not in m for m in listed)  # a file's rows are the file's
    fresh = write_sms_csv(tmp_path / "fresh.csv", rows=10, extra="tomorrow")
    code, out, err = cli("evaluate", run_id, "--data", str(fresh), "--json")
    assert code == 0 and json.loads(out)["trained_rows"] == 0 and "warning" not in err
    odd = tmp_path / "odd.csv"
    odd.write_text("text,label\nfree cash,spam\nhello,ham\nwho knows,maybe\nwhat now,unsure\n")
    code, _, err = cli("evaluate", run_id, "--data", str(odd))
    assert code == 2
    assert "odd.csv" in err and "'maybe', 'unsure'" in err and "not trained on" in err
    code, _, err = cli("evaluate", run_id, "--data", "no-such-dataset")
    assert code == 2 and "neither a file nor a dataset" in err
    # Column flags without a file to apply them to were ignored without a word.
    code, _, err = cli("evaluate", run_id, "--text-column", "text")
    assert code == 2 and "--text-column name the columns (or sheet) of a labelled --data FILE" in err


def test_predict_text_top_k_and_json(trained, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, run_id, _, _ = trained
    expected = Predictor.from_run(ws, run_id, device="cpu").predict(["free cash prize"])[0]
    code, out, _ = cli("predict", run_id, "--text", "free cash prize", "--json")
    assert code == 0
    (item,) = json.loads(out)
    assert item["label"] == expected.label
    assert item["probabilities"] == pytest.approx(expected.probabilities, abs=1e-6)
    code, out, _ = cli("predict", run_id, "--text", "free cash prize", "--top-k", "1")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines == [f"{expected.label}  {expected.confidence:.4f}"]  # said once, not twice
    # The run named by the end of its id (or its start): no need to copy all of it.
    for part in (run_id.rsplit("-", 1)[1], run_id[:15]):
        code, out, _ = cli("predict", part, "--text", "free cash prize", "--top-k", "1")
        assert code == 0 and out.strip().splitlines() == lines
    code, _, err = cli("predict", "zz-not-a-run", "--text", "x")
    assert code == 2 and "no run 'zz-not-a-run'" in err
    # Past MANY_LABELS labels a terminal gets the likeliest few, as a predicted file names them
    # (320 labels printed 320 lines a text); --json keeps every one.
    from engine.evaluation import prediction_columns

    monkeypatch.setattr(prediction_columns, "MANY_LABELS", 1)  # as if two labels were many
    monkeypatch.setattr(prediction_columns, "TOP_FOR_MANY", 1)
    code, out, _ = cli("predict", run_id, "--text", "free cash prize")
    assert code == 0 and out.strip().splitlines() == [
        lines[0], f"    (the 1 likeliest of {len(expected.probabilities)} labels; --top-k N for more)"]
    code, out, _ = cli("predict", run_id, "--text", "free cash prize", "--json")
    assert len(json.loads(out)[0]["probabilities"]) == len(expected.probabilities)
    code, out, err = cli("predict", run_id, "--text", "free cash prize", "--text", "  ")
    assert code == 2 and "--text number 2 is empty" in err and out == ""
    # "-": the text from standard input, kept out of the process list (/proc/PID/cmdline).
    monkeypatch.setattr("sys.stdin", io.StringIO("free cash prize\n"))
    code, out, _ = cli("predict", run_id, "--text", "-", "--top-k", "1")
    assert code == 0 and out.strip().splitlines() == lines
    code, _, err = cli("predict", run_id, "--text", "-", "--text", "-")
    assert code == 2 and "give it once" in err
    # Both from standard input: the text read the passphrase's line, then "no passphrase".
    monkeypatch.setattr("sys.stdin", io.StringIO("the passphrase\nfree cash prize\n"))
    code, _, err = cli("predict", run_id, "--text", "-", "--passphrase-file", "-")
    assert code == 2 and "--text - and --passphrase-file - both read standard input" in err


def test_predict_text_says_when_a_long_text_was_read_only_in_part(trained, cli) -> None:
    """predict --input and Try it said so; predict --text gave a 100,000-character text a label
    and probabilities and no word (nor with --json)."""
    ws, run_id, _, _ = trained
    predictor = Predictor.from_run(ws, run_id, device="cpu")  # max length 32
    long = "free cash prize call now " * 20
    tokens = predictor.token_count(long)
    assert tokens > 32
    code, out, err = cli("predict", run_id, "--text", long, "--top-k", "1")
    assert code == 0 and out.strip()
    assert (f"cloister: note: the text is {tokens:,} tokens, longer than the model reads: only the "
            "first 32 tokens (its max length) counted, as in training.") in err
    code, out, err = cli("predict", run_id, "--text", "free cash prize", "--text", long, "--json")
    assert code == 0 and [item["cut"] for item in json.loads(out)] == [False, True]
    assert f"cloister: note: text 2 is {tokens:,} tokens" in err and "text 1" not in err
    code, _, err = cli("predict", run_id, "--text", "free cash prize")
    assert code == 0 and "note" not in err


def test_predict_file_and_its_usage_errors(trained, cli, tmp_path: Path) -> None:
    import pandas as pd

    _, run_id, _, _ = trained
    source = write_sms_csv(tmp_path / "new.csv", rows=10)
    output = tmp_path / "scored.jsonl"
    code, out, err = cli("predict", run_id, "--input", str(source), "--output", str(output))
    assert code == 0 and out.startswith("10 rows predicted")  # stdout: the result, no blank line
    assert "texts from column 'text'" in err  # which column was read, said once
    assert "\r[" not in err  # no progress frames in a log: stderr is not a terminal here
    scored = pd.read_json(output, lines=True)
    assert len(scored) == 10 and {"predicted_label", "prob_ham", "prob_spam"} <= set(scored.columns)
    # --top-k with a file (once refused): the most probable labels, not a column per label.
    top = tmp_path / "top.csv"
    assert cli("predict", run_id, "--input", str(source), "--output", str(top), "--top-k", "1")[0] == 0
    best = pd.read_csv(top)
    assert {"top_1_label", "top_1_prob"} <= set(best.columns) and "prob_ham" not in best.columns
    assert best["top_1_label"].tolist() == scored["predicted_label"].tolist()
    assert np.allclose(best["top_1_prob"], scored["confidence"])
    audit = [e for e in trained[0].verify_audit().entries if e.action == "predict-file"]
    assert audit[-2].details == {"run": run_id, "rows": 10, "output": "scored.jsonl"}
    assert audit[-1].details == {"run": run_id, "rows": 10, "output": "top.csv"}
    # An existing output is never replaced unasked: the earlier predictions stay as they were.
    before = output.read_bytes()
    code, _, err = cli("predict", run_id, "--input", str(source), "--output", str(output))
    assert code == 2 and "scored.jsonl exists: pass --overwrite" in err and output.read_bytes() == before
    import sys

    with pytest.MonkeyPatch.context() as patch:  # on a terminal, the bar, ended by a newline
        patch.setattr(sys.stderr, "isatty", lambda: True)
        code, out, err = cli("predict", run_id, "--input", str(source), "--output", str(output),
                             "--overwrite")
    assert code == 0 and "10 rows predicted" in out and err.endswith("10/10 rows\n")
    # A plain list of texts, one a line: every line is a text (none is taken for a header) ...
    texts = tmp_path / "texts.csv"
    texts.write_text("hello there\nWIN cash now\nsee you at lunch\n")
    code, out, _ = cli("predict", run_id, "--input", str(texts), "--output", str(tmp_path / "t.csv"))
    assert code == 0 and out.startswith("3 rows predicted")
    assert pd.read_csv(tmp_path / "t.csv", header=None)[0].tolist()[1:] == \
        ["hello there", "WIN cash now", "see you at lunch"]
    # ... unless the first line names a text column, or the one asked for.
    for first, extra in (("text", ()), ("review_text", ()), ("Consumer complaint narrative", ()),
                         ("comment_body", ("--text-column", "comment_body")), ("sentence1", ())):
        texts.write_text(f"{first}\nhello there\nWIN cash now\n")
        code, out, err = cli("predict", run_id, "--input", str(texts), "--output",
                             str(tmp_path / "u.csv"), "--overwrite", *extra)
        assert code == 0 and out.startswith("2 rows predicted"), (first, err)
    code, _, err = cli("predict", run_id, "--input", str(source), "--output", str(tmp_path))
    assert code == 2 and f"{tmp_path} is a folder: give a file name" in err and "--overwrite" not in err
    # A link is not replaced by the file (the rename replaced the link, and a root user's
    # /dev/stdout became a file); the file it points to stays, and so does the link.
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _, err = cli("predict", run_id, "--input", str(source), "--output", str(link), "--overwrite")
    assert code == 2 and "is a link: give the path of the file itself" in err
    assert link.is_symlink() and real.read_text() == "old\n"
    code, _, err = cli("predict", run_id, "--input", str(source), "--output", "/dev/null", "--overwrite")
    assert code == 2 and "/dev/null is not a regular file" in err
    from engine.evaluation.file_prediction import predict_file
    from engine.evaluation.prediction import Predictor
    from engine.events import Failed

    predictor = Predictor.from_run(trained[0], run_id, device="cpu")  # the desktop's path
    events = list(predict_file(predictor, source, link))
    assert isinstance(events[-1], Failed) and "is a link" in events[-1].message
    assert link.is_symlink() and real.read_text() == "old\n"
    code, out, _ = cli("predict", run_id, "--input", str(tmp_path / "missing.csv"), "--output",
                       str(tmp_path / "m.csv"), "--json")
    assert code == 2 and "missing.csv" in json.loads(out)["error"]  # a script reads stdout
    code, _, err = cli("predict", run_id, "--input", str(source))
    assert code == 2 and "--input needs --output" in err
    code, _, err = cli("predict", run_id, "--input", str(source), "--output", str(tmp_path / "x.pdf"))
    assert code == 2 and "unknown suffix '.pdf'" in err and not (tmp_path / "x.pdf").exists()
    code, _, err = cli("predict", "20990101-000000-0000", "--text", "hi")
    assert code == 2 and "no run '20990101-000000-0000'" in err


def test_export_sealed_then_open_and_plaintext(trained, cli, tmp_path: Path, monkeypatch) -> None:
    _, run_id, _, _ = trained
    code, _, err = cli("export", run_id, "--out", str(tmp_path / "m.cloister-export"))
    assert code == 2 and "no export passphrase" in err  # no terminal to ask on
    secret = tmp_path / "secret.txt"
    secret.write_text("recipient passphrase\n")
    code, out, err = cli("export", run_id, "--out", str(tmp_path / "m.cloister-export"),
                         "--export-passphrase-file", str(secret))
    assert code == 0 and "sealed" in out and (tmp_path / "m.cloister-export").is_file()
    code, out, _ = cli("export", run_id, "--out", str(tmp_path / "bare"), "--json",
                       "--export-passphrase-file", str(secret))  # the suffix it adds, said
    assert code == 0 and json.loads(out) == {"run_id": run_id, "run": run_id, "format": "hf", "sealed": True,
                                             "output": str(tmp_path / "bare.cloister-export")}
    assert "easy to guess" not in err
    short = tmp_path / "short.txt"
    short.write_text("12345\n")
    code, _, err = cli("export", run_id, "--out", str(tmp_path / "weak.cloister-export"),
                       "--export-passphrase-file", str(short))
    assert code == 2 and "the export passphrase is too easy to guess" in err
    assert not (tmp_path / "weak.cloister-export").exists()
    # The workspace's own passphrase, given to a recipient, would unlock the whole vault.
    own = tmp_path / "own.txt"
    own.write_text(TEST_PASSPHRASE + "\n")
    code, _, err = cli("export", run_id, "--out", str(tmp_path / "own.cloister-export"),
                       "--export-passphrase-file", str(own))
    assert code == 2 and "the export passphrase is the workspace's own" in err
    assert not (tmp_path / "own.cloister-export").exists()
    code, _, err = cli("open-export", str(tmp_path / "m.cloister-export"), "--out", str(tmp_path / "opened"))
    assert code == 2 and "no export passphrase" in err and "--plaintext" not in err  # export's flag
    monkeypatch.setenv("CLOISTER_EXPORT_PASSPHRASE", "wrong")
    code, _, err = cli("open-export", str(tmp_path / "m.cloister-export"), "--out", str(tmp_path / "opened"))
    assert code == 2 and not (tmp_path / "opened").exists()
    assert f"wrong passphrase for the export {tmp_path / 'm.cloister-export'}: give the passphrase " \
           "chosen when it was exported (its own, not the workspace's)" in err
    code, _, err = cli("open-export", str(tmp_path / "gone.cloister-export"), "--out", str(tmp_path / "o"))
    assert code == 2 and "no export file at" in err  # not a question about its passphrase first
    monkeypatch.setenv("CLOISTER_EXPORT_PASSPHRASE", "recipient passphrase")
    code, out, _ = cli("open-export", str(tmp_path / "m.cloister-export"), "--out", str(tmp_path / "opened"))
    assert code == 0
    config = json.loads((tmp_path / "opened" / "config.json").read_text())
    assert config["id2label"] == {"0": "ham", "1": "spam"}
    code, _, err = cli("export", run_id, "--out", str(tmp_path / "plain"), "--plaintext",
                       "--export-passphrase-file", str(secret))
    assert code == 2 and "drop --export-passphrase-file" in err and not (tmp_path / "plain").exists()
    code, out, err = cli("export", run_id, "--out", str(tmp_path / "plain"), "--plaintext", "--format", "onnx")
    assert code == 0 and "PLAINTEXT" in out and (tmp_path / "plain" / "model.onnx").is_file()
    # A warning, on stderr: stdout keeps only the result a script reads.
    assert "a model can reveal parts of the texts it was trained on" in err and "reveal" not in out
    # A sealed export named without a suffix is one file, named as what it is.
    code, out, _ = cli("export", run_id, "--out", str(tmp_path / "for-alice"),
                       "--export-passphrase-file", str(secret))
    assert code == 0 and (tmp_path / "for-alice.cloister-export").is_file()
    assert not (tmp_path / "for-alice").exists() and "for-alice.cloister-export" in out
    code, out, _ = cli("export", run_id, "--out", f"{tmp_path / 'outbox'}/",
                       "--export-passphrase-file", str(secret))  # a folder, named as one
    assert code == 0 and (tmp_path / "outbox" / f"{run_id}.cloister-export").is_file()
    # The command to open it is quoted as a shell reads it: pasted back, it names the file.
    code, out, _ = cli("export", run_id, "--out", str(tmp_path / "mein Modell été"),
                       "--export-passphrase-file", str(secret))
    import shlex

    said = next(line for line in out.splitlines() if line.startswith("open it with: "))
    assert shlex.split(said.removeprefix("open it with: ")) == [
        "cloister", "open-export", str(tmp_path / "mein Modell été.cloister-export"), "--out", "FOLDER"]
    from safetensors.numpy import load_file

    weights = load_file(tmp_path / "opened" / "model.safetensors")
    assert weights["classifier.weight"].shape == (2, 32)
    assert not np.allclose(weights["classifier.weight"], 0)


def test_an_export_onto_a_full_disk_is_one_line_and_leaves_nothing(trained, cli, tmp_path: Path,
                                                                     monkeypatch) -> None:
    # It was a traceback, and with --json stdout held nothing a script could read.
    import errno
    import os

    from engine.export import exporters

    _, run_id, _, _ = trained

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", full)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    code, out, err = cli("export", run_id, "--out", str(outbox / "plain"), "--plaintext", "--json")
    assert code == 2 and "Traceback" not in err
    assert err.strip() == (f"cloister: error: could not write the export to {outbox / 'plain'}: No "
                           "space left on device; choose a folder you can write to, on a disk with "
                           "free space. Nothing was written")
    assert json.loads(out)["exit_code"] == 2
    assert os.listdir(outbox) == []  # no staging folder left beside it
    # An OS refusal no command words itself is still one line, naming the file.
    monkeypatch.setattr(exporters, "export_run", lambda *a, **k: (_ for _ in ()).throw(
        PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x"))))
    code, out, err = cli("export", run_id, "--out", str(tmp_path / "x"), "--plaintext", "--json")
    assert code == 1 and err.startswith(f"cloister: error: {tmp_path / 'x'}: Permission denied; check")
    assert json.loads(out)["exit_code"] == 1


def test_a_device_that_cannot_be_used_is_refused_with_the_reason(trained, cli) -> None:
    import torch

    _, run_id, _, _ = trained
    code, _, err = cli("predict", run_id, "--text", "hi", "--device", "gpu")
    assert code == 2 and "device 'gpu' is unknown: use auto, cpu, cuda (or cuda:N) or mps" in err
    if not torch.cuda.is_available():  # on a machine with a GPU, cuda:0 simply works
        code, _, err = cli("evaluate", run_id, "--device", "cuda:0")
        assert code == 2 and "no CUDA GPU is available" in err
    code, out, _ = cli("predict", run_id, "--text", "hi", "--device", "cpu")
    assert code == 0 and out.strip()


def test_predict_and_evaluate_read_the_sheet_named_and_say_which_was_read(trained, cli,
                                                                         tmp_path: Path) -> None:
    # A workbook with last quarter's sheet in front: predict classified that one, said nothing
    # of the other sheets, and had no --sheet.
    import csv as csv_module

    import openpyxl

    _, run_id, csv, _ = trained
    with open(csv, newline="", encoding="utf-8") as handle:
        rows = list(csv_module.DictReader(handle))
    book = openpyxl.Workbook()
    earlier = book.active
    earlier.title = "Q3"
    earlier.append(["text", "label"])
    for row in rows[20:23]:
        earlier.append([row["text"], row["label"]])
    data = book.create_sheet("Rückmeldungen")
    data.append(["text", "label"])
    for row in rows[:12]:
        data.append([row["text"], row["label"]])
    path = tmp_path / "feedback.xlsx"
    book.save(path)
    code, _, err = cli("predict", run_id, "--input", str(path), "--output", str(tmp_path / "first.csv"))
    assert code == 0
    assert "3 rows of feedback.xlsx (sheet 'Q3'; also in it: 'Rückmeldungen': --sheet NAME reads another)" in err
    code, out, err = cli("predict", run_id, "--input", str(path), "--sheet", "Rückmeldungen",
                         "--output", str(tmp_path / "data.csv"))
    assert code == 0 and "12 rows predicted" in out and "sheet 'Rückmeldungen'" in err
    code, out, _ = cli("evaluate", run_id, "--data", str(path), "--sheet", "Rückmeldungen", "--json")
    assert code == 0 and json.loads(out)["n"] == 12
    code, _, err = cli("predict", run_id, "--text", "hello", "--sheet", "Rückmeldungen")
    assert code == 2 and "--sheet picks the worksheet of an --input workbook" in err
    code, _, err = cli("predict", run_id, "--input", str(csv), "--sheet", "x",
                       "--output", str(tmp_path / "x.csv"))
    assert code == 2 and "--sheet applies to Excel workbooks only" in err


def test_many_labels_print_their_most_frequent_mistakes_not_a_matrix(capsys) -> None:
    """320 labels printed a 320-column matrix: 654 lines of up to 2,000 characters."""
    from types import SimpleNamespace

    from engine.cli.model_cmds import _print_top_confusions

    n = 320
    confusion = [[3 if i == j else 0 for j in range(n)] for i in range(n)]
    confusion[5][168], confusion[7][2], confusion[9][2] = 4, 1, 1
    report = SimpleNamespace(labels=[f"intent_{i}" for i in range(n)], confusion=confusion)
    _print_top_confusions(report)
    lines = capsys.readouterr().out.splitlines()
    assert "320 labels are too many for a matrix here" in lines[1]
    assert "the 3 most frequent of 6 mistakes" in lines[1]
    assert [line.split() for line in lines[2:]] == [
        ["4", "true", "intent_5,", "predicted", "intent_168"],
        ["1", "true", "intent_7,", "predicted", "intent_2"],
        ["1", "true", "intent_9,", "predicted", "intent_2"]]
    assert max(len(line) for line in lines) < 200


def test_a_label_with_a_line_break_or_a_long_shared_start_stays_one_table_cell() -> None:
    """'g\\nh' broke every table it was in; two labels sharing a 100-character start printed as
    the same cut text."""
    from engine.units import label_cell

    assert label_cell("g\nh\r\tx") == "g\\nh\\r\\tx"
    start = "Billing and payments / refunds and chargebacks / disputed card transactions / "
    a, b = label_cell(start + "domestic", 40), label_cell(start + "abroad", 40)
    assert len(a) == len(b) == 40 and a != b and a.endswith("domestic") and b.endswith("abroad")
    assert a.startswith("Billing and") and "…" in a
    assert label_cell("spam", 40) == "spam"


def test_an_export_sealed_from_a_marked_passphrase_file_before_still_opens(trained, cli,
                                                                           tmp_path: Path) -> None:
    """Sealed up to 2026-12-07 from a passphrase file with a byte-order mark, an export holds
    the mark in its passphrase; the same file opens it now, with a word about it."""
    import codecs

    from engine.export.exporters import export_run

    ws, run_id, _, _ = trained
    sealed = export_run(ws, run_id, tmp_path / "old", passphrase="\ufeffRecipient-Horse-Battery-12")
    marked = tmp_path / "export-pass.txt"
    marked.write_bytes(codecs.BOM_UTF8 + b"Recipient-Horse-Battery-12\n")
    code, out, err = cli("open-export", str(sealed), "--out", str(tmp_path / "opened"),
                         "--export-passphrase-file", str(marked))
    assert code == 0, err
    assert (tmp_path / "opened" / "config.json").is_file() and "byte-order mark" in err
