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
from engine.events import Failed, Finished, Progress
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


# -- file predictions --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory):
    from engine.evaluation.prediction import Predictor
    from tests.engine.test_prediction import train_tiny_run

    ws, run_id, source = train_tiny_run(tmp_path_factory.mktemp("output-races"))
    return Predictor.from_run(ws, run_id, device="cpu", batch_size=4), source


class _OtherPredictionFinishesFirst:
    """The predictor, but another prediction writes ``output`` while this one predicts."""

    def __init__(self, predictor, output: Path) -> None:  # noqa: ANN001
        self._predictor, self._output = predictor, output

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._predictor, name)

    def iter_proba(self, texts):  # noqa: ANN001, ANN201
        self._output.write_text("theirs\n")
        yield from self._predictor.iter_proba(texts)


def test_a_prediction_not_to_overwrite_never_replaces_one_written_while_it_predicted(
        predictor, tmp_path: Path) -> None:
    from engine.evaluation.file_prediction import predict_file

    model, source = predictor
    output = tmp_path / "pr.csv"
    racing = _OtherPredictionFinishesFirst(model, output)
    events = list(predict_file(racing, source, output, overwrite=False))
    assert isinstance(events[-1], Failed)
    assert events[-1].message == (f"{output} exists: pass --overwrite to replace it, or choose "
                                  "another --output (nothing was written)")
    assert output.read_text() == "theirs\n" and _ours(tmp_path) == []
    # One that exists already is refused before any row is predicted, as the CLI refuses it.
    events = list(predict_file(model, source, output, overwrite=False))
    assert len(events) == 1 and isinstance(events[0], Failed) and "exists: pass --overwrite" in events[0].message
    # Asked to overwrite (--overwrite, or the desktop's Save dialog said yes), it replaces.
    events = list(predict_file(racing, source, output, overwrite=True))
    assert isinstance(events[-1], Finished) and any(isinstance(e, Progress) for e in events)
    assert "predicted_label" in next(csv.reader(output.open(encoding="utf-8")))


def test_the_cli_without_overwrite_refuses_at_the_write_too(
        predictor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main
    from engine.evaluation.prediction import Predictor
    from tests.engine.tiny_model import TEST_PASSPHRASE

    model, source = predictor
    output = tmp_path / "pr.csv"
    real_from_run = Predictor.from_run
    monkeypatch.setattr(Predictor, "from_run", classmethod(
        lambda cls, *a, **k: _OtherPredictionFinishesFirst(real_from_run(*a, **k), output)))
    monkeypatch.setenv("CLOISTER_PASSPHRASE", TEST_PASSPHRASE)
    code = main(["predict", model.run_id, "--input", str(source), "--output", str(output),
                 "--workspace", str(Path(source).parent / "workspace"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "pr.csv exists: pass --overwrite to replace it" in err
    assert output.read_text() == "theirs\n" and _ours(tmp_path) == []
