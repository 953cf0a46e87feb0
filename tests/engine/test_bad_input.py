"""Every kind of unusable input gets a message that names the file and says what to do."""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data.columns import ColumnMapping, infer_mapping
from engine.errors import InputError
from engine.data.importing import read_table, source
from engine.data.problems import has_blocking
from engine.data.validation import validate


def expect_error(path: Path, *patterns: str, **options) -> str:
    with pytest.raises(InputError) as caught:
        read_table(path, **options)
    message = str(caught.value)
    for pattern in patterns:
        assert pattern in message, f"{pattern!r} not in {message!r}"
    return message


@pytest.mark.parametrize("content", [b"", b"  \n\n \t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    expect_error(path, str(path), "is empty", "check that the file has rows")


def test_header_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("text,label\n")
    expect_error(path, "has a header line (text, label) but no data rows")


def test_binary_file_renamed_csv(tmp_path: Path) -> None:
    path = tmp_path / "model.csv"
    path.write_bytes(bytes(range(256)) * 20)
    expect_error(path, str(path), "is not a CSV file", "binary data", "Export the data as CSV")


def test_workbook_renamed_csv_says_what_it_is(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["text", "label"])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "export.csv"
    path.write_bytes(buffer.getvalue())
    expect_error(path, "looks like a ZIP archive (an Excel .xlsx workbook is one)", "rename it to .xlsx")


def test_a_zip_that_is_no_workbook_is_not_called_one(tmp_path: Path, real_data: Path) -> None:
    # "Please rename it to .xlsx" was said of any ZIP; renamed, it was a "damaged workbook".
    path = tmp_path / "export.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(real_data / "sst2" / "train.tsv", "train.tsv")
    message = expect_error(path, f"{path} is not a CSV file: it is a ZIP archive (holding "
                           "train.tsv), not a workbook. Unzip it and import the file inside.")
    assert ".xlsx" not in message


def test_a_zip_named_xlsx_or_an_office_document_named_csv_says_what_it_is(tmp_path: Path,
                                                                         real_data: Path) -> None:
    # A plain ZIP named .xlsx was "damaged or truncated... save it again"; an OpenDocument or
    # Word file named .csv was told to unzip it, which yields XML.
    archive = tmp_path / "export.xlsx"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(real_data / "sst2" / "train.tsv", "train.tsv")
    expect_error(archive, f"{archive} is not an Excel .xlsx workbook: it is a ZIP archive "
                 "(holding train.tsv), not a workbook. Unzip it")
    sheet = tmp_path / "export.csv"
    with zipfile.ZipFile(sheet, "w") as out:
        out.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        out.writestr("content.xml", "<office:document-content/>")
    expect_error(sheet, "it is an OpenDocument file (LibreOffice, OpenOffice). Open it where it "
                 "was made and save the data as CSV or an Excel .xlsx workbook")


def test_a_password_protected_workbook_is_said_to_be_one(tmp_path: Path) -> None:
    # Excel's "Encrypt with Password" writes an Office 97 container under the .xlsx name: it
    # was said to be "not an Excel .xlsx workbook".
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    expect_error(path, "is a password-protected (encrypted) workbook, or an old .xls one",
                 "remove the password")


def test_missing_label_column_named_by_the_user(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,category\nhello,a\nbye,b\n")
    imported = read_table(path)
    with pytest.raises(InputError, match=r"column 'label' is not in data.csv; the columns are: 'text', 'category'"):
        ColumnMapping.choose(imported, label_column="label")


def test_csv_without_any_label_column_blocks_training(tmp_path: Path) -> None:
    path = tmp_path / "texts.csv"
    path.write_text("text\n" + "".join(f"note number {i} about something\n" for i in range(30)))
    imported = read_table(path)
    mapping = infer_mapping(imported)
    assert mapping.label_column is None
    problems = validate(imported, mapping)
    assert has_blocking(problems)
    assert [p.code for p in problems] == ["no-label-column"]
    # One column: there is no label column to choose (the hint once said to choose one).
    assert problems[0].message == "the file has one column, the texts, and no labels"
    assert problems[0].hint.startswith("Add a column that gives each row's class")
    two = tmp_path / "two.csv"
    two.write_text("text,note\n" + "".join(f"note number {i} about something,x{i}\n" for i in range(30)))
    from engine.data.columns import ColumnMapping

    unchosen = validate(read_table(two), ColumnMapping(text_columns=("text",), label_column=None))
    assert unchosen[0].message == "no label column was found or chosen"
    assert "Choose the column that holds the labels" in unchosen[0].hint


def test_only_one_class(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("text,label\n" + "".join(f"text {i},spam\n" for i in range(12)))
    imported = read_table(path)
    problems = validate(imported, infer_mapping(imported))
    (single,) = [p for p in problems if p.code == "single-class"]
    assert single.blocking and single.column == "label"
    assert "every usable row has the same label 'spam'" in single.message
    assert "at least two classes" in single.hint


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('{"text": "a", "label": "b"}', "is an object, not an array of objects"),
        ('{"rows": ["a", "b"]}', "its key 'rows' holds an array"),
        # One record with an array of objects in it is not a wrapper of rows.
        ('{"text": "hi", "label": "x", "entities": [{"start": 0}]}', "is an object, not an array"),
        ('{"train": [{"text": "a"}], "test": [{"text": "b"}]}',
         "several arrays of objects (under the keys 'train', 'test'): save the one"),
        ('["a", "b"]', "item 1 of the array is a string, not an object"),
        ("[]", "is an empty JSON array"),
        ('[{"text": "a",}]', "is not valid JSON: Expecting property name"),
        ('{"text": "a"}\n{"text": "b"}\n', "looks like JSON Lines"),
    ],
)
def test_json_that_is_not_an_array_of_objects(tmp_path: Path, content: str, pattern: str) -> None:
    path = tmp_path / "data.json"
    path.write_text(content)
    expect_error(path, str(path), pattern)


def test_jsonl_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a"}\n{"text": \n[1, 2]\n')
    expect_error(path, "line 2: not valid JSON", "fix or delete that line")
    path.write_text('{"text": "a"}\n[1, 2]\n')
    expect_error(path, "line 2: the line holds an array, not an object")


def test_truncated_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    for i in range(200):
        book.active.append([f"row {i} with some text", "label"])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    expect_error(cut, str(cut), "is damaged or truncated", "save it again")


def test_xlsx_that_unpacks_past_the_limit(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["text", "label"])
    book.active.append(["a row", "a"])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("sheet1.xml"):  # 4 MB of whitespace inside the sheet
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * 4_000_000)
            out.writestr(info.filename, data)
    assert bomb.stat().st_size < 32 * 1024
    expect_error(bomb, str(bomb), "unpacks to 3.8 MiB", "an .xlsx file is compressed",
                 "accepts up to 2.0 MiB", max_bytes=2 * 1024 * 1024)
    assert read_table(whole, max_bytes=2 * 1024 * 1024).num_rows == 1  # the same sheet, unpadded


def test_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["text", "label"])
    book.active.append(["a", "b"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    expect_error(path, "has no sheet named 'Summary'; its sheets are: 'Data'", sheet="Summary")
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("text,label\na,b\n")
    expect_error(csv_path, "--sheet applies to Excel workbooks only", sheet="Data")


def test_truncated_parquet(tmp_path: Path) -> None:
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(500)]}), whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[:300])
    expect_error(cut, str(cut), "is not a readable Parquet file", "export it again")


@pytest.mark.parametrize("dictionary", [True, False])
def test_parquet_that_unpacks_past_the_limit(tmp_path: Path, dictionary: bool) -> None:
    # A few KiB on disk: one 1,000-character text in every row, stored once in a dictionary or
    # compressed away. Read whole, 3,000 rows are 3 MB (and 1.5M rows are gigabytes).
    rows = 3000
    if dictionary:
        text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array(["x" * 1000]))
    else:
        text = pa.array(["x" * 1000] * rows)
    path = tmp_path / "bomb.parquet"
    pq.write_table(pa.table({"text": text, "label": ["a", "b"] * (rows // 2)}), path,
                   compression="zstd", use_dictionary=dictionary)
    assert path.stat().st_size < 64 * 1024
    expect_error(path, str(path), "unpacks to more than 1000.0 KiB", "Parquet is compressed",
                 "CLOISTER_MAX_IMPORT_BYTES", max_bytes=1_024_000)
    table = read_table(path, max_bytes=8_000_000).table  # under a limit that holds it: read
    assert table.num_rows == rows and table.column("text")[0].as_py() == "x" * 1000


def test_file_that_does_not_exist(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.csv", f"{tmp_path / 'nope.csv'} does not exist", "Check the path")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, where chmod 000 still reads; make the reader's own open() refuse.
    path = tmp_path / "secret.csv"
    path.write_text("text,label\na,b\n")

    def denied(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(source, "open", denied, raising=False)
    expect_error(path, f"{path} cannot be read: permission denied", "Ask the file's owner")


def test_two_gigabyte_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: no 2 GB is written
    message = expect_error(path, "is 2.0 GiB", "accepts up to 1.0 GiB", "Split the file",
                           "CLOISTER_MAX_IMPORT_BYTES")
    assert os.stat(path).st_blocks < 100  # still sparse: nothing was read into it


def test_size_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.csv"
    path.write_text("text,label\n" + "a,b\n" * 1000)
    expect_error(path, "is 3.9 KiB", "accepts up to 1.0 KiB", max_bytes=1024)
    monkeypatch.setenv("CLOISTER_MAX_IMPORT_BYTES", "2048")
    expect_error(path, "accepts up to 2.0 KiB")
    monkeypatch.setenv("CLOISTER_MAX_IMPORT_BYTES", "lots")
    expect_error(path, "CLOISTER_MAX_IMPORT_BYTES='lots' is not a whole number of bytes")


def test_trec_label_format_is_refused_not_guessed(real_data: Path) -> None:
    path = real_data / "trec" / "TREC_10.label"
    expect_error(path, "the '.label' format is not supported", "Supported formats:",
                 "comma-separated values (.csv)", "Excel workbook (.xlsx)", "JSON Lines",
                 "a .txt file or one without a suffix")  # read by what it holds: said too


def test_suffixless_prose_is_refused(real_data: Path) -> None:
    # The SMS collection's own 'readme' has no suffix but is not a table.
    path = real_data / "sms_spam_collection" / "readme"
    expect_error(path, "has no suffix and is not recognisably CSV, TSV or JSON", "Supported formats:")


def test_a_txt_file_is_read_by_what_it_holds(real_data: Path, tmp_path: Path) -> None:
    """A tab-separated export saved as .txt (and what `predict --output x.txt` writes) reads
    as a table; a .txt of prose is refused with the folder layout for one text per file."""
    import shutil

    table = tmp_path / "sms.txt"
    shutil.copy(real_data / "sms_spam_collection" / "SMSSpamCollection", table)
    imported = read_table(table)
    assert imported.format == "tsv" and imported.num_rows == 599
    assert imported.column_names == ["output", "message"]
    prose = tmp_path / "notes.txt"
    shutil.copy(real_data / "sms_spam_collection" / "readme", prose)
    expect_error(prose, "is a .txt file and is not recognisably CSV, TSV or JSON",
                 "one sub-folder per label")


def test_old_excel_gets_a_conversion_hint(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    expect_error(path, "the '.xls' format is not supported", "save it as .xlsx")


def test_utf16_file_cut_mid_character(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes("text,label\nab,c\n".encode("utf-16") + b"\x41")
    expect_error(path, "cannot be decoded as utf-16-le", "may be truncated")


def test_directory_named_like_a_file_without_label_folders(tmp_path: Path) -> None:
    (tmp_path / "data.csv").mkdir()
    expect_error(tmp_path / "data.csv", "has no label sub-folders")


def test_json_number_and_null_items(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"text": "a"}, 3]))
    expect_error(path, "item 2 of the array is a number, not an object")


def test_json_limit_allows_for_its_expansion(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"text": f"row {i}", "label": "a"} for i in range(200)]))
    size = path.stat().st_size
    assert read_table(path, max_bytes=size * 4).num_rows == 200
    expect_error(path, "parsed .json takes about 4x its size in memory", max_bytes=size * 2)


def test_compressed_file_gets_a_decompress_hint(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00")
    expect_error(path, "the '.gz' format is not supported", "Decompress it first")


def test_folder_size_limit_counts_all_files(tmp_path: Path) -> None:
    for label in ("a", "b"):
        (tmp_path / "docs" / label).mkdir(parents=True)
        for i in range(5):
            (tmp_path / "docs" / label / f"{i}.txt").write_text("x" * 300)
    expect_error(tmp_path / "docs", "is 2.9 KiB", "accepts up to 2.0 KiB", max_bytes=2048)


def test_named_pipe_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    path = tmp_path / "stream.csv"
    os.mkfifo(path)
    expect_error(path, "is not a regular file (it is a pipe, socket or device)")


def test_xlsx_with_a_cut_sheet_inside_a_valid_zip(tmp_path: Path) -> None:
    # The ZIP container is fine; the sheet's XML inside it is cut in half.
    book = openpyxl.Workbook()
    for i in range(50):
        book.active.append([f"row {i}", "label"])
    whole = io.BytesIO()
    book.save(whole)
    path = tmp_path / "cut-sheet.xlsx"
    with zipfile.ZipFile(io.BytesIO(whole.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            dst.writestr(item, data)
    message = expect_error(path, str(path), "is damaged or truncated", "save it again")
    assert "ParseError" not in message  # the XML layer's error name is no help to the user


def test_json_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    expect_error(path, "is nested too deeply to read")


def _flipped(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    damaged = bytearray(data)
    for at, value in flips:
        damaged[at % len(damaged)] = value
    return bytes(damaged[:cut] if cut else damaged)


def _sample_files() -> dict[str, bytes]:
    book = openpyxl.Workbook()
    for i in range(30):
        book.active.append([f"row {i} text", "yes" if i % 2 else "no"])
    xlsx = io.BytesIO()
    book.save(xlsx)
    parquet = io.BytesIO()
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(30)], "n": list(range(30))}), parquet)
    rows = "text,label\n" + "".join(f'"note {i}, with comma",{"ab"[i % 2]}\n' for i in range(30))
    return {".xlsx": xlsx.getvalue(), ".parquet": parquet.getvalue(), ".csv": rows.encode(),
            ".json": json.dumps([{"text": f"t{i}", "label": "a"} for i in range(30)]).encode()}


_SAMPLES = _sample_files()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from(sorted(_SAMPLES)),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.none() | st.integers(1, 4000))
def test_damaged_files_give_a_message_never_a_crash(tmp_path: Path, suffix: str,
                                                     flips: list[tuple[int, int]], cut: int | None) -> None:
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(_flipped(_SAMPLES[suffix], flips, cut))
    try:
        imported = read_table(path)
    except InputError as exc:
        assert path.name in str(exc)
        return
    # Whatever was readable must also survive inference and validation.
    problems = validate(imported, infer_mapping(imported), max_tokens=16)
    assert all(p.code for p in problems)


@pytest.mark.parametrize("suffix, where", [(".json", "item 2"), (".jsonl", "record 2")])
def test_half_a_character_in_json_is_named_not_a_traceback(tmp_path: Path, suffix: str, where: str) -> None:
    rows = [{"text": "fine", "label": "a"}, {"text": "bad \\ud800 here", "label": "b"}]
    body = (json.dumps(rows) if suffix == ".json" else "\n".join(json.dumps(r) for r in rows))
    path = tmp_path / f"data{suffix}"
    path.write_text(body.replace("\\\\ud800", "\\ud800"), encoding="utf-8")  # the raw escape
    assert "\\ud800" in path.read_text(encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_table(path)
    assert str(refused.value) == (f"{path}: {where}, column 'text' holds half of a character (an "
                                  "unpaired \\ud800-\\udfff escape), which is not text: fix the "
                                  "export that wrote it, or remove that escape")


def test_sigterm_stops_a_command_as_ctrl_c_does_and_the_handler_is_put_back(monkeypatch, capsys) -> None:
    """``kill`` or ``timeout`` sends SIGTERM: the command's own cleanup runs (as for Ctrl-C)
    instead of the process vanishing between two writes."""
    import argparse
    import signal
    import time

    from engine import cli

    cleaned: list[str] = []

    def killed_mid_work(_args) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted at once by the handler
            return 0
        finally:
            cleaned.append("partial files removed")

    parser = argparse.ArgumentParser(prog="cloister")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=killed_mid_work)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main([]) == 143
    assert cleaned == ["partial files removed"]
    said = capsys.readouterr()
    # Whether or not the command had changed anything: true either way.
    assert said.err.strip().startswith("cloister: stopped (terminated); nothing is left half-done")
    assert said.out == ""
    assert signal.getsignal(signal.SIGTERM) is before
    # A script reading --json output gets the stop on stdout too.
    assert cli.main(["--json"]) == 143
    assert json.loads(capsys.readouterr().out) == {"error": "stopped (terminated)", "exit_code": 143}


def test_no_placeholder_column_is_offered_where_there_is_no_other_column(tmp_path: Path) -> None:
    # "fix: --label-column L" and an import command with it, for a file with no other column:
    # run as printed, it failed with "column 'L' is not in ...".
    from engine.data.columns import ColumnMapping

    one_class = tmp_path / "one_class.csv"
    one_class.write_text("text,label\n" + "".join(f"note number {i} about lunch,ham\n" for i in range(20)))
    problems = validate(read_table(one_class), infer_mapping(read_table(one_class)))
    [single] = [p for p in problems if p.code == "single-class"]
    assert single.fix == ""
    topic = tmp_path / "topic.csv"
    topic.write_text("text,label,topic\n" + "".join(
        f"note number {i} about lunch,ham,{'food' if i % 2 else 'work'}\n" for i in range(20)))
    mapping = ColumnMapping(text_columns=("text",), label_column="label")
    [single] = [p for p in validate(read_table(topic), mapping) if p.code == "single-class"]
    assert single.fix == "--label-column topic"  # the column named like labels, by name
