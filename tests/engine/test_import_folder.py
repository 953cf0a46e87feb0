"""Create ML's layout: one sub-folder per label with one .txt file per example."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.data.columns import infer_mapping, texts_and_labels
from engine.errors import InputError
from engine.data.importing import read_table
from engine.data.problems import Severity
from engine.data.validation import validate


def rt_polarity_folder(real_data: Path, root: Path, *, limit: int | None = None) -> dict[str, list[str]]:
    """rt-polarity as reviews/positive/00001.txt ... in Windows Latin-1 (cp1252), like the
    Cornell original; the excerpt in tests/data is UTF-8, and it has em dashes plain Latin-1 lacks.
    ``limit`` keeps the first lines of each file only."""
    lines = {}
    for label, name in (("positive", "rt-polarity.pos"), ("negative", "rt-polarity.neg")):
        folder = root / label
        folder.mkdir(parents=True)
        lines[label] = (real_data / "rt-polarity" / name).read_text("utf-8").splitlines()[:limit]
        for i, line in enumerate(lines[label]):
            (folder / f"{i:05d}.txt").write_bytes(line.encode("cp1252"))
    return lines


def test_rt_polarity_as_a_latin1_folder(real_data: Path, tmp_path: Path) -> None:
    lines = rt_polarity_folder(real_data, tmp_path / "reviews")
    imported = read_table(tmp_path / "reviews")
    assert imported.format == "folder"
    assert imported.num_rows == 500 * 2
    mapping = infer_mapping(imported)
    assert mapping.text_columns == ("text",) and mapping.label_column == "label"
    texts, labels = texts_and_labels(imported.table, mapping)
    assert labels.count("positive") == 500 and labels.count("negative") == 500
    # Non-ASCII files were read as Windows-1252, so their accents survive the round trip.
    accented = next(line for line in lines["positive"] if any(ord(c) > 127 for c in line))
    assert accented.rstrip() in {t.rstrip() for t in texts}
    legacy = [p for p in imported.problems if p.code == "legacy-encoding"]
    assert len(legacy) == 1 and legacy[0].severity is Severity.WARNING
    assert imported.encoding == "mixed"  # ASCII-only files are valid UTF-8


def test_folder_rows_name_their_own_file(tmp_path: Path) -> None:
    for label, texts in {"spam": ["win cash", "   ", "free prize"], "ham": ["see you", "lunch?"]}.items():
        (tmp_path / "sms" / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            (tmp_path / "sms" / label / f"m{i}.txt").write_text(text)
    (tmp_path / "sms" / "ham" / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "sms" / "empty").mkdir()
    imported = read_table(tmp_path / "sms")
    assert imported.table.column("file").to_pylist() == [
        "ham/m0.txt", "ham/m1.txt", "spam/m0.txt", "spam/m1.txt", "spam/m2.txt"]
    codes = {p.code: p for p in imported.problems}
    assert codes["empty-label-folder"].message.startswith("label folder 'empty' has no .txt files")
    assert codes["ignored-files"].severity is Severity.INFO
    problems = validate(imported, infer_mapping(imported))
    (empty,) = [p for p in problems if p.code == "empty-text"]
    assert empty.file == str(tmp_path / "sms" / "spam" / "m1.txt") and empty.row == 4


def test_folder_without_label_subfolders(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    for i in range(3):
        (tmp_path / "flat" / f"{i}.txt").write_text("text")
    with pytest.raises(InputError, match=r"has no label sub-folders\. Its 3 \.txt files are directly"):
        read_table(tmp_path / "flat")
    (tmp_path / "flat" / "pos").mkdir()
    with pytest.raises(InputError, match="has label sub-folders but no .txt files"):
        read_table(tmp_path / "flat")


def test_links_that_lead_out_of_the_folder_are_not_read(tmp_path: Path) -> None:
    # A folder received from someone else: "pos/zz.txt" links to a private file of this machine,
    # and "stolen" is a label folder that links to another folder of this machine's.
    secret = tmp_path / "home" / "id_ed25519"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- abc")
    (tmp_path / "home" / "notes.txt").write_text("private note")
    root = tmp_path / "received"
    for label in ("pos", "neg"):
        (root / label).mkdir(parents=True)
        (root / label / "a.txt").write_text(f"a {label} example")
    (root / "pos" / "zz.txt").symlink_to(secret)
    (root / "stolen").symlink_to(tmp_path / "home", target_is_directory=True)
    (root / "neg" / "same.txt").symlink_to(root / "pos" / "a.txt")  # inside the folder: read
    imported = read_table(root)
    texts = imported.table.column("text").to_pylist()
    assert not any("PRIVATE KEY" in t or "private note" in t for t in texts)
    assert sorted(set(imported.table.column("label").to_pylist())) == ["neg", "pos"]
    assert texts.count("a pos example") == 2
    (warning,) = [p for p in imported.problems if p.code == "links-outside-folder"]
    assert warning.severity is Severity.WARNING
    assert warning.message == "2 links in the folder lead outside it (such as stolen) and were not read"
