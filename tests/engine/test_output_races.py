"""Two exports, or two file predictions, to one path at the same time: both found the name free,
and the later one's rename replaced the earlier one's file, both saying they succeeded. The name
must be taken atomically at the write, and the loser told as a second export run afterwards is
told, leaving nothing of its own behind. The other writer is simulated finishing between the
check and the write."""
from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest

import engine.export.exporters as export
from engine.errors import InputError
from privacy.vault.atomic import TEMP_PREFIX
from tests.engine.tiny_model import fast_kdf

SECRET = "export passphrase"
FILES = {"config.json": b'{"id2label": {"0": "ham"}}', "README.md": b"# mine"}


def _ours(folder: Path) -> list[str]:
    """What a writer leaves beside its output while at work: part files, staging folders."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != "_env")


def test_a_sealed_export_never_replaces_one_that_finished_while_it_was_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "model.cloister-export"
    real_stream = export.tar_stream

    def other_export_finishes_first(files):  # noqa: ANN001, ANN202
        yield from real_stream(files)
        out.write_bytes(b"the other export")

    monkeypatch.setattr(export, "tar_stream", other_export_finishes_first)
    with pytest.raises(InputError, match=r"model\.cloister-export already exists; choose "
                                         "another file name or remove it"):
        export.write_sealed(FILES, out, SECRET, kdf=fast_kdf())
    assert out.read_bytes() == b"the other export" and _ours(tmp_path) == []


def test_of_two_sealed_exports_at_once_one_is_written_and_the_other_refused(tmp_path: Path) -> None:
    from privacy.vault.sealed import read_sealed

    out = tmp_path / "model.cloister-export"
    start, results = threading.Barrier(2), {}

    def one(name: str) -> None:
        start.wait()
        try:
            export.write_sealed({**FILES, "README.md": name.encode()}, out, SECRET, kdf=fast_kdf())
            results[name] = "written"
        except InputError as exc:
            results[name] = str(exc)

    threads = [threading.Thread(target=one, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [winner] = [name for name, said in results.items() if said == "written"]
    [refusal] = [said for said in results.values() if said != "written"]
    assert refusal == f"{out} already exists; choose another file name or remove it"
    loser = "second" if winner == "first" else "first"
    content = read_sealed(out, SECRET)
    assert winner.encode() in content and loser.encode() not in content
    assert _ours(tmp_path) == []


@pytest.mark.parametrize("what", ["a folder", "a file"])
def test_a_plaintext_export_never_replaces_what_came_to_its_path_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    out = tmp_path / "export"
    real_replace = export.replace_retrying

    def other_export_finishes_first(staging: Path, target: Path) -> None:
        if what == "a folder":
            target.mkdir()
            (target / "config.json").write_text("theirs")
        else:
            target.write_text("theirs")
        real_replace(staging, target)

    monkeypatch.setattr(export, "replace_retrying", other_export_finishes_first)
    with pytest.raises(InputError, match="export already exists and is not an empty folder; "
                                         "choose a new path"):
        export.write_folder(FILES, out)
    theirs = out / "config.json" if what == "a folder" else out
    assert theirs.read_text() == "theirs" and _ours(tmp_path) == []


def test_an_empty_folder_filled_before_it_is_taken_is_refused_not_emptied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "export"
    out.mkdir()  # the user's empty folder: an export may go there
    assert export.write_folder(FILES, out) == out and (out / "README.md").read_bytes() == b"# mine"
    other = tmp_path / "other"
    other.mkdir()  # empty when checked; another export fills it while this one is written
    real_write = export.atomic_write_bytes

    def filled_meanwhile(path: Path, data: bytes) -> None:
        if not (other / "config.json").exists():
            (other / "config.json").write_text("theirs")
        real_write(path, data)

    monkeypatch.setattr(export, "atomic_write_bytes", filled_meanwhile)
    with pytest.raises(InputError, match="other already exists and is not an empty folder"):
        export.write_folder(FILES, other)
    assert (other / "config.json").read_text() == "theirs" and _ours(tmp_path) == []
