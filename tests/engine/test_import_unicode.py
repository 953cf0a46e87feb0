"""Text as Unicode writes it two ways: Excel's UTF-16 "Unicode Text" export, and accents as one
code point or as a letter with a combining mark (read as one, NFC)."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from engine.data.columns import ColumnMapping
from engine.data.importing import read_table
from engine.errors import InputError


def rows(imported) -> list[dict]:  # noqa: ANN001
    return imported.table.to_pylist()


def test_excels_unicode_text_export_is_read_as_the_tsv_it_is(tmp_path: Path) -> None:
    # Excel's "Unicode Text (*.txt)": UTF-16 LE with a BOM, tab-separated. Its zero bytes used
    # to get it called binary, while the same bytes named .tsv were read.
    path = tmp_path / "Rückmeldungen.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Beschreibung\tKategorie\r\nLieferung kam zu spät\t"
                     "Beschwerde\r\nVielen Dank!\tLob\r\n".encode("utf-16-le"))
    imported = read_table(path)
    assert (imported.format, imported.encoding) == ("tsv", "utf-16-le")
    assert rows(imported)[0] == {"Beschreibung": "Lieferung kam zu spät", "Kategorie": "Beschwerde"}
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"abc\x00\x01\x02" * 20)
    with pytest.raises(InputError, match="holds binary data"):
        read_table(binary)


def test_an_accent_written_two_ways_is_one_label_and_one_column_name(tmp_path: Path) -> None:
    # 'é' as one code point (most keyboards) and as 'e' + a combining accent (macOS, some
    # exports): two classes that looked the same, split between training and prediction.
    composed, decomposed = "R\u00e9clamation", "Re\u0301clamation"
    path = tmp_path / "avis.csv"
    path.write_text(f"Libelle\u0301,Cat\u00e9gorie\nColis arrive\u0301 abi\u0302me\u0301,{decomposed}\n"
                    f"Merci beaucoup,{composed}\nEnvoyez la facture,Demande\n", encoding="utf-8")
    imported = read_table(path)
    assert imported.column_names == ["Libell\u00e9", "Cat\u00e9gorie"]
    assert [r["Cat\u00e9gorie"] for r in rows(imported)] == [composed, composed, "Demande"]
    assert rows(imported)[0]["Libell\u00e9"] == "Colis arriv\u00e9 ab\u00eem\u00e9"
    # A column name pasted in its decomposed form still names the column.
    mapping = ColumnMapping.choose(imported, text_columns=["Libelle\u0301"], label_column="Cate\u0301gorie")
    assert (mapping.text_columns, mapping.label_column) == (("Libell\u00e9",), "Cat\u00e9gorie")
    # ASCII-only columns are only scanned, and come back as written.
    ascii_path = tmp_path / "plain.csv"
    ascii_path.write_text("text,label\nfine,pos\n", encoding="utf-8")
    assert rows(read_table(ascii_path)) == [{"text": "fine", "label": "pos"}]


def test_datasets_stored_before_imports_were_nfc_merge_their_accent_variants() -> None:
    from engine.data.labels import label_variants

    groups = label_variants({"R\u00e9clamation": 3, "Re\u0301clamation": 2, "Demande": 4})
    assert groups == [["R\u00e9clamation", "Re\u0301clamation"]]


def test_label_spellings_that_differ_by_an_accent_a_full_stop_or_arabic_letters_are_offered_a_merge() -> None:
    # Each stayed a class of its own, without a warning.
    from engine.data.labels import label_variants

    groups = label_variants({"Réclamation": 5, "Reclamation": 2, "Beschwerde": 4, "Beschwerde.": 1,
                             "شكوى": 3, "شكوي": 2, "شكـوى": 1, "Lob": 2})
    assert groups == [["Réclamation", "Reclamation"], ["Beschwerde", "Beschwerde."],
                      ["شكوى", "شكوي", "شكـوى"]]


def test_the_ascii_check_reads_only_the_rows_of_a_sliced_column() -> None:
    import pyarrow as pa

    from engine.data.importing import _all_ascii

    column = pa.array(["caf\u00e9", "plain", "text", "na\u00efve"])
    assert not _all_ascii(pa.chunked_array([column]))
    assert _all_ascii(pa.chunked_array([column.slice(1, 2)]))  # "plain", "text" only
    assert not _all_ascii(pa.chunked_array([column.slice(2, 2)]))
    assert _all_ascii(pa.chunked_array([pa.array([None, None], pa.string())]))
    assert not _all_ascii(pa.chunked_array([pa.array(["x", "\u00e9"], pa.large_string())]))
