"""Each supported format, encoding and dialect read into the same all-strings table."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.data.importing import SUPPORTED_FORMATS, SUPPORTED_SUFFIXES, read_table, registry
from engine.data.problems import Severity


def rows(imported) -> list[dict]:
    return imported.table.to_pylist()


def test_supported_formats_are_the_spec_list() -> None:
    assert set(SUPPORTED_FORMATS) == {"csv", "tsv", "json", "jsonl", "parquet", "xlsx", "folder"}
    assert {".csv", ".tsv", ".json", ".jsonl", ".parquet", ".xlsx"} <= set(SUPPORTED_SUFFIXES)
    assert ".txt" not in SUPPORTED_SUFFIXES  # one .txt per example lives in a label folder


def test_registry_refuses_a_duplicate_name_and_suffix() -> None:
    with pytest.raises(ValueError, match="'csv' is already registered"):
        registry.reader("csv", suffixes=(".other",), description="x")(lambda p, r: None)
    with pytest.raises(ValueError, match="'.tsv' is already read by the 'tsv' reader"):
        registry.reader("another", suffixes=(".tsv",), description="x")(lambda p, r: None)
    assert "another" not in {r.name for r in registry.registered()}


def test_csv_with_quoted_multiline_fields_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('text,label\n"first line\nsecond, with comma",pos\nplain,neg\n"he said ""hi""",pos\n')
    imported = read_table(path)
    assert imported.format == "csv" and imported.encoding == "utf-8"
    assert rows(imported) == [
        {"text": "first line\nsecond, with comma", "label": "pos"},
        {"text": "plain", "label": "neg"},
        {"text": 'he said "hi"', "label": "pos"},
    ]
    assert imported.first_data_line == 2 and imported.problems == ()


def test_numbers_stay_strings_exactly_as_written(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("text,label\nhello,007\nbye,1.50\n")
    assert read_table(path).table.column("label").to_pylist() == ["007", "1.50"]
    assert read_table(path).table.schema.field("label").type == pa.string()


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_delimiter_is_sniffed_in_a_csv(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "data.csv"
    lines = [f"review{delimiter}score"] + [f"text, number {i}{delimiter}{i % 3}" for i in range(30)]
    path.write_text("\n".join(lines) + "\n")
    imported = read_table(path)
    assert imported.column_names == ["review", "score"]
    assert imported.num_rows == 30
    assert imported.table.column("review")[4].as_py() == "text, number 4"


def test_tsv_with_stray_quotes_keeps_them(tmp_path: Path) -> None:
    # SMS exports have messages that start with a quote that is not CSV quoting.
    path = tmp_path / "sms.tsv"
    path.write_text('label\tmessage\nham\t"Happy day" I know its early\nspam\tWIN "cash" now\nham\tok\n')
    imported = read_table(path)
    assert imported.table.column("message").to_pylist() == [
        '"Happy day" I know its early', 'WIN "cash" now', "ok"]


def test_headerless_file_gets_generated_names(tmp_path: Path) -> None:
    path = tmp_path / "news.tsv"
    lines = ["A long first headline about markets that is clearly a sentence\tBusiness",
             "Team wins the cup after extra time\tSports", "Stocks fall again\tBusiness"]
    path.write_text("\n".join(lines) + "\n")
    imported = read_table(path)
    assert imported.column_names == ["column_1", "column_2"]
    assert imported.num_rows == 3 and imported.first_data_line == 1
    assert not imported.has_header
    forced = read_table(path, header=True)
    assert forced.num_rows == 2 and forced.column_names[1] == "Business"


def test_ragged_rows_are_skipped_and_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\na,x\nb,y\nc,x,extra\nd,y\n")
    imported = read_table(path)
    assert imported.table.column("text").to_pylist() == ["a", "b", "d"]
    (problem,) = imported.problems
    assert problem.code == "ragged-row" and problem.severity is Severity.WARNING
    assert "line 4 has 3 fields where the header has 2" in problem.message
    assert "c,x,extra" not in str(problem)  # reports never echo row contents


def test_identical_ragged_rows_are_each_reported_at_their_own_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\na,x\n;;\nb,y\n;;\nc,x\n;;\n")
    lines = [p.message.split(" has ")[0] for p in read_table(path).problems
             if p.code == "ragged-row"]
    assert lines == ["line 3", "line 5", "line 7"]  # each its own, not the first one's thrice


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be")],
)
def test_unicode_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "café.csv"
    raw = "text,label\ncrème brûlée,dessert\nnaïve café,drink\n".encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw  # Python writes no BOM for the explicit-endian codec
    path.write_bytes(raw)
    imported = read_table(path)
    assert imported.encoding == expected
    assert imported.column_names == ["text", "label"]  # the BOM is not part of the first name
    assert rows(imported)[0] == {"text": "crème brûlée", "label": "dessert"}
    assert imported.problems == ()


def test_latin1_falls_back_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("text,label\nça coûte cher,neg\nvoilà,pos\n".encode("latin-1"))
    imported = read_table(path)
    assert imported.encoding == "cp1252"
    assert imported.table.column("text").to_pylist() == ["ça coûte cher", "voilà"]
    (problem,) = imported.problems
    assert problem.code == "legacy-encoding" and problem.severity is Severity.WARNING
    assert "not UTF-8" in problem.message and "UTF-8" in problem.hint


def test_damaged_utf8_keeps_good_characters_and_marks_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "damaged.csv"
    path.write_bytes("text,label\nnaïve résumé,a\n".encode() + b"bad \xff byte,b\n")
    imported = read_table(path)
    assert imported.encoding == "utf-8"
    assert imported.table.column("text").to_pylist() == ["naïve résumé", "bad \ufffd byte"]
    assert [p.code for p in imported.problems] == ["undecodable-bytes"]


def test_json_array_of_objects(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"text": "a", "label": 1}, {"text": "b", "label": 0, "extra": [1, 2.0]},
                                {"label": None, "text": "c", "extra": [{"k": 1}]}]))
    imported = read_table(path)
    assert imported.format == "json"
    assert rows(imported) == [
        {"text": "a", "label": "1", "extra": None},
        {"text": "b", "label": "0", "extra": "1|2"},  # plain values: as multi-label is written
        {"text": "c", "label": None, "extra": '[{"k": 1}]'},  # anything else: its JSON
    ]


def test_nested_objects_become_columns_named_by_their_path(tmp_path: Path) -> None:
    """API and chat-tool exports nest their fields; arrays stay one cell, an empty object adds
    no column, and a field that is an object in one row and text in another keeps both."""
    records = [{"user": {"text": "hi", "meta": {"lang": "en"}}, "tags": ["a", "b"], "ctx": {}},
               {"user": {"text": "yo"}, "ctx": {"slot": "date"}},
               {"user": "plain", "tags": []}]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(records))
    assert rows(read_table(path)) == [
        {"user.text": "hi", "user.meta.lang": "en", "tags": "a|b", "ctx.slot": None, "user": None},
        {"user.text": "yo", "user.meta.lang": None, "tags": None, "ctx.slot": "date", "user": None},
        {"user.text": None, "user.meta.lang": None, "tags": None, "ctx.slot": None, "user": "plain"},
    ]
    lines = tmp_path / "data.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records[:2]) + "\n")
    assert read_table(lines).table.column_names == ["user.text", "user.meta.lang", "tags", "ctx.slot"]


def test_flattening_keeps_colliding_paths_and_leaves_id_maps_whole(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"a.b": "flat", "a": {"b": "nested"}, "text": "x",
                                 "mapping": {f"id-{i}": {"m": i} for i in range(60)}}]))
    imported = read_table(path)
    assert imported.table.column_names == ["a.b", "a.b_2", "text", "mapping"]
    assert rows(imported)[0]["a.b_2"] == "nested"  # nothing overwritten
    assert json.loads(rows(imported)[0]["mapping"])["id-59"] == {"m": 59}  # one cell, not 60 columns


def test_a_real_nested_export_is_read_with_its_text_found(tmp_path: Path) -> None:
    """Restaurant-8k (tests/data): each utterance sits at userInput.text; before, the whole
    nested object was one cell and the slot spans' JSON was taken for the text."""
    from engine.data.columns import infer_mapping

    imported = read_table(Path(__file__).parents[1] / "data" / "restaurant8k" / "train_0_40.json")
    assert imported.table.num_rows == 40
    assert imported.table.column_names == ["userInput.text", "context.requestedSlots", "labels"]
    mapping = infer_mapping(imported)
    assert mapping.text_columns == ("userInput.text",)
    texts = imported.table.column("userInput.text").to_pylist()
    assert texts[0] == "There will be 5 adults and 1 child."
    assert mapping.label_column == "context.requestedSlots"
    # The requested slots, a list of names, read as multi-label does ("first_name|last_name").
    slots = [v for v in imported.table.column("context.requestedSlots").to_pylist() if v]
    assert slots[:3] == ["people", "time", "time"] and "people|date|time" in slots


def test_rows_wrapped_in_an_object_are_read_from_its_one_array(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"count": 2, "data": [{"text": "a", "label": "x"},
                                                     {"text": "b", "label": "y"}], "tags": ["t"]}))
    imported = read_table(path)
    assert rows(imported) == [{"text": "a", "label": "x"}, {"text": "b", "label": "y"}]
    (note,) = imported.problems
    assert note.code == "json-wrapped" and note.severity is Severity.INFO
    assert note.message == "the rows were read from the array under the key 'data'"


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('\n{"text": "a", "label": true}\n\n{"text": "b", "label": false}\n')
    imported = read_table(path)
    assert imported.format == "jsonl" and imported.first_data_line == 2
    assert rows(imported) == [{"text": "a", "label": "true"}, {"text": "b", "label": "false"}]


def test_a_tag_with_a_bar_of_its_own_keeps_its_list_whole(tmp_path: Path) -> None:
    path = tmp_path / "bars.json"
    path.write_text(json.dumps([{"text": "a", "tags": ["a|b", "c"]}, {"text": "b", "tags": ["c"]}]))
    assert [r["tags"] for r in rows(read_table(path))] == ['["a|b", "c"]', "c"]  # not three tags


def test_parquet_tag_lists_read_as_multi_label_and_structs_as_json(tmp_path: Path) -> None:
    path = tmp_path / "tags.parquet"
    pq.write_table(pa.table({"text": ["a", "b", "c"], "tags": [["billing", "urgent"], [], None],
                             "meta": [{"k": 1}, {"k": 2}, None]}), path)
    assert rows(read_table(path)) == [
        {"text": "a", "tags": "billing|urgent", "meta": '{"k": 1}'},
        {"text": "b", "tags": None, "meta": '{"k": 2}'},
        {"text": "c", "tags": None, "meta": None},
    ]


def test_parquet_columns_become_strings(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"text": ["x", "y", None], "label": [1.0, 2.0, 2.5],
                             "flag": [True, False, None]}), path)
    imported = read_table(path)
    assert imported.format == "parquet"
    assert rows(imported) == [
        {"text": "x", "label": "1", "flag": "true"},
        {"text": "y", "label": "2", "flag": "false"},
        {"text": None, "label": "2.5", "flag": None},
    ]


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Notes"
    first.append(["note", "outcome"])
    first.append(["patient stable", "discharge"])
    first.append(["needs scan", 3])
    second = book.create_sheet("Other")
    second.append([None])
    second.append(["text", "label"])
    second.append(["from the second sheet", "b"])
    book.save(path)


def test_xlsx_first_sheet_by_default_and_named_sheet(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    _workbook(path)
    first = read_table(path)
    assert first.format == "xlsx" and first.sheet == "Notes"
    assert rows(first) == [{"note": "patient stable", "outcome": "discharge"},
                           {"note": "needs scan", "outcome": "3"}]
    other = read_table(path, sheet="other")  # sheet names match case-insensitively
    assert other.sheet == "Other" and rows(other) == [{"text": "from the second sheet", "label": "b"}]
    assert other.first_data_line == 3  # blank row 1, header row 2
    # Which sheet was read is never silent: the first of several says so, and names the others.
    assert first.sheets == other.sheets == ("Notes", "Other")
    (note,) = [p for p in first.problems if p.code == "other-sheets"]
    assert note.message == "read sheet 'Notes', the first of 2 ('Notes', 'Other')"
    assert "--sheet NAME" in note.hint
    assert not [p for p in other.problems if p.code == "other-sheets"]  # chosen by name


def test_sheets_without_data_before_the_data_are_passed_over_and_named(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "cover.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.create_sheet("Headers only").append(["text", "label"])
    data = book.create_sheet("Data")
    data.append(["text", "label"])
    data.append(["a ticket", "bug"])
    book.save(path)
    imported = read_table(path)
    assert imported.sheet == "Data" and imported.num_rows == 1
    (note,) = [p for p in imported.problems if p.code == "other-sheets"]
    assert note.message == ("read sheet 'Data', the first holding data ('Cover', 'Headers only' "
                            "have none) of 3 ('Cover', 'Headers only', 'Data')")
    # Named, a sheet is read as it is, and an empty one says which sheets there are.
    with pytest.raises(InputError) as raised:
        read_table(path, sheet="Cover")
    said = str(raised.value)
    assert said.endswith("sheet 'Cover' is empty. Its sheets are: 'Cover', 'Headers only', "
                         "'Data'; choose the one that holds the data (the Sheet box, or --sheet "
                         "NAME).")
    assert said.count("holds the data") == 1  # it was said twice
    book.remove(book["Data"])
    book.save(path)
    with pytest.raises(InputError, match=r"sheet 'Cover' is empty"):  # none holds data
        read_table(path)


def test_xlsx_title_rows_above_the_header_are_not_taken_for_it(tmp_path: Path) -> None:
    """A report-style sheet: a title in A1, a blank row, then the column names. The title used
    to become the header, and the real header a row of data labelled 'label'."""
    import openpyxl

    path = tmp_path / "report.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Support tickets, third quarter"])
    sheet.append([None])
    sheet.append(["text", "label"])
    for i in range(12):
        sheet.append([f"ticket number {i} about billing", "billing" if i % 2 else "tech"])
    book.save(path)
    imported = read_table(path)
    assert imported.column_names == ["text", "label"] and imported.num_rows == 12
    assert imported.first_data_line == 4  # title row 1, blank row 2, header row 3
    assert rows(imported)[0] == {"text": "ticket number 0 about billing", "label": "tech"}
    # A sheet of one-cell data rows (no header after them) keeps every row.
    single = tmp_path / "single.xlsx"
    book = openpyxl.Workbook()
    for i in range(6):
        book.active.append([f"just text {i}"])
    book.save(single)
    kept = read_table(single)
    assert kept.num_rows + kept.has_header == 6 and kept.first_data_line == 1 + kept.has_header
    # --no-header / --header: the user's word stands, nothing is skipped.
    assert read_table(path, header=True).column_names[0] == "Support tickets, third quarter"


def test_suffixless_tab_file_is_sniffed_as_tsv(tmp_path: Path) -> None:
    path = tmp_path / "SMSCollection"
    path.write_text("output\tmessage\n" + "".join(f"ham\tmessage number {i}\n" for i in range(20)))
    imported = read_table(path)
    assert imported.format == "tsv" and imported.num_rows == 20
    assert imported.column_names == ["output", "message"]


def test_reading_writes_nothing_to_disk(tmp_path: Path, isolated_dirs: dict[str, Path]) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "data.csv").write_text("text,label\n" + "".join(f"t{i},l{i % 2}\n" for i in range(50)))
    (source / "legacy.csv").write_bytes("text,label\nçà,a\n".encode("latin-1"))
    (source / "data.json").write_text(json.dumps([{"text": "a", "label": "b"}]))
    (source / "data.jsonl").write_text('{"text": "a", "label": "b"}\n')
    pq.write_table(pa.table({"text": ["a"], "label": ["b"]}), source / "data.parquet")
    _workbook(source / "data.xlsx")
    (source / "folder" / "pos").mkdir(parents=True)
    (source / "folder" / "pos" / "1.txt").write_text("fine")
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    for name in ("data.csv", "legacy.csv", "data.json", "data.jsonl", "data.parquet", "data.xlsx", "folder"):
        assert read_table(source / name).num_rows >= 1
    # No new file anywhere under the test's root (caches, TMPDIR, workspace), none modified.
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    assert not any(isolated_dirs["TMPDIR"].iterdir())


def test_file_given_as_str_and_with_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "d.csv").write_text("text,label\na,b\n")
    assert read_table("~/d.csv").source == tmp_path / "d.csv"
    assert read_table(os.fspath(tmp_path / "d.csv")).num_rows == 1


def test_legacy_encoding_header_names_are_decoded_too(tmp_path: Path) -> None:
    # The header is sniffed before the encoding is known; it must not keep U+FFFD in names.
    path = tmp_path / "fr.csv"
    path.write_bytes("texte,catégorie\nça va,positif\nbof,négatif\n".encode("cp1252"))
    imported = read_table(path)
    assert imported.column_names == ["texte", "catégorie"]
    assert imported.table.column("catégorie").to_pylist() == ["positif", "négatif"]


def test_utf8_file_with_a_late_legacy_byte_falls_back(tmp_path: Path) -> None:
    # The first megabyte looks like UTF-8; the parser finds the bad byte near the end.
    path = tmp_path / "late.csv"
    body = "".join(f"row number {i},{'ab'[i % 2]}\n" for i in range(60_000))
    path.write_bytes(("text,label\n" + body).encode() + "déjà vu,a\n".encode("cp1252"))
    imported = read_table(path)
    assert imported.encoding == "cp1252" and imported.num_rows == 60_001
    assert imported.table.column("text")[-1].as_py() == "déjà vu"


def test_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "excel-export.csv"
    path.write_bytes(b'text,label\r\n"two\r\nlines",a\r\nplain,b\r\n')
    imported = read_table(path)
    assert imported.column_names == ["text", "label"]
    assert rows(imported) == [{"text": "two\r\nlines", "label": "a"}, {"text": "plain", "label": "b"}]


def test_bom_file_with_a_damaged_byte_keeps_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\nok,a\nbad \xff,b\n")
    imported = read_table(path)
    assert imported.encoding == "utf-8-sig" and imported.column_names == ["text", "label"]
    assert imported.table.column("text").to_pylist() == ["ok", "bad \ufffd"]
    assert [p.code for p in imported.problems] == ["undecodable-bytes"]


def test_bytes_undefined_in_cp1252_mean_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"text,label\ncaf\xe9 \x81,a\n")
    imported = read_table(path)
    assert imported.encoding == "latin-1"
    assert imported.table.column("text").to_pylist() == ["café \x81"]


def test_debug_log_has_the_shape_but_no_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "secret.csv"
    path.write_text("patient_note,diagnosis\nJohn Smith has flu,flu\nJane Roe has cold,cold\n")
    with caplog.at_level("DEBUG", logger="engine.data.importing"):
        read_table(path)
    assert "read csv: 2 rows x 2 columns, encoding utf-8" in caplog.text
    for secret in ("John", "Jane", "flu", "patient_note", "diagnosis"):
        assert secret not in caplog.text


_CELL = st.text(alphabet=st.sampled_from(list('ab yz,;|"\t\n\r\'é€✓0')), min_size=1, max_size=12)


@pytest.mark.parametrize(("name", "delimiter"), [("r.csv", ","), ("r.csv", ";"), ("r.tsv", "\t")])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows_in=st.lists(st.tuples(_CELL, st.sampled_from(["pos", "neg", "n/a"])), min_size=2, max_size=30))
def test_csv_written_by_python_reads_back_exactly(tmp_path: Path, name: str, delimiter: str,
                                                   rows_in: list[tuple[str, str]]) -> None:
    # Whatever the texts hold (delimiters, quotes, line breaks), a standard CSV round-trips.
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["text", "label"])
        writer.writerows(rows_in)
    imported = read_table(path)  # delimiter, quoting and header all detected
    assert imported.column_names == ["text", "label"]
    assert [(r["text"], r["label"]) for r in rows(imported)] == rows_in


def test_utf16_without_bom_is_recognised_not_called_binary(tmp_path: Path) -> None:
    path = tmp_path / "nobom.tsv"
    path.write_bytes("text\tlabel\nhello there\tgreeting\nbye now\tfarewell\n".encode("utf-16-le"))
    imported = read_table(path)
    assert imported.encoding == "utf-16-le"
    assert rows(imported)[1] == {"text": "bye now", "label": "farewell"}


def test_a_whole_document_in_one_cell(tmp_path: Path) -> None:
    # Longer than the csv module's 128 KiB field limit (sniffing) and than pyarrow's 4 MiB
    # parse block (one row may not straddle two blocks): both must cope.
    document = "word " * 1_200_000  # 6 MB, after 2 MB of short rows so it crosses a block edge
    path = tmp_path / "long.csv"
    short = "".join(f"row {i},a\n" for i in range(200_000))
    path.write_text(f'text,label\n{short}"{document}",report\nshort note,memo\n')
    imported = read_table(path)
    assert imported.column_names == ["text", "label"]
    assert imported.num_rows == 200_002
    assert imported.table.column("label").to_pylist()[-2:] == ["report", "memo"]
    assert imported.table.column("text")[200_000].as_py() == document


def test_a_long_first_field_does_not_break_sniffing(tmp_path: Path) -> None:
    # 200 KB in the first record: above the csv module's default 128 KiB field limit.
    path = tmp_path / "long-first.csv"
    path.write_text(f'text,label\n"{"x" * 200_000}",a\nshort,b\n')
    limit_before = csv.field_size_limit()
    imported = read_table(path)
    assert imported.column_names == ["text", "label"] and imported.num_rows == 2
    assert csv.field_size_limit() == limit_before  # the process-wide limit was put back


def test_ragged_row_with_a_legacy_byte(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # pyarrow cannot hand this row to the ragged-row callback (it is not UTF-8): the file is
    # re-read as what it is, quietly, and the row is still reported and skipped.
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"text,label\nhello,a\nbad\xff row\nok,b\n")
    imported = read_table(path)
    assert imported.encoding == "cp1252"
    assert imported.table.column("text").to_pylist() == ["hello", "ok"]
    assert [p.message.split(";")[0] for p in imported.problems if p.code == "ragged-row"] == [
        "line 3 has 1 field where the header has 2"]
    assert capfd.readouterr().err == ""  # no "Exception ignored" noise on stderr
