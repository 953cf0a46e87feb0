"""What spreadsheet exports leave in a CSV that is not data (``engine.data.importing.tidy``):
Excel's ``sep=`` line, rows of bare delimiters below the data, unnamed empty columns, and the
header again where several exports were joined. Each is read past, with a note, and nothing else
is dropped."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.data.columns import infer_mapping
from engine.data.importing import read_table
from engine.data.problems import Severity
from engine.data.validation import validate


def notes(imported) -> dict[str, str]:  # noqa: ANN001
    """What the reader said about what it left out: a note, or (a repeated header, a totals
    row: rows gone on a guess) a warning."""
    said = {p.code: p for p in imported.problems}
    guessed = {"header-repeated", "footer-row"}
    assert all(p.severity is (Severity.WARNING if code in guessed else Severity.INFO)
               for code, p in said.items())
    return {code: p.message for code, p in said.items()}


def test_excels_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "european.csv"
    # Decimal commas in the data: without the sep line, a comma split would look plausible.
    path.write_bytes('\ufeffsep=;\r\ntext;label;score\r\n"good, really";pos;0,9\r\nbad;neg;0,1\r\n'
                     .encode("utf-8"))
    imported = read_table(path)
    assert imported.table.column_names == ["text", "label", "score"]
    assert imported.table.to_pylist()[0] == {"text": "good, really", "label": "pos", "score": "0,9"}
    assert imported.first_data_line == 3 and imported.has_header
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('"sep=|"\ntext|label\na|x\nb|y\n', encoding="utf-8")
    assert read_table(quoted).table.column_names == ["text", "label"]


def test_a_european_export_without_a_sep_line_is_split_on_its_semicolons(tmp_path: Path) -> None:
    # German Excel's "CSV (Trennzeichen-getrennt)": cp1252, semicolons, decimal commas. Every
    # data row splits in two on its decimal comma as evenly as in three on its semicolons;
    # only the header tells them apart (it was read as one column named "Beschreibung;...").
    path = tmp_path / "preise.csv"
    texts = ["Trotz Kündigung wurde mein Konto weiterhin belastet.", "Bitte um ein Angebot für März.",
             "Vielen Dank für die schnelle Hilfe!"]
    lines = ["Beschreibung;Kategorie;Preis"] + [
        f"{texts[i % 3]} ({i});{('Beschwerde', 'Anfrage', 'Lob')[i % 3]};{i},{i % 10}0"
        for i in range(1, 300)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    imported = read_table(path)
    assert imported.table.column_names == ["Beschreibung", "Kategorie", "Preis"]
    first = imported.table.to_pylist()[0]
    assert first == {"Beschreibung": "Bitte um ein Angebot für März. (1)", "Kategorie": "Anfrage",
                     "Preis": "1,10"}
    # A comma file whose texts carry semicolons stays a comma file.
    english = tmp_path / "english.csv"
    english.write_text("text,label\n" + "".join(f"fine; thanks ({i}),pos\n" for i in range(40)),
                       encoding="utf-8")
    assert read_table(english).table.column_names == ["text", "label"]


def test_the_header_repeated_by_joined_exports_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "joined.csv"
    path.write_text("text,label\ngood movie,pos\nbad film,neg\ntext,label\ngreat,pos\n"
                    "text, label \nawful,neg\n", encoding="utf-8")
    imported = read_table(path)
    assert imported.has_header  # the repeats used to hide the header: "label" became a class
    assert imported.table.column("label").to_pylist() == ["pos", "neg", "pos", "neg"]
    assert notes(imported)["header-repeated"].startswith("2 rows that repeat the header (rows 3, 5)")
    labels = {p.message for p in validate(imported, infer_mapping(imported))}
    assert not any("'label'" in m for m in labels)
    # A row that shares one value with the header is data, and stays.
    partial = tmp_path / "partial.csv"
    partial.write_text("text,label\ntext,neg\nhello,pos\n", encoding="utf-8")
    assert read_table(partial, header=True).table.column("text").to_pylist() == ["text", "hello"]


def test_bare_delimiter_rows_below_the_data_and_empty_unnamed_columns_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("text,label,,notes\ngood movie,pos,,\n,,,\nbad film,neg,,\n,,,\n, ,,\n",
                    encoding="utf-8")
    imported = read_table(path)
    # The empty named column stays (the user named it); the unnamed empty one goes.
    assert imported.table.column_names == ["text", "label", "notes"]
    # The empty row inside the data keeps its place (its row number, and --drop-empty fixes it).
    assert imported.table.column("text").to_pylist() == ["good movie", "", "bad film"]
    said = notes(imported)
    assert said["empty-columns"].startswith("1 column with no name and no value in any row (column_3)")
    assert said["empty-rows"].startswith("2 rows with no value in any column (rows 4, 5)")
    problems = validate(imported, infer_mapping(imported))
    assert [(p.code, p.row) for p in problems if p.blocking][:2] == [("empty-text", 2), ("missing-label", 2)]


def test_a_file_of_only_data_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    path.write_text("text,label\na,x\nb,y\n", encoding="utf-8")
    imported = read_table(path)
    assert imported.table.num_rows == 2 and not notes(imported)


def test_sheets_pasted_together_repeat_their_header_in_excel_too(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in [("text", "label"), ("good movie", "pos"), ("bad film", "neg"), ("text", "label"),
                ("great", "pos")]:
        sheet.append(row)
    path = tmp_path / "pasted.xlsx"
    book.save(path)
    imported = read_table(path)
    assert imported.table.column("label").to_pylist() == ["pos", "neg", "pos"]
    assert notes(imported)["header-repeated"].startswith("1 row that repeats the header (row 3)")


def test_the_header_is_found_again_past_an_empty_unnamed_column(tmp_path: Path) -> None:
    """The unnamed empty column goes, and the header's fields still pair with the right columns."""
    path = tmp_path / "gap.csv"
    path.write_text("text,,label\ngood,,pos\nbad,,neg\ntext,,label\ngreat,,pos\n", encoding="utf-8")
    imported = read_table(path)
    assert imported.table.column_names == ["text", "label"]
    assert imported.table.column("label").to_pylist() == ["pos", "neg", "pos"]


def test_a_first_row_of_data_that_repeats_is_not_taken_for_a_header(tmp_path: Path) -> None:
    """Only a first row that names columns as headers do ('text', 'Product') is a header when it
    comes again; a repeated first row of data stays data, every copy of it."""
    path = tmp_path / "headerless.csv"
    path.write_text("hi,greeting\nbye,farewell\nhi,greeting\nthanks,gratitude\nyo,slang\n",
                    encoding="utf-8")
    imported = read_table(path)
    assert not imported.has_header and imported.table.num_rows == 5 and not imported.problems


def test_joined_exports_in_any_language_each_with_its_bom_and_sep_line(tmp_path: Path) -> None:
    """German column names (no header word Cloister knows), each part saved by Excel with a BOM
    and a sep= line, one part with its header in capitals: the header is still found, because
    the column below 'Kommentar' holds sentences and the one below 'ID' numbers."""
    part = "sep=;\r\n{header}\r\n" + "".join(
        f"{i};Die Lieferung kam {i} Tage zu spät an und war beschädigt;Versand\r\n" for i in range(4))
    text = "".join("\ufeff" + part.format(header=h) for h in ("ID;Kommentar;Kategorie",
                                                                "ID;KOMMENTAR;KATEGORIE"))
    two = "".join("\ufeffsep=;\r\ntext;label\r\nguter Film;pos\r\nschlecht;neg\r\n" for _ in range(2))
    path, short = tmp_path / "joined.csv", tmp_path / "two_columns.csv"
    path.write_bytes(text.encode("utf-8"))
    short.write_bytes(two.encode("utf-8"))
    imported = read_table(path)
    assert imported.has_header and imported.table.column_names == ["ID", "Kommentar", "Kategorie"]
    assert imported.table.column("Kategorie").to_pylist() == ["Versand"] * 8
    assert notes(imported)["header-repeated"].startswith("1 row that repeats the header")
    # With two columns the sep= line is a row of its own ("sep=", ""): left out too, and said.
    imported = read_table(short)
    assert imported.table.column("label").to_pylist() == ["pos", "neg", "pos", "neg"]
    assert notes(imported)["sep-repeated"].startswith("1 more 'sep=' line")


def test_a_totals_row_at_the_bottom_is_left_out_and_said(tmp_path: Path) -> None:
    path = tmp_path / "with_totals.csv"
    path.write_text("text,label,amount\ngood,pos,3\nbad,neg,\"1,234.50\"\nok,pos,5\nTotal:,,\"1,242.50\"\n,,\n",
                    encoding="utf-8")
    imported = read_table(path)
    assert imported.table.column("text").to_pylist() == ["good", "bad", "ok"]
    said = notes(imported)["footer-row"]
    assert said.startswith("the last row of data (row 4) starts with a word for 'total'")
    assert "1,242" not in said  # problems never echo a row's values
    # 'Total' with text beside it is data ('Total waste of time' is a review), and stays.
    review = tmp_path / "review.csv"
    review.write_text("text,label\ngood,pos\nbad,neg\nTotal,disaster\n", encoding="utf-8")
    assert read_table(review).table.num_rows == 3


def test_rows_that_only_look_like_totals_or_headers_stay_data(tmp_path: Path) -> None:
    """'Total' with a 0/1 label or a blank, a one-column file ending in 'sum', and a greeting
    users send again and again above longer messages: all data, every row kept."""
    cases = {
        "binary.csv": ("text,label\ngood,1\nbad,0\nok,1\nTotal,1\n", 4),
        "blank.csv": ("text,label\ngood,pos\nbad,neg\nok,pos\nTotal,\n", 4),
        "one.csv": ("word\na\nb\nsum\n", 3),
        "greetings.csv": ("hi,greeting\nwhat time does the store open on sunday mornings,hours\n"
                          "hi,greeting\nwhere is my parcel it has been a week already,delivery\n"
                          "hi,greeting\n", 5),
    }
    for name, (text, rows) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        imported = read_table(path)
        assert imported.table.num_rows == rows and not imported.problems, name


def test_a_file_to_predict_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "to_predict.csv"
    path.write_text("text,amount\ngood,3\nbad,4\nok,5\nTotal,12\n,\n", encoding="utf-8")
    assert read_table(path).table.num_rows == 3  # as a dataset: the totals and empty rows go
    assert read_table(path, tidy=False).table.num_rows == 5  # to predict: one answer per row


def test_problems_in_a_workbook_name_the_row_the_sheet_shows(tmp_path: Path) -> None:
    """A title block and the header sit above the data: 'row 3' of the data is sheet row 6."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in [("Tickets, Q3",), (), ("text", "label"), ("good", "pos"), ("bad", "neg"), ("", "pos"),
                ("ok", "neg")]:
        sheet.append(row)
    path = tmp_path / "titled.xlsx"
    book.save(path)
    imported = read_table(path)
    (empty,) = [p for p in validate(imported, infer_mapping(imported)) if p.code == "empty-text"]
    assert (empty.row, empty.sheet_row) == (3, 6)
    assert "row 3 (sheet row 6), column 'text'" in str(empty)
    csv_path = tmp_path / "plain.csv"
    csv_path.write_text("text,label\ngood,pos\n,neg\n", encoding="utf-8")
    imported = read_table(csv_path)
    (empty,) = [p for p in validate(imported, infer_mapping(imported)) if p.code == "empty-text"]
    assert empty.sheet_row is None and "(sheet row" not in str(empty)


@pytest.mark.parametrize("first, total", [("Summe", "2.021 €"), ("Total général", "2 021,50"),
                                          ("Gesamtsumme:", "2021,50")])
def test_european_totals_rows_are_read_past(tmp_path: Path, first: str, total: str) -> None:
    # A thousands dot (2.021,50), an accent (général) or a compound word (Gesamtsumme) made the
    # totals row a row of data with a missing label, and the import "not trainable".
    path = tmp_path / "export.csv"
    rows = [f"Anfrage Nummer {i};Anfrage;{400 + i},50" for i in range(1, 5)]
    path.write_text("Beschreibung;Kategorie;Betrag\n" + "\n".join(rows) + f"\n{first};;{total}\n",
                    encoding="utf-8")
    imported = read_table(path)
    assert imported.table.num_rows == 4
    assert "totals row" in notes(imported)["footer-row"]
