"""A quote that opens a field and is never closed (engine/data/importing/open_quote.py).

Past the records the dialect is sniffed on, such a quote made pyarrow read the rest of the file
into one field: the import kept every row before it, reported one bad row, and lost all the
rows after it without a word.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.data.importing import read_table
from engine.errors import InputError


def _sms_rows(real_data: Path) -> list[tuple[str, str]]:
    """The real SMS messages of tests/data that hold no quote (591 of 600), as (text, label):
    written tab-separated, none is quoted, so a stray quote has no other to pair with."""
    lines = (real_data / "sms_spam_collection" / "SMSSpamCollection").read_text("utf-8").splitlines()
    return [(text, label) for label, _, text in (line.partition("\t") for line in lines)
            if '"' not in text]


def _write(path: Path, rows: list[tuple[str, str]], *, delimiter: str = "\t",
           encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def _with_stray_quote(path: Path, row: int, *, in_label: bool = False) -> None:
    """Put an unmatched quote at the start of data row ``row``'s text (or label), as a hand edit
    or a message that begins with one would."""
    lines = path.read_text("utf-8").split("\n")
    text, _, label = lines[row].rpartition("\t")
    lines[row] = f'{text}\t"{label}' if in_label else f'"{text}\t{label}'
    path.write_text("\n".join(lines), "utf-8")


@pytest.mark.parametrize("in_label", [False, True], ids=["text", "label"])
def test_a_quote_never_closed_past_the_sample_is_refused_with_its_line(
        tmp_path: Path, real_data: Path, in_label: bool) -> None:
    rows = _sms_rows(real_data)
    path = _write(tmp_path / "sms.tsv", rows)
    line = 530  # past the first 500 records, which the dialect is sniffed on
    _with_stray_quote(path, line, in_label=in_label)
    # Without the check this read 'line' rows, reported one skipped row (the quote in the text)
    # or none (the quote in the label, whose cell then held the rest of the file).
    with pytest.raises(InputError) as raised:
        read_table(path)
    message = str(raised.value)
    assert f"line {line + 1}:" in message and "never closed" in message
    lost = len(rows) + 1 - (line + 1)
    assert f"the {lost} lines after it" in message


def test_a_quote_never_closed_in_a_small_file_is_not_called_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text('text,label\n"free entry now,spam\nsee you at lunch,ham\n', "utf-8")
    with pytest.raises(InputError, match=r"line 2: a quote .* the 1 line after it"):
        read_table(path)


def test_a_tab_separated_file_in_a_legacy_encoding_is_checked_too(tmp_path: Path, real_data: Path) -> None:
    rows = [(text.encode("cp1252", "replace").decode("cp1252"), label)
            for text, label in _sms_rows(real_data)] + [("café au lait ce soir", "ham")]
    path = _write(tmp_path / "sms.tsv", rows, delimiter="\t", encoding="cp1252")
    body = path.read_bytes().split(b"\n")
    body[560] = b'"' + body[560]
    path.write_bytes(b"\n".join(body))
    with pytest.raises(InputError, match=r"line 561: a quote"):
        read_table(path)


def test_a_quote_closed_far_below_is_reported_where_it_opens(tmp_path: Path, real_data: Path) -> None:
    # Mid-file, a stray quote pairs with the next quote in the file: the lines between are read
    # into one cell. That row keeps its two fields, so nothing was skipped and nothing was said.
    rows = _sms_rows(real_data)
    rows[560] = ('He said "see you', rows[560][1])  # csv.writer quotes this one
    path = _write(tmp_path / "sms.tsv", rows)
    _with_stray_quote(path, 530)
    imported = read_table(path)
    assert imported.table.num_rows == len(rows) - 31
    [problem] = [p for p in imported.problems if p.code == "rows-in-a-cell"]
    assert (problem.row, problem.column) == (530, "text")  # data row 530 is line 531
    assert problem.message.startswith("this cell holds 31 lines that read as rows of the file")


def test_a_row_skipped_over_several_lines_says_how_many(tmp_path: Path, real_data: Path) -> None:
    rows = _sms_rows(real_data)
    path = _write(tmp_path / "sms.tsv", rows)
    lines = path.read_text("utf-8").split("\n")
    lines[561] = 'wait" for me\tham\textra'  # the quote that closes the stray one, in a 3-field row
    path.write_text("\n".join(lines), "utf-8")
    _with_stray_quote(path, 530)
    imported = read_table(path)
    [problem] = [p for p in imported.problems if p.code == "ragged-row"]
    assert problem.message.startswith("line 531 has 3 fields where the header has 2 (read as "
                                      "one row over 32 lines: check its quotes")


def test_paragraphs_in_quoted_cells_are_not_taken_for_rows(tmp_path: Path, real_data: Path) -> None:
    rows = _sms_rows(real_data)
    # Prose over several lines whose lines hold the delimiter, even ending in a label's value.
    rows[100] = ("Dear team,\nthe refund, late again.\nsee you,ham\nRegards, ham\nJo", "spam")
    path = _write(tmp_path / "sms.csv", rows, delimiter=",")
    imported = read_table(path)
    assert imported.table.num_rows == len(rows)
    assert not [p for p in imported.problems if p.code == "rows-in-a-cell"]


def test_a_quote_left_open_far_from_the_end_is_refused_too(tmp_path: Path, real_data: Path) -> None:
    # The record it opens runs to the end of the file: past 128 KiB, Python's csv module (which
    # tells an open quote) refused the field for its size, and 10,000 rows went unsaid again.
    rows = _sms_rows(real_data) * 4  # ~2,400 real messages, ~200 KB
    path = _write(tmp_path / "sms.tsv", rows)
    _with_stray_quote(path, 530)
    with pytest.raises(InputError, match=r"line 531: a quote .* the 1,834 lines after it"):
        read_table(path)


def test_the_line_is_the_open_quotes_not_the_records_start(tmp_path: Path, real_data: Path) -> None:
    # A record that begins with a closed cell over two lines, then leaves a quote open.
    rows = _sms_rows(real_data)[:600]
    path = _write(tmp_path / "sms.tsv", rows)
    lines = path.read_text("utf-8").split("\n")
    lines[550:551] = ['"first line', 'second line"\t"ham', 'after\tham']  # lines 551-553
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(InputError, match=r"line 552: a quote"):
        read_table(path)


def test_quoted_cells_over_several_lines_at_the_end_are_read_whole(tmp_path: Path, real_data: Path) -> None:
    rows = _sms_rows(real_data)
    # A closed multi-line cell last, in either column, with a doubled quote inside.
    rows += [("first line\nsecond line", "ham"), ("a note", 'two\nlines, "quoted"')]
    path = _write(tmp_path / "sms.csv", rows, delimiter=",")
    table = read_table(path).table
    assert table.num_rows == len(rows)
    assert table.column("label")[-1].as_py() == 'two\nlines, "quoted"'
    assert table.column("text")[-2].as_py() == "first line\nsecond line"
