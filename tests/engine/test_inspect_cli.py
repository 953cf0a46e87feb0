"""``cloister inspect`` on real excerpts of every classification set (tests/data), and its exit codes."""
from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter
import sys
from pathlib import Path

import pytest

from engine.cli import main
from tests.engine.test_import_folder import rt_polarity_folder

ROOT = Path(__file__).resolve().parents[2]


def inspect_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["inspect", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _csv_counts(path: Path, column: str, text: str | None = None) -> Counter[str]:
    """Label counts read independently of Cloister, with the standard library's csv module;
    with ``text``, only of the rows whose text is not blank (the rows training can use)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return Counter(row[column] for row in csv.DictReader(handle)
                       if text is None or row[text].strip())


def test_sst2(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = inspect_json(capsys, str(real_data / "sst2" / "train.tsv"))
    assert code == 0 and report["trainable"]
    assert (report["format"], report["encoding"], report["rows"]) == ("tsv", "utf-8", 318)
    assert report["mapping"]["text_columns"] == ["sentence"] and report["mapping"]["label_column"] == "label"
    assert report["label_counts"] == {"1": 183, "0": 135}
    codes = {p["code"] for p in report["problems"]}
    assert codes == {"duplicate-row", "conflicting-labels"}  # SST-2 phrases repeat


def test_banking77(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = real_data / "banking77" / "train.csv"
    code, report = inspect_json(capsys, str(path))
    assert code == 0 and report["rows"] == 626 and report["format"] == "csv"
    assert report["mapping"]["label_column"] == "category"
    counts = report["label_counts"]
    categories = json.loads((real_data / "banking77" / "categories.json").read_text())
    assert set(counts) == set(categories) and len(counts) == 77
    assert counts == dict(_csv_counts(path, "category"))
    assert min(counts.values()) == 2 and max(counts.values()) == 12
    # The smallest intents have 2 examples: enough to train on, but worth a warning.
    assert {(p["code"], p["severity"]) for p in report["problems"]} == {("class-small", "warning")}


def test_ag_news_has_no_header(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = inspect_json(capsys, str(real_data / "ag_news" / "dev.tsv"))
    assert code == 0 and report["rows"] == 400 and report["header"] is False
    assert report["mapping"]["text_columns"] == ["column_1"]
    assert report["mapping"]["label_column"] == "column_2"
    assert report["label_counts"] == {"Sci/Tech": 107, "Business": 104, "Sports": 95, "World": 94}


def test_sms_spam_collection_without_suffix(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = inspect_json(capsys, str(real_data / "sms_spam_collection" / "SMSSpamCollection"))
    assert code == 0 and report["format"] == "tsv" and report["rows"] == 599
    assert report["mapping"] == {"text_columns": ["message"], "label_column": "output", "separator": "\n",
                                 "label_delimiter": None}
    assert report["label_counts"] == {"ham": 511, "spam": 88}


def test_cfpb_complaints(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = real_data / "cfpb_complaints_extract" / "complaints.csv"
    code, report = inspect_json(capsys, str(path))
    assert report["rows"] == 376 and len(report["columns"]) == 18
    assert report["mapping"]["text_columns"] == ["Consumer complaint narrative"]
    assert report["mapping"]["label_column"] == "Product"
    # Counted over the rows with a narrative, as the class-size problems count them.
    usable = _csv_counts(path, "Product", "Consumer complaint narrative")
    assert report["label_counts"] == dict(usable) and sum(usable.values()) == 101
    small = [p for p in report["problems"] if p["code"] == "class-small"]
    assert small and all(f"has {usable[p['message'].split(chr(39))[1]]} example" in p["message"]
                         for p in small if p["message"].startswith("class '"))
    # "Consumer disputed?" (yes/no) and "Company response to consumer" name no one.
    assert report["person_columns"] == []
    # 101 narratives: the other 275 rows have no text, which blocks training as it stands.
    summary = [p for p in report["problems"] if p["code"] == "empty-text" and p["row"] is None]
    assert summary[0]["message"].startswith("275 rows in all")
    assert code == 2 and not report["trainable"]

    code, skipped = inspect_json(capsys, str(path), "--skip-incomplete")
    empty = [p for p in skipped["problems"] if p["code"] == "empty-text"]
    assert all(p["severity"] == "warning" for p in empty)
    # Still blocked: among rows with a narrative, some products have a single example.
    small = [p for p in skipped["problems"] if p["code"] == "class-too-small"]
    assert small and all(p["severity"] == "error" for p in small) and code == 2


def test_rt_polarity_folder(real_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The whole excerpt is read through the API in test_import_folder; here the CLI on a part.
    rt_polarity_folder(real_data, tmp_path / "rt", limit=300)
    code, report = inspect_json(capsys, str(tmp_path / "rt"))
    assert code == 0 and report["format"] == "folder" and report["encoding"] == "mixed"
    assert report["mapping"]["text_columns"] == ["text"] and report["mapping"]["label_column"] == "label"
    assert report["label_counts"] == {"negative": 300, "positive": 300}
    assert "legacy-encoding" in {p["code"] for p in report["problems"]}


def test_trec_is_refused_with_exit_2(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(real_data / "trec" / "TREC_10.label")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "the '.label' format is not supported" in captured.err
    assert "Supported formats" in captured.err


def test_text_report_and_explicit_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tickets.csv"
    rows = [f"ticket {i},body text {i},{'bug' if i % 2 else 'question'}" for i in range(30)]
    path.write_text("title,body,kind\n" + "\n".join(rows) + "\n")
    code = main(["inspect", str(path), "--text-column", "title", "--text-column", "body",
                 "--label-column", "kind"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"File:     {path} (csv, utf-8)" in out
    assert "Rows:     30" in out
    assert "Mapping:  text = 'title' + 'body'; label = 'kind'" in out
    assert "Labels:   2 classes" in out and "Result:   trainable" in out


def test_a_column_naming_people_is_pointed_out_for_dp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tickets.csv"
    rows = [f"body text {i},{'bug' if i % 2 else 'question'},C-{i % 12:03d},{'Yes' if i % 3 else 'No'},"
            f"{['NY', 'CA', 'TX'][i % 3]},U-{i}" for i in range(60)]
    path.write_text("text,kind,Customer ID,Consumer disputed?,state,user_ref\n" + "\n".join(rows) + "\n")
    code, report = inspect_json(capsys, str(path), "--label-column", "kind")
    # Not the yes/no column, not the state, not an id that never repeats (one row per user).
    assert report["person_columns"] == [{"column": "Customer ID", "people": 12, "blank_count": 0,
                                         "blank_rows": []}]
    assert main(["inspect", str(path), "--label-column", "kind"]) == 0
    out = capsys.readouterr().out
    assert "People:   'Customer ID' may say who each row is about (12 values" in out
    assert "`--dp-person-column Customer ID`" in out and "--drop-blank" not in out
    # Rows that say nothing of their customer: training per person would refuse them, so say so
    # here, with the import flag that leaves them out.
    gaps = tmp_path / "gaps.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",C-002,", ",,")
    gaps.write_text("\n".join(lines) + "\n")
    code, report = inspect_json(capsys, str(gaps), "--label-column", "kind")
    assert report["person_columns"][0]["blank_rows"] == [3]
    assert report["person_columns"][0]["blank_count"] == 1
    assert main(["inspect", str(gaps), "--label-column", "kind"]) == 0
    out = capsys.readouterr().out
    assert "1 row(s) have no value in it (row 3)" in out and "`--drop-blank Customer ID`" in out


def test_text_report_caps_rows_per_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("text,label\n" + "".join(f",{'ab'[i % 2]}\n" for i in range(40)) + "x,a\ny,b\n")
    code = main(["inspect", str(path)])
    out = capsys.readouterr().out
    assert code == 2
    assert out.count("the text is empty") == 6  # 5 rows and the summary
    assert "40 rows in all: the text is empty" in out
    # --json lists the first 20 of the 40: the note says so (it said the 15 more were all of them).
    assert "(15 more 'empty-text' rows of the first 20 are listed with --json)" in out
    # The advice is given once for the check, not under each of its rows.
    assert out.count("Fill in the text or delete the row") == 1
    assert "Result:   not trainable yet" in out


def test_unknown_column_exits_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,b\n")
    done = subprocess.run([sys.executable, "-m", "engine.cli", "inspect", str(path), "--label-column", "Label"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "column 'Label' is not in d.csv: did you mean 'label'?" in done.stderr


def test_header_flag_overrides_detection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("".join(f"message {i} here,{'ab'[i % 2]}\n" for i in range(30)))
    code, detected = inspect_json(capsys, str(path))
    # 'a' in the first row recurs below it: a value, not a column name.
    assert detected["header"] is False and detected["rows"] == 30
    assert detected["columns"] == ["column_1", "column_2"] and detected["label_counts"] == {"a": 15, "b": 15}
    code, forced = inspect_json(capsys, str(path), "--header")
    assert forced["header"] is True and forced["rows"] == 29
    assert forced["columns"] == ["message 0 here", "a"]


def test_max_tokens_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,b\n")
    assert main(["inspect", str(path), "--max-tokens", "0"]) == 2
    assert "--max-tokens must be a positive number of tokens, not 0" in capsys.readouterr().err


def test_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    # `cloister inspect FILE --json | head`: the report is far bigger than the pipe's buffer.
    path = tmp_path / "many.csv"
    path.write_text("text,label\n" + "".join(f"text {i},label-number-{i:06d}\n" for i in range(8000)))
    child = subprocess.Popen([sys.executable, "-m", "engine.cli", "inspect", str(path), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert child.stdout.readline().strip() == b"{"
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait(timeout=120) == 2  # every label occurs once: blocking, but reported
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_length_check_uses_the_default_models_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Automatic training reads up to the model's limit (512 for MiniLM): inspect warns about
    what that cuts, not about what the fixed --no-auto length of 128 would."""
    import json as _json

    from engine.models.folders import default_model_path

    config = _json.loads((default_model_path() / "config.json").read_text(encoding="utf-8"))
    limit = int(config["max_position_embeddings"])
    assert limit == 512
    path = tmp_path / "long.csv"
    long_text = " ".join(["word"] * (2 * limit))  # ~2.6x the limit in estimated tokens
    medium = " ".join(["word"] * 300)  # beyond 128 twice over, well within 512
    rows = [f"short text {i},{'ab'[i % 2]}" for i in range(30)] + [f"{medium},b", f"{long_text},a"]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    code, report = inspect_json(capsys, str(path))
    (long,) = [p for p in report["problems"] if p["code"] == "text-too-long"]
    assert long["row"] == 32 and f"far beyond the model's limit of {limit}" in long["message"]
    code, relaxed = inspect_json(capsys, str(path), "--max-tokens", str(4 * limit))
    assert not [p for p in relaxed["problems"] if p["code"] == "text-too-long"]
    # The fix cuts at the limit checked: "--cap-long 512" left texts far beyond 64 as they were.
    assert long["fix"] == f"--cap-long {limit}"
    code, strict = inspect_json(capsys, str(path), "--max-tokens", "64")
    assert {p["fix"] for p in strict["problems"] if p["code"] == "text-too-long"} == {"--cap-long 64"}
    assert main(["inspect", str(path), "--max-tokens", "64"]) == 0
    out = capsys.readouterr().out
    assert "--cap-long 64" in out and "--cap-long 512" not in out
    # Never a cut that --cap-long refuses (it takes 8 tokens or more).
    code, tiny = inspect_json(capsys, str(path), "--max-tokens", "4")
    assert {p["fix"] for p in tiny["problems"] if p["code"] == "text-too-long"} == {"--cap-long 8"}


def test_label_delimiter_counts_each_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tickets.csv"
    labels = ["billing|urgent", "billing", "refund"] * 10
    path.write_text("text,labels\n" + "".join(f"ticket {i},{l}\n" for i, l in enumerate(labels)))
    code, report = inspect_json(capsys, str(path), "--label-delimiter", "|")
    assert report["label_counts"] == {"billing": 20, "refund": 10, "urgent": 10}
    # A small class among several per row: no suggestion to merge or drop whole rows by class
    # (import refuses those fixes for multi-label data), but single-label data still gets one.
    rare = tmp_path / "rare.csv"
    rare.write_text(path.read_text() + "one more ticket,refund|rare\n")
    code, report = inspect_json(capsys, str(rare), "--label-delimiter", "|")
    small = {p["code"]: p["fix"] for p in report["problems"] if p["code"].startswith("class-")}
    assert small and all(fix == "" for fix in small.values())
    code, single = inspect_json(capsys, str(rare))
    assert any(p["fix"].startswith("--min-class-size") for p in single["problems"]
               if p["code"].startswith("class-"))


def test_the_suggested_import_runs_as_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The "for example" command names the file, a dataset name and the columns the user chose
    for inspect; run as printed, it imports. Another column named like a label is mentioned."""
    import shlex

    source = tmp_path / "hand labelled.csv"
    rows = [(f"great {i}", "Billing" if i % 2 else "Shipping", "pos") for i in range(20)]
    rows += [("no idea", "#N/A", "neg"), ("also", "billing", "neg")]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "topic", "sentiment"), *rows])
    assert main(["inspect", str(source)]) == 0  # sentiment is taken by default, and trainable
    out = capsys.readouterr().out
    assert "also named like a label: 'topic' (to train on it instead: --label-column topic)" in out
    assert main(["inspect", str(source), "--label-column", "topic"]) == 2
    result = capsys.readouterr().out.splitlines()[-1]
    printed = result.split("`")[1]
    assert printed.startswith(f"cloister import {shlex.quote(str(source))} --name hand-labelled "
                              "--label-column topic ")
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "inspect test passphrase")
    assert main(["init", "--kdf-cost", "10"]) == 0
    assert main(shlex.split(printed)[1:]) == 0  # as printed, without "cloister"
    capsys.readouterr()
    assert main(["datasets", "--json"]) == 0
    (stored,) = json.loads(capsys.readouterr().out)
    assert stored["name"] == "hand-labelled" and stored["labels"] == {"Billing": 11, "Shipping": 10}


def test_labels_joined_with_a_bar_suggest_reading_them_as_multi_label(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tags.json"
    path.write_text(json.dumps([{"text": f"t{i}", "tags": ["billing", "urgent"] if i % 2 else ["tech"]}
                                for i in range(20)]), encoding="utf-8")
    code, report = inspect_json(capsys, str(path))
    (hint,) = [p for p in report["problems"] if p["code"] == "looks-multi-label"]
    assert hint["severity"] == "info" and hint["fix"] == "--label-delimiter '|'"
    assert "10 rows have labels joined with '|' (such as 'billing|urgent')" in hint["message"]
    code, report = inspect_json(capsys, str(path), "--label-delimiter", "|")
    assert report["label_counts"] == {"tech": 10, "billing": 10, "urgent": 10}
    assert report["mapping"]["label_delimiter"] == "|"  # a script re-reading the mapping needs it
    assert "looks-multi-label" not in {p["code"] for p in report["problems"]}


def test_labels_joined_with_a_semicolon_suggest_their_delimiter_not_merging_classes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'billing;refund' got no hint at all, and with '|' the suggested import merged each
    combination's one-row "class" into 'other', replacing every label of those rows."""
    combos = ["billing", "tech", "billing;tech", "refund;billing"]
    rows = [(f"ticket {i}", combos[i % 4]) for i in range(40)] + [("odd one", "tech;refund")]
    path = tmp_path / "semi.csv"
    path.write_text("text,tags\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    code, report = inspect_json(capsys, str(path))
    (hint,) = [p for p in report["problems"] if p["code"] == "looks-multi-label"]
    assert hint["fix"] == "--label-delimiter ';'" and "joined with ';'" in hint["message"]
    assert main(["inspect", str(path)]) != 0
    result = capsys.readouterr().out.splitlines()[-1]
    assert "--label-delimiter ';'" in result and "--merge-small-into" not in result
    assert "--min-class-size" not in result


def test_the_suggested_import_keeps_skip_incomplete_and_a_dash_path(tmp_path: Path, monkeypatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    source = Path("-odd.csv")
    rows = [(f"t{i}", "a" if i % 2 else "b") for i in range(12)] + [("", "a"), ("solo", "rare")]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    assert main(["inspect", "./-odd.csv", "--skip-incomplete"]) == 2
    printed = capsys.readouterr().out.splitlines()[-1].split("`")[1]
    assert printed.startswith("cloister import ./-odd.csv --name odd --skip-incomplete ")
    assert printed.endswith("--min-class-size 2 --drop-small")  # a lone one-row class: dropped


def test_inspect_json_says_why_a_file_cannot_be_read_in_json(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "single.json"
    path.write_text('{"text": "hi"}', encoding="utf-8")
    code, report = inspect_json(capsys, str(path))
    assert code == 2 and report["trainable"] is False and report["file"] == str(path)
    assert report["exit_code"] == 2  # the shape of every command's JSON error, plus its own
    assert "is an object, not an array of objects" in report["error"]
    assert main(["inspect", str(path)]) == 2  # without --json: the usual error line
    assert "is an object" in capsys.readouterr().err


@pytest.mark.parametrize("preamble, header, first_line", [("", "text,label\n", 2), ("sep=,\n", "text,label\n", 3),
                                                          ("", "", 1)])
def test_inspect_says_which_line_row_one_is(tmp_path: Path, capsys: pytest.CaptureFixture[str], preamble: str,
                                            header: str, first_line: int) -> None:
    """Problems name data rows; an editor shows lines: the text report says where row 1 is."""
    rows = "".join(f"message {i} about the weather,{'ab'[i % 2]}\n" for i in range(8)) + ",a\n"
    path = tmp_path / "rows.csv"
    path.write_text(preamble + header + rows, encoding="utf-8")
    assert main(["inspect", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"(rows are data rows: row 1 is line {first_line} of the file)" in out
    assert "row 9, column" in out  # the empty text: the ninth data row
    assert path.read_text(encoding="utf-8").splitlines()[first_line + 8 - 1] == ",a"


def test_rows_that_cannot_be_read_block_the_import_until_left_out(tmp_path: Path, monkeypatch,
                                                                  capsys) -> None:
    # Texts with unquoted commas: those rows have too many fields. They were left out with a
    # warning, the file read as trainable and 2 of 6 rows lost without being asked.
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "ragged import test passphrase")
    monkeypatch.setenv("CLOISTER_WORKSPACE", str(tmp_path / "ws"))
    rows = ["free cash now,spam", "see you at lunch,ham", "hi, are you coming,ham",
            "win a prize,spam", "call me back, please,ham", "cheap loans today,spam"]
    path = tmp_path / "naive.csv"
    path.write_text("text,label\n" + "\n".join(rows * 3) + "\n", encoding="utf-8")
    code, report = inspect_json(capsys, str(path))
    assert code == 2 and not report["trainable"]
    [blocking] = [p for p in report["problems"] if p["severity"] == "error"]
    assert blocking["code"] == "unreadable-rows" and blocking["fix"] == "--skip-incomplete"
    assert blocking["message"].startswith("6 rows of the file could not be read (the wrong number")
    ragged = [p["message"] for p in report["problems"] if p["code"] == "ragged-row"]
    assert ragged and all(m.endswith("; it cannot be read") for m in ragged)  # not "was skipped"
    code, left_out = inspect_json(capsys, str(path), "--skip-incomplete")
    [warned] = [p for p in left_out["problems"] if p["code"] == "unreadable-rows"]
    assert code == 0 and warned["fix"] == "" and "--skip-incomplete" not in warned["hint"]
    assert main(["init", "--kdf-cost", "10"]) == 0
    capsys.readouterr()
    assert main(["import", str(path), "--name", "naive"]) == 2
    said = capsys.readouterr()
    assert "error: 6 rows of the file could not be read" in said.err
    assert "not imported" in said.err and "add --skip-incomplete" in said.err
    assert main(["datasets", "--json"]) == 0 and "naive" not in capsys.readouterr().out
    # Stored as it is (--force), the rows left out no longer block it: it trains, as the
    # message promised (it was refused for ever, and no fix could clear it).
    assert main(["import", str(path), "--name", "forced", "--force"]) == 0
    from engine.training.prepare import _blocking_problems
    from engine.data.store import load_dataset
    from privacy.vault.workspace import Workspace

    ws = Workspace.unlock(tmp_path / "ws", "ragged import test passphrase")
    forced = load_dataset(ws, "forced")
    assert _blocking_problems(forced) == ""
    assert any("could not be read (the wrong number of fields) and were left out" in p
               for p in forced.info.problems)
    ws.lock()
    capsys.readouterr()
    assert main(["import", str(path), "--name", "naive", "--skip-incomplete"]) == 0
    capsys.readouterr()
    assert main(["datasets", "--json"]) == 0
    [stored] = [d for d in json.loads(capsys.readouterr().out) if d["name"] == "naive"]
    assert stored["rows"] == 12


def test_a_workbook_says_which_sheet_row_is_row_one(tmp_path: Path, capsys) -> None:
    # A CSV said which line row 1 is; a workbook with a title above its header said nothing,
    # and "row 3" was the sheet's row 6.
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tickets"
    ws.append(["Exported tickets"])
    ws.append([])
    ws.append(["text", "label"])
    for i in range(12):
        ws.append([f"ticket {i} about the invoice" if i != 2 else None, "billing" if i % 2 else "tech"])
    path = tmp_path / "titled.xlsx"
    wb.save(path)
    assert main(["inspect", str(path)]) == 2
    out = capsys.readouterr().out
    assert "(rows are data rows: row 1 is row 4 of sheet 'Tickets')" in out
    assert "row 3" in out and "the text is empty" in out


@pytest.mark.parametrize("given, said", [
    ("a", "'a' holds letters or digits, which would split the labels themselves"),
    ("", "give the character that separates a row's labels"),
])
def test_a_label_delimiter_that_is_no_separator_is_refused(given: str, said: str, tmp_path: Path,
                                                           capsys) -> None:
    # 'a' split "ham" into "h" and "m" without a word; '' was ignored without one.
    path = tmp_path / "sms.csv"
    path.write_text("text,label\nfree cash,spam\nhello there,ham\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["inspect", str(path), "--label-delimiter", given])
    assert stopped.value.code == 2 and said in capsys.readouterr().err


def test_a_space_is_a_label_separator(tmp_path: Path, capsys) -> None:
    path = tmp_path / "tags.csv"  # "python pandas": space-separated tags
    path.write_text("text,tags\n" + "".join(f"question {i},python pandas\n" for i in range(12)),
                    encoding="utf-8")
    code, report = inspect_json(capsys, str(path), "--label-delimiter", " ")
    assert report["label_counts"] == {"python": 12, "pandas": 12}


def test_a_forced_no_header_is_said_as_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.csv"
    path.write_text("text,label\n" + "".join(f"message number {i},{'ab'[i % 2]}\n" for i in range(30)))
    main(["inspect", str(path), "--no-header"])
    out = capsys.readouterr().out
    assert "Header:   none (--no-header: row 1 is data" in out and "none detected" not in out


def test_labels_with_line_breaks_or_long_shared_starts_stay_one_line_each(tmp_path: Path,
                                                                          capsys) -> None:
    start = "Billing and payments / refunds and chargebacks / disputed card transactions / "
    path = tmp_path / "odd.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *[
            (f"message number {i} about things", ["g\nh", start + "domestic", start + "abroad"][i % 3])
            for i in range(60)]])
    main(["inspect", str(path)])
    out = capsys.readouterr().out
    listed = out.split("Labels:", 1)[1].splitlines()[1:4]
    assert [line.split()[0] for line in listed if line.startswith("  g")] == ["g\\nh"]
    cut = [line.strip() for line in listed if "Billing" in line]
    assert len(cut) == 2 and cut[0] != cut[1] and any("domestic" in c for c in cut)
