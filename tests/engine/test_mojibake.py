"""Text encoded twice ("RÃ©clamation"): found at import, repaired by one fix, ordinary text left."""
from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from engine.data.columns import ColumnMapping
from engine.data.fix_suggest import suggest_fixes
from engine.data.fixes import apply_fixes, fixes_from_options
from engine.data.importing import read_table
from engine.data.mojibake import has_mojibake, repair
from engine.data.validation import validate

CLEAN = ["Réclamation über die Größe", "It’s “quoted” – fine", "Straße 5 €, naïve à côté",
         "SÃO PAULO é grande", "12 m², N°5, 3°C", "中文 текст ελληνικά",
         # French puts a no-break space before » ! : ?, German quotes open low: valid UTF-8
         # byte patterns by chance, never to be "repaired" into 頻 or ɠ.
         "« Je suis désolé\u00a0», a-t-il dit", "CAFÉ\u00a0!", "ÉTÉ\u00a0: fini", "kein „Spaß“, bitte"]


def _twice(text: str) -> str:
    """What a tool that read UTF-8 as Windows-1252 and saved it again wrote."""
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in text.encode())


def test_text_encoded_twice_is_found_and_decoded_back() -> None:
    garbled = [_twice(t) for t in CLEAN[:3]]
    assert garbled[0] == "RÃ©clamation Ã¼ber die GrÃ¶ÃŸe"
    hits = has_mojibake(pa.array(CLEAN + garbled))
    assert hits.tolist() == [False] * len(CLEAN) + [True] * 3  # Portuguese "SÃO" is no mojibake
    assert [repair(g) for g in garbled] == CLEAN[:3]
    assert [repair(t) for t in CLEAN] == CLEAN
    assert repair(_twice(_twice("Größe"))) == "Größe"  # encoded three times


def test_import_warns_and_the_fix_repairs_texts_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    rows = [(_twice(f"Réclamation über Größe {i}"), _twice("Réclamation") if i % 2 else "Frage")
            for i in range(30)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    imported = read_table(path)
    mapping = ColumnMapping(text_columns=("text",), label_column="label")
    codes = {p.code for p in validate(imported, mapping)}
    assert {"mojibake-in-text", "mojibake-in-label"} <= codes
    option = next(o for o in suggest_fixes(imported.table, mapping, validate(imported, mapping))
                  if "encoded twice" in o.label)
    assert option.rows_changed == 30 and not option.refused
    fixed, report = apply_fixes(imported.table, mapping, fixes_from_options(repair_encoding=True))
    assert set(fixed.column("label").to_pylist()) == {"Réclamation", "Frage"}
    assert fixed.column("text")[1].as_py() == "Réclamation über Größe 1"
    assert report.steps[0].rows_changed == 30 and "encoded twice" in report.steps[0].description


def test_the_cli_flag_repairs_at_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from engine.cli import main

    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *[(_twice(f"Größe {i}"), "ab"[i % 2]) for i in range(20)]])
    assert main(["inspect", str(path)]) == 0
    assert "fix: --repair-encoding" in capsys.readouterr().out
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "mojibake test passphrase")
    assert main(["init", "--kdf-cost", "10"]) == 0
    assert main(["import", str(path), "--name", "d", "--repair-encoding"]) == 0
    assert "repaired text encoded twice ('Ã©' back to 'é') in 20 rows" in capsys.readouterr().out
    assert main(["show", "d", "--rows", "1"]) == 0
    assert "Größe 0" in capsys.readouterr().out


def test_utf8_read_as_central_european_or_cyrillic_is_repaired_too() -> None:
    # A Polish Excel reads UTF-8 as Windows-1250: "wysyĹ‚ka do GdaĹ„ska" (the app's fix once
    # left such rows half garbled and said there were no problems).
    from engine.data.mojibake import twice

    for page, text in (("cp1250", "Ile kosztuje wysyłka do Gdańska?"), ("cp1251", "Привет, мир"),
                       ("cp1252", "我的信用卡被多扣了钱")):
        garbled = text.encode("utf-8").decode(page, errors="replace")
        if "\ufffd" in garbled:
            continue  # a byte the page leaves undefined: nothing to read back
        assert has_mojibake(pa.array([garbled])).tolist() == [True] and repair(garbled) == text, page
    polish = "Ile kosztuje wysyłka do Gdańska?".encode("utf-8").decode("cp1250")
    assert twice(polish) == "was encoded twice ('Ĺ‚' for 'ł': UTF-8 read as Windows-1250)"
    # A row's text is never quoted (reports reach logs); a label may be.
    assert "wysy" not in twice(polish)
    assert twice(_twice("Réclamation"), quote=True) == \
        "was encoded twice ('RÃ©clamation' for 'Réclamation': UTF-8 read as Windows-1252)"
