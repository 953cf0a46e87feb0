"""``cloister train / runs / resume / demo`` in-process, on a tiny BERT."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import torch

from engine.cli import main as cli
from engine.demo import demo_config, run_demo
from engine.events import Evaluated, Finished, Started, Step
from engine.training.auto import DP_TRAINABLE
from tests.engine.tiny_model import tiny_bert, toy_rows  # noqa: F401

torch.set_num_threads(1)  # tiny models: a second thread only adds contention on a busy box


def init_and_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: list[str],
                    rows: list[tuple], *import_args: str) -> Path:
    """A new workspace (CLI) with ``rows`` imported as dataset 'toy' from a CSV of the user's."""
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "cli test passphrase")
    source = tmp_path / "user_files" / "toy.csv"
    source.parent.mkdir()
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "toy", *import_args]) == 0
    return source


@pytest.fixture
def ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """A workspace with dataset 'toy' imported through the CLI."""
    texts, labels = toy_rows(100, seed=2)
    source = init_and_import(tmp_path, monkeypatch, ["text", "label"], list(zip(texts, labels)))
    capsys.readouterr()
    return source


def small(model: Path, *extra: str) -> list[str]:
    return ["train", "toy", "--model", str(model), "--epochs", "1", "--batch-size", "8",
            "--max-length", "32", "--lr", "1e-3", *extra]


def test_train_prints_test_metrics_and_runs_lists_the_run(ready, tiny_bert, capsys) -> None:
    assert cli(small(tiny_bert)) == 0
    out, err = capsys.readouterr()
    assert "accuracy" in out and "macro_f1" in out
    # What the figures rest on: a 2-row test split printed "accuracy 0.5000" as a measure.
    assert re.search(r"Test metrics \(10 test rows; accuracy's 95% interval 0\.\d{4}-[01]\.\d{4}\):", out)
    assert "validation at step" in err and "training / " in err
    assert ", 1 epoch, " in err and "1 epochs" not in err  # counts in the right number
    assert cli(small(tiny_bert, "--seed", "5", "--epochs", "2")) == 0
    capsys.readouterr()

    assert cli(["runs", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2 and {r["status"] for r in records} == {"finished"}
    assert all(r["dataset"] == "toy" and "accuracy" in r["metrics"] for r in records)

    assert cli(["runs"]) == 0
    listing = capsys.readouterr().out
    assert all(r["run_id"] in listing for r in records) and "macro_f1" in listing

    assert cli(["runs", "--compare", records[0]["run_id"], records[1]["run_id"]]) == 0
    table = capsys.readouterr().out.splitlines()
    header = table[0].split()
    # only the settings that differ are shown, then the metrics
    assert "seed" in header and "epochs" in header and "batch_size" not in header
    assert "accuracy" in header and len(table) == 3
    assert header.index("accuracy") < header.index("macro_f1") < header.index("duration")
    # `cloister runs RUN`, as typed after the list: the same side-by-side table.
    assert cli(["runs", records[0]["run_id"][-8:], records[1]["run_id"][-8:]]) == 0
    assert capsys.readouterr().out.splitlines() == table


def test_train_json_streams_one_event_per_line(ready, tiny_bert, capsys) -> None:
    assert cli(small(tiny_bert, "--json")) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "started" and lines[-1]["event"] == "finished"
    assert any(e["event"] == "step" for e in lines)
    assert lines[-1]["run_id"] == lines[0]["run_id"] and "accuracy" in lines[-1]["metrics"]


def test_bad_settings_exit_2_with_the_reason(ready, tiny_bert, capsys) -> None:
    assert cli(small(tiny_bert, "--max-length", "500")) == 2
    assert "max length 500 is above the model's limit of 64 tokens" in capsys.readouterr().err
    assert cli(small(tiny_bert, "--batch-size", "1000")) == 2
    assert "larger than the 80 training rows" in capsys.readouterr().err
    assert cli(small(tiny_bert, "--lr", "5")) == 2
    assert "learning rate 5.0 is out of range" in capsys.readouterr().err
    assert cli(["train", "missing", "--model", str(tiny_bert), "--max-length", "32"]) == 2
    assert "no dataset named 'missing'" in capsys.readouterr().err


def test_resume_unknown_or_finished_run(ready, tiny_bert, capsys) -> None:
    assert cli(["resume", "20990101-000000-beef"]) == 2
    assert "no run '20990101-000000-beef'" in capsys.readouterr().err
    assert cli(small(tiny_bert, "--json")) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[0])["run_id"]
    assert cli(["resume", run_id]) == 2
    assert "already finished" in capsys.readouterr().err
    # With --json, the engine's refusal has the keys of every other --json error too.
    assert cli(["resume", run_id, "--json"]) == 2
    failed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert failed["event"] == "failed" and failed["exit_code"] == 2
    assert "already finished" in failed["error"] and failed["error"] == failed["message"]


def test_runs_in_an_empty_workspace(ready, capsys) -> None:
    assert cli(["runs"]) == 0
    assert "No runs yet" in capsys.readouterr().out


def test_demo_flow_runs_on_the_bundled_sample(tiny_bert, tmp_path: Path) -> None:
    # The demo's own model is MiniLM (timed in bench/); here the same flow with a tiny model.
    config = demo_config(model_path=str(tiny_bert), epochs=1, max_length=32)
    events = list(run_demo(root=tmp_path / "demo", config=config))
    started, finished = events[0], events[-1]
    assert isinstance(started, Started) and isinstance(finished, Finished), events[-1]
    assert started.labels == ("ham", "spam") and started.train_rows == 480
    test = [e for e in events if isinstance(e, Evaluated) and e.split == "test"]
    assert len(test) == 1 and set(test[0].metrics) >= {"accuracy", "macro_f1", "roc_auc"}


def test_the_throw_away_demo_takes_its_record_outside_the_workspace_with_it(tiny_bert) -> None:
    import os

    anchors = Path(os.environ["CLOISTER_ANCHOR_DIR"])
    config = demo_config(model_path=str(tiny_bert), epochs=1, max_length=32)
    during: list[int] = []
    for event in run_demo(config=config):
        during.append(len(list(anchors.glob("*.json"))))
    assert isinstance(event, Finished) and max(during) == 1  # kept while the workspace lived
    assert list(anchors.glob("*.json")) == []  # and gone with it


def test_dp_demo_spends_the_budget_on_the_sample(tiny_bert, tmp_path: Path) -> None:
    """`cloister demo --dp lora` (the packaged app's check of Opacus and peft): ε 8, the
    automatic DP settings for the sample's 480 training rows, ε reported on every step."""
    config = demo_config(model_path=str(tiny_bert), epochs=1, max_length=32, dp_trainable="lora")
    assert config.dp and config.dp_trainable == "lora" and config.dp_epsilon == 8.0
    assert config.dp_logical_batch_size == 120  # a quarter of 480 training rows
    assert config.learning_rate == 2e-2  # LoRA's rate; the top layers take 5e-3
    assert demo_config(dp_trainable="top-2").learning_rate == 5e-3
    events = list(run_demo(root=tmp_path / "demo", config=config))
    assert isinstance(events[-1], Finished), events[-1]
    epsilons = [e.epsilon for e in events if isinstance(e, Step)]
    assert epsilons and 7.0 < epsilons[-1] <= 8.0
    assert demo_config(dp_trainable="auto").dp_trainable == DP_TRAINABLE
    # Its end says the guarantee, ε spent included (the progress bar that showed it is gone),
    # and the command prints it: a DP demo ended on its test metrics alone.
    (said,) = events[-1].info
    assert said.startswith(f"differential privacy: ε = {epsilons[-1]:.2f} spent of 8")
    from engine.cli.train_cmds import consume

    out = io.StringIO()
    assert consume(iter(events), json_mode=False, out=out, err=io.StringIO()) == 0
    assert out.getvalue().rstrip().endswith(said)


def test_ctrl_c_cancels_the_run_instead_of_killing_it() -> None:
    import os
    import signal

    from engine.cli.train_cmds import EXIT_CANCELLED, _ctrl_c_cancels, _exit_code
    from engine.events import CancelToken

    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):  # Ctrl-C; kill, timeout
        token = CancelToken()
        before = signal.getsignal(signum)
        with _ctrl_c_cancels(token) as received:
            os.kill(os.getpid(), signum)  # no KeyboardInterrupt: the token is set instead
        assert token.cancelled
        assert signal.getsignal(signum) is before
        assert _exit_code(EXIT_CANCELLED, received) == code
        assert _exit_code(0, received) == 0  # a run that ended anyway ended well


def test_multi_label_data_imports_with_its_delimiter_and_trains(tmp_path: Path, monkeypatch, tiny_bert,
                                                                capsys) -> None:
    """'billing|tech' is two classes, not a class of its own with one example: import checks
    each class when told the delimiter, and `train --multi-label` then runs."""
    combos = ["billing", "tech", "billing|tech", "refund", "refund|billing"]
    rows = [(f"ticket {i} about {combos[i % 5].replace('|', ' and ')}", combos[i % 5]) for i in range(60)]
    rows.append(("a rare mix", "tech|refund"))  # one row of this combination, 2 of each class
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "cli test passphrase")
    source = tmp_path / "user_files" / "tickets.csv"
    source.parent.mkdir()
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    capsys.readouterr()
    assert cli(["import", str(source), "--name", "tickets"]) == 2  # as single labels: blocked
    assert "class 'tech|refund' has 1 example" in capsys.readouterr().err
    assert cli(["import", str(source), "--name", "tickets", "--label-delimiter", "|"]) == 0
    assert "tech|refund" not in capsys.readouterr().err
    assert cli(["import", str(source), "--name", "t2", "--label-delimiter", "|", "--drop-small"]) == 2
    assert "a row carries several classes" in capsys.readouterr().err
    assert cli(["train", "tickets", "--model", str(tiny_bert), "--multi-label", "--epochs", "1",
                "--batch-size", "8", "--max-length", "32", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["event"] == "finished"
    assert cli(["runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert sorted(record["labels"]) == ["billing", "refund", "tech"]
    # Another delimiter: import and train are told the same one.
    semi = source.with_name("semi.csv")
    semi.write_text(source.read_text(encoding="utf-8").replace("|", ";"), encoding="utf-8")
    assert cli(["import", str(semi), "--name", "semi", "--label-delimiter", ";"]) == 0
    assert cli(["train", "semi", "--model", str(tiny_bert), "--label-delimiter", ";"]) == 2
    assert "--label-delimiter goes with --multi-label" in capsys.readouterr().err
    assert cli(["train", "semi", "--model", str(tiny_bert), "--multi-label", "--label-delimiter", ";",
                "--epochs", "1", "--batch-size", "8", "--max-length", "32", "--json"]) == 0
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    # Two runs may start within the same second: find this one by its dataset, not its place.
    (semi_run,) = [r for r in json.loads(capsys.readouterr().out) if r["dataset"] == "semi"]
    assert sorted(semi_run["labels"]) == ["billing", "refund", "tech"]
    # Its predictions are written as the data writes its labels ('billing;tech', not
    # 'billing|tech'), in one order for a typed text and a file.
    from engine.evaluation.file_prediction import predict_file
    from engine.evaluation.prediction import Predictor
    from privacy.vault.workspace import Workspace, default_workspace_dir

    ws = Workspace.unlock(default_workspace_dir(), "cli test passphrase")
    predictor = Predictor.from_run(ws, semi_run["run_id"])
    predictor.threshold = 0.0  # every label on: the joined form is what is checked
    joined = ";".join(predictor.labels)
    assert predictor.predict(["ticket about billing"])[0].label == joined
    out = tmp_path / "predicted.csv"
    events = list(predict_file(predictor, semi, out))
    assert type(events[-1]).__name__ == "Finished", events[-1]
    with out.open(encoding="utf-8-sig", newline="") as handle:
        predicted = {row["predicted_label"] for row in csv.DictReader(handle)}
    assert predicted == {joined}
    # Scored on the other's stored rows, each dataset's own delimiter is read: the '|' run on
    # the rows stored with ';' refused 'billing;refund' as a label it never saw.
    from engine.evaluation.evaluate import evaluate_run

    on_semi = evaluate_run(ws, record["run_id"], dataset="semi")
    on_own = evaluate_run(ws, record["run_id"], dataset="tickets")
    assert on_semi.n == on_own.n == 61 and on_semi.accuracy == on_own.accuracy
    assert evaluate_run(ws, semi_run["run_id"], dataset="tickets").n == 61


def test_a_cancelled_run_names_itself_in_the_resume_hint() -> None:
    import io

    from engine.cli.train_cmds import EXIT_CANCELLED, consume
    from engine.events import Cancelled, Started

    err = io.StringIO()
    events = [Started("20261205-083000-abcd1234", "cpu (2 threads)", 2, 10, 80, 10, ("a", "b")),
              Cancelled(step=3)]
    assert consume(events, json_mode=False, out=io.StringIO(), err=err) == EXIT_CANCELLED
    assert "continue with `cloister resume 20261205-083000-abcd1234`" in err.getvalue()


def test_a_dataset_imported_as_multi_label_trains_as_one(tmp_path: Path, monkeypatch, tiny_bert,
                                                         capsys) -> None:
    """`import --label-delimiter` records the delimiter: `show` says so, labels are counted one
    by one, and `train` trains a yes/no per label without being told again."""
    combos = ["billing", "tech", "billing|tech", "refund"]
    rows = [(f"ticket {i} about {combos[i % 4].replace('|', ' and ')}", combos[i % 4]) for i in range(40)]
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "cli test passphrase")
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "tickets", "--label-delimiter", "|"]) == 0
    capsys.readouterr()
    assert cli(["datasets", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["label_delimiter"] == "|" and listed["labels"] == {"billing": 20, "tech": 20, "refund": 10}
    assert cli(["show", "tickets", "--rows", "0"]) == 0
    assert "multi-label: a row's labels are separated by '|'" in capsys.readouterr().out
    assert cli(["train", "tickets", "--model", str(tiny_bert), "--dry-run"]) == 0
    assert "multi-label (labels separated by '|')" in capsys.readouterr().out
    assert cli(["train", "tickets", "--model", str(tiny_bert), "--epochs", "1", "--batch-size", "8",
                "--max-length", "32", "--json"]) == 0
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["config"]["multi_label"] is True and sorted(record["labels"]) == ["billing", "refund", "tech"]
    # Another delimiter would make each combination one label, silently: refused.
    assert cli(["train", "tickets", "--model", str(tiny_bert), "--dry-run", "--multi-label",
                "--label-delimiter", ","]) == 2
    assert "imported with labels separated by '|'" in capsys.readouterr().err


def test_multi_label_on_data_with_one_label_a_row_is_refused(ready, tiny_bert, capsys) -> None:
    assert cli(["train", "toy", "--model", str(tiny_bert), "--dry-run", "--multi-label"]) == 2
    assert "no label of dataset 'toy' holds '|': it has one label a row" in capsys.readouterr().err


def test_with_json_an_error_is_also_one_json_object_on_stdout(ready, tiny_bert, capsys) -> None:
    assert cli(["train", "nope", "--model", str(tiny_bert), "--json"]) == 2
    out, err = capsys.readouterr()
    assert "cloister: error: " in err
    error = json.loads(out)
    assert error["exit_code"] == 2 and "no dataset named 'nope'" in error["error"]


def test_tokenizing_shows_progress_and_a_cancel_there_says_nothing_was_saved(monkeypatch) -> None:
    import io

    from engine.cli.train_cmds import EXIT_CANCELLED, _Progress, consume
    from engine.events import Cancelled, Progress

    def tokenizing(*done: int) -> list:
        return [Progress(d, 600_000, f"Tokenizing the texts: {d:,} of 600,000") for d in done]

    err = io.StringIO()  # a log file: the first line, then one a minute
    events = [*tokenizing(2_048, 4_096), Cancelled(step=0)]
    assert consume(events, json_mode=False, out=io.StringIO(), err=err) == EXIT_CANCELLED
    assert err.getvalue() == ("Tokenizing the texts: 2,048 of 600,000\n"
                              "cancelled before training started: nothing was saved\n")
    resumed = io.StringIO()
    consume([Cancelled(step=7, checkpoint_key="runs/r1/checkpoints/latest", run_id="r1")],
            json_mode=False, out=io.StringIO(), err=resumed)
    assert "cancelled at step 7; continue with `cloister resume r1`" in resumed.getvalue()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    monkeypatch.setattr("time.monotonic", lambda: 1000.0)
    bar = _Progress(tty)
    for event in tokenizing(300_000, 450_000, 600_000):  # within 0.2 s: the first and the end
        bar.preparing(event)
    assert tty.getvalue() == ("\r[###############---------------] Tokenizing the texts: 300,000 "
                              "of 600,000  \r[##############################] Tokenizing the "
                              "texts: 600,000 of 600,000  ")


def test_without_a_terminal_progress_is_logged_as_plain_lines(monkeypatch) -> None:
    """A run logged to a file once printed nothing between epochs (an epoch of big data takes
    many minutes): now a plain line every LOG_EVERY_SECONDS, and no bar's carriage returns."""
    import io

    from engine.cli.train_cmds import _Progress
    from engine.events import Step

    stream = io.StringIO()  # not a terminal
    progress = _Progress(stream)
    step = Step(step=10, total_steps=100, epoch=0.1, loss=0.5, learning_rate=1e-4,
                samples_per_second=12.5, eta_seconds=90, epsilon=None)
    progress.step(step)
    assert stream.getvalue() == ""  # not yet: a minute has not passed
    monkeypatch.setattr(_Progress, "LOG_EVERY_SECONDS", 0.0)
    progress.step(step)
    assert stream.getvalue() == "step 10/100 epoch 0.10 loss 0.5000 12.5 rows/s ETA 1:30\n"


@pytest.mark.parametrize("windows", [False, True])
def test_a_reader_that_stops_reading_does_not_kill_the_run(windows: bool, monkeypatch) -> None:
    """`cloister train ... --json | head -1`: the first event printed, then the pipe closed. The
    write raised out of the event loop, which ended the run mid-step with no checkpoint; the
    run now goes on to its end, printed no more. Windows says EINVAL where POSIX says EPIPE."""
    import errno
    import io

    from engine.cli import common
    from engine.cli.train_cmds import EXIT_OK, consume
    from engine.events import Finished, Started, Step

    monkeypatch.setattr(common, "_PIPES_SAY_EINVAL", windows)

    class ClosedAfterOne(io.StringIO):
        def write(self, text: str) -> int:
            if self.getvalue():
                if windows:
                    raise OSError(errno.EINVAL, "Invalid argument")
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(text)

    taken: list[object] = []

    def events():  # noqa: ANN202 - the training loop, which must be drained to its end
        for event in (Started("20261206-083000-abcd1234", "cpu", 2, 10, 80, 10, ("a", "b")),
                      Step(step=1, total_steps=2, epoch=0.5, loss=0.7, learning_rate=1e-4,
                           samples_per_second=10.0, eta_seconds=1.0),
                      Finished(run_id="20261206-083000-abcd1234", duration_seconds=2.0, best_step=2,
                               metrics={"accuracy": 0.5})):
            taken.append(event)
            yield event

    out, err = ClosedAfterOne(), io.StringIO()
    assert consume(events(), json_mode=True, out=out, err=err) == EXIT_OK
    assert len(taken) == 3 and out.getvalue().count("\n") == 1
    assert "the output was closed; the run goes on to its end" in err.getvalue()
    if windows:  # elsewhere EINVAL is a real error, not a reader gone
        bad_path = OSError(errno.EINVAL, "Invalid argument", r"C:\data\out?.csv")
        assert common.pipe_closed(OSError(errno.EINVAL, "Invalid argument"))
        assert not common.pipe_closed(bad_path)  # Windows' word for a bad path too: said
        monkeypatch.setattr(common, "_PIPES_SAY_EINVAL", False)
        with pytest.raises(OSError, match="Invalid argument"):
            consume(events(), json_mode=True, out=ClosedAfterOne(), err=io.StringIO())


def test_a_usage_error_with_json_is_json_on_stdout_too(capsys) -> None:
    """`train DATA --epochs 0 --json` gave usage text on stderr only: a script reading stdout
    saw nothing, where every other error with --json is an object there."""
    with pytest.raises(SystemExit) as stop:
        cli(["predict", "some-run", "--text", "hi", "--top-k", "many", "--json"])
    captured = capsys.readouterr()
    assert stop.value.code == 2
    said = json.loads(captured.out)
    assert said["exit_code"] == 2 and "--top-k" in said["error"] and "invalid int value" in said["error"]
    assert "usage:" in captured.err  # the usage for a person, as before
    with pytest.raises(SystemExit):
        cli(["predict", "some-run", "--top-k", "many"])  # without --json: stdout stays empty
    assert capsys.readouterr().out == ""


def test_a_model_folder_given_relative_is_kept_absolute_for_resume(ready, tiny_bert, capsys,
                                                                   monkeypatch) -> None:
    # `cloister resume` run from another folder looked for the relative path there.
    monkeypatch.chdir(tiny_bert.parent)
    assert cli(small(Path(tiny_bert.name))) == 0
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["config"]["model_path"] == str(tiny_bert.absolute())


def test_import_replace_says_what_it_replaces_and_the_runs_it_keeps(ready, tiny_bert, capsys) -> None:
    # A monthly re-import over the name of the last one said only "Imported 201 rows".
    assert cli(small(tiny_bert)) == 0
    capsys.readouterr()
    newer = ready.with_name("newer.csv")
    newer.write_text(ready.read_text("utf-8") + "one more row,pos\n", "utf-8")
    assert cli(["import", str(newer), "--name", "toy", "--replace"]) == 0
    out = capsys.readouterr().out
    assert f"It replaces the earlier import of 'toy': 100 rows from {ready.name}, imported 20" in out
    assert ("1 run trained on it is kept; `cloister runs` lists it under 'toy (an earlier import, "
            f"{ready.name})'") in out  # the file it came from: which month's export it was
    assert cli(["import", str(ready), "--name", "toy", "--replace"]) == 0  # the first rows again
    assert "lists it under 'toy'." in capsys.readouterr().out
    assert cli(["import", str(ready), "--name", "fresh", "--replace"]) == 0  # nothing to replace
    assert "replaces" not in capsys.readouterr().out


def test_multi_label_on_a_dataset_fixed_class_by_class_is_refused(tmp_path: Path, monkeypatch,
                                                                   tiny_bert, capsys) -> None:
    """Imported as one label a cell, its rare combinations merged into 'other', then trained
    with --multi-label: 'other' had replaced every label of those rows. The Datasets page refuses
    to read such a file with several labels a row; `train` now refuses too."""
    combos = ["billing", "tech", "billing|tech"]
    rows = [(f"ticket {i}", combos[i % 3]) for i in range(30)] + [("odd one", "tech|urgent"),
                                                                 ("odd two", "billing|urgent")]
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "cli test passphrase")
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "merged", "--min-class-size", "2",
                "--merge-small-into", "other"]) == 0
    capsys.readouterr()
    assert cli(["train", "merged", "--model", str(tiny_bert), "--multi-label", "--label-delimiter",
                "|", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "was fixed class by class (merged 2 classes" in err and "--label-delimiter" in err
    assert cli(["train", "merged", "--model", str(tiny_bert), "--dry-run"]) == 0  # one a row: fine


def test_multi_label_at_training_checks_a_forced_import_label_by_label(tmp_path: Path, monkeypatch,
                                                                       tiny_bert, capsys) -> None:
    """Imported with --force as one label a cell, each rare combination kept an error ("class
    'billing|refund|tech' has 1 example") that blocked `train --multi-label --label-delimiter
    '|'`, though every label had dozens of rows. The rows are now checked label by label."""
    combos = ["billing", "tech", "billing|tech", "refund", "refund|billing"]
    rows = [(f"ticket {i}", combos[i % 5]) for i in range(50)] + [("odd one", "billing|refund|tech")]
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "cli test passphrase")
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *rows])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "forced", "--force"]) == 0
    capsys.readouterr()
    assert cli(["train", "forced", "--model", str(tiny_bert), "--dry-run"]) == 2  # one a cell
    assert "class 'billing|refund|tech' has 1 example" in capsys.readouterr().err
    assert cli(["train", "forced", "--model", str(tiny_bert), "--multi-label", "--label-delimiter",
                "|", "--dry-run"]) == 0
    assert cli(["train", "forced", "--model", str(tiny_bert), "--multi-label", "--label-delimiter",
                "|", "--epochs", "1", "--batch-size", "8", "--max-length", "32", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["event"] == "finished"
