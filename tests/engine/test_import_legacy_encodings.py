"""Excel's "CSV" in the code page of the user's country: read in the one its text reads best in,
or in the one the user names with ``--encoding``."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from engine.data.importing import read_table
from engine.data.importing.legacy_encodings import garbled_spots, guess_legacy
from engine.errors import InputError

# A few sentences a support desk in each country would file, with the labels in the language.
EXPORTS = {
    "cp1250": ("Treść", "Kategoria", [("Reklamuję przelew, pieniądze nie dotarły. Łukasz Wójcik", "Reklamacja"),
                                      ("Jak zmienić limit karty? Dziękuję, Małgorzata Świątek", "Pytanie")]),
    "cp1251": ("Текст", "Категория", [("Карта заблокирована, прошу разобраться. Иван Петров", "Жалоба"),
                                      ("Какой лимит по карте? Спасибо", "Вопрос")]),
    "cp1254": ("mesaj", "etiket", [("Kartımdan fazla ücret çekildi. İsmail Yıldız", "Şikayet"),
                                   ("Şubeniz cumartesi açık mı? Ayşe Doğan", "Soru")]),
    "cp932": ("問い合わせ内容", "分類", [("返品の方法を教えてください。山田太郎です。", "質問"),
                                    ("注文した商品がまだ届きません。", "苦情")]),
    "gbk": ("内容", "类别", [("我的信用卡被多扣了钱，请退款。张伟", "投诉"), ("请问营业时间是几点？", "咨询")]),
    "cp949": ("내용", "분류", [("카드가 정지되었습니다. 환불 요청 드립니다. 김민수", "불만"),
                              ("영업 시간이 어떻게 되나요?", "문의")]),
    "cp1252": ("Nachricht", "Kategorie", [("Größe 12 m², Grüße aus München, N°5 «Zitat», 5 €", "Frage"),
                                          ("Très cher assuré, cœur, sœur, où, déjà, ¿dónde está?", "Lob")]),
}


def _write(path: Path, codec: str, repeat: int = 10) -> list[list[str]]:
    text_column, label_column, examples = EXPORTS[codec]
    rows = [[text_column, label_column]] + [[f"{text} {i}", label] for i in range(repeat)
                                            for text, label in examples]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(codec))
    return rows


@pytest.mark.parametrize("codec", sorted(EXPORTS))
def test_each_countrys_excel_csv_is_read_in_its_own_code_page(tmp_path: Path, codec: str) -> None:
    path = tmp_path / f"export_{codec}.csv"
    rows = _write(path, codec)
    imported = read_table(path)
    assert imported.encoding == codec
    assert imported.table.column_names == rows[0]
    assert imported.table.to_pylist()[0] == dict(zip(rows[0], rows[1]))
    problem = next(p for p in imported.problems if p.code == "legacy-encoding")
    if codec != "cp1252":
        # Said, with what Windows-1252 would have made of it, and how to choose another.
        assert "reads best in" in problem.message and "--encoding" in problem.hint


def test_polish_read_as_western_european_is_counted_as_garbled() -> None:
    polish = "Reklamuję przelew, pieniądze nie dotarły. Łukasz Wójcik, Treść"
    spots, example = garbled_spots(polish.encode("cp1250").decode("cp1252"))
    # 'pieni¹dze' and 'dotar³y'; '£ukasz' and 'Treœæ' could be words, so they are not counted.
    assert (spots, example) == (2, "pieni¹dze")
    assert garbled_spots(polish) == (0, "")
    assert garbled_spots("12 m², N°5, «Zitat», 5 €, 1½ Std.") == (0, "")


def test_a_single_ambiguous_line_stays_western_european() -> None:
    # Two garbled spots are not enough to overrule Windows-1252: the old reading stands.
    assert guess_legacy("Łukasz pieniądze\n".encode("cp1250")).codec == "cp1252"


def test_the_encoding_the_user_names_is_used(tmp_path: Path) -> None:
    path = tmp_path / "greek.csv"
    path.write_bytes("κείμενο;ετικέτα\r\nΚαλημέρα, η κάρτα μου μπλοκαρίστηκε;παράπονο\r\n"
                     "Ποιες είναι οι ώρες;ερώτηση\r\n".encode("cp1253"))
    # Greek reads as plausible Cyrillic: detection cannot tell them apart, the user can.
    assert read_table(path).encoding == "cp1251"
    named = read_table(path, encoding="cp1253")
    assert named.encoding == "cp1253" and named.table.column_names == ["κείμενο", "ετικέτα"]
    assert not [p for p in named.problems if p.code == "legacy-encoding"]


def test_a_wrong_encoding_name_or_format_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "pl.csv"
    _write(path, "cp1250")
    with pytest.raises(InputError, match="'latin-7' is not an encoding Cloister knows"):
        read_table(path, encoding="latin-7")
    with pytest.raises(InputError, match="is not valid UTF-8, as --encoding utf-8 says"):
        read_table(path, encoding="utf-8")
    # A UTF-8 file read as UTF-16 became one line of CJK characters, blamed on the data ("the
    # file has one column, the texts, and no labels"), not on the setting.
    with pytest.raises(InputError, match=r"pl.csv is not utf-16 \(--encoding utf-16\): it has "
                                         r"none of the zero bytes"):
        read_table(path, encoding="utf-16")
    wide = tmp_path / "wide.csv"
    wide.write_text("text,label\nhello,a\nbye,b\n", encoding="utf-16")
    assert read_table(wide, encoding="utf-16").table.num_rows == 2  # a real one still reads
    data = tmp_path / "data.json"
    data.write_text('[{"text": "a", "label": "b"}]')
    with pytest.raises(InputError, match="--encoding applies to CSV and TSV files; data.json"):
        read_table(data, encoding="cp1250")


def test_a_utf8_file_named_as_utf8_keeps_its_bom_out_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhello,a\nbye,b\n".encode("utf-8"))
    assert read_table(path, encoding="utf-8").table.column_names == ["text", "label"]


def test_import_and_inspect_take_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    path = tmp_path / "el.csv"
    path.write_bytes("κείμενο;ετικέτα\r\nΚαλημέρα, η κάρτα μου;παράπονο\r\nΠοιες ώρες;ερώτηση\r\n"
                     "Ευχαριστώ πολύ;ερώτηση\r\nΔεν λειτουργεί;παράπονο\r\n".encode("cp1253"))
    assert main(["inspect", str(path), "--encoding", "cp1253"]) == 0
    assert "(csv, cp1253)" in capsys.readouterr().out
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "encoding test passphrase")
    assert main(["init", "--kdf-cost", "10"]) == 0
    assert main(["import", str(path), "--name", "el", "--encoding", "cp1253", "--force"]) == 0
    capsys.readouterr()
    assert main(["show", "el"]) == 0
    shown = capsys.readouterr().out
    assert "παράπονο" in shown and "ερώτηση" in shown


@pytest.mark.parametrize("suffix", [".csv", ".txt", ""])
def test_utf16_without_its_mark_holding_chinese_is_read_not_refused_as_binary(tmp_path: Path,
                                                                            suffix: str) -> None:
    path = tmp_path / f"export{suffix}"
    rows = "内容\t分类\r\n" + "".join(f"我的信用卡被多扣了钱 {i}\t{'投诉' if i % 2 else '咨询'}\r\n" for i in range(20))
    path.write_bytes(rows.encode("utf-16-le"))  # few NULs: not the "every other byte" of ASCII
    imported = read_table(path)
    assert imported.encoding == "utf-16-le" and imported.table.column_names == ["内容", "分类"]
    assert imported.table.column("分类").to_pylist()[:2] == ["咨询", "投诉"]


def test_binary_data_is_still_refused(tmp_path: Path) -> None:
    import random

    path = tmp_path / "blob.txt"
    rng = random.Random(1)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    with pytest.raises(InputError, match="binary data"):
        read_table(path)


def test_a_western_file_with_one_stray_byte_keeps_its_quotes_and_euros(tmp_path: Path) -> None:
    # One byte Windows-1252 leaves undefined made the whole file Latin-1 (every curly quote a
    # control character) or, scored so, Cyrillic ("café" as "cafй").
    path = tmp_path / "stray.csv"
    rows = "".join(f"“It’s my order {i}” – the café charged me 5 €;{'ab'[i % 2]}\r\n" for i in range(30))
    path.write_bytes(("text;label\r\n" + rows).encode("cp1252") + b"stray \x81;a\r\n")
    imported = read_table(path)
    assert imported.encoding == "cp1252"
    assert imported.table.column("text")[0].as_py() == "“It’s my order 0” – the café charged me 5 €"
    assert imported.table.column("text")[30].as_py() == "stray \ufffd"


def test_a_code_page_chosen_on_the_files_start_does_not_refuse_a_byte_further_in(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    body = "".join(f"Reklamuję przelew {i}, pieniądze nie dotarły;Reklamacja\r\n" for i in range(8000))
    path.write_bytes(("Treść;Kategoria\r\n" + body).encode("cp1250") + b"koniec \x98;Pytanie\r\n")
    imported = read_table(path)  # the \x98 lies beyond the 256 KiB the choice was made on
    assert imported.encoding == "cp1250" and imported.num_rows == 8001
    assert imported.table.column("Treść")[-1].as_py() == "koniec \ufffd"
    problem = next(p for p in imported.problems if p.code == "legacy-encoding")
    assert "a few bytes further in do not fit it" in problem.message


def test_clean_western_text_with_apostrophes_is_not_said_to_read_garbled() -> None:
    assert garbled_spots("It’s the customer’s fault, l’équipe, col·lecció, week-end — fine") == (0, "")


@pytest.mark.parametrize("name", ["base64", "hex", "rot13"])
def test_an_encoding_that_is_no_text_encoding_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,b\n")
    with pytest.raises(InputError, match="is not an encoding Cloister knows"):
        read_table(path, encoding=name)
