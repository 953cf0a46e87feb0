"""The workspace commands end to end, in-process through ``engine.cli.main``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main as cli
from privacy.vault.workspace import Workspace
from tests.conftest import REAL_DATA

CSV = "text,label\n" + "".join(
    f"ticket number {i} about {'billing' if i % 2 else 'login'},{'billing' if i % 2 else 'access'}\n"
    for i in range(30))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "first passphrase")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    source = tmp_path / "tickets.csv"
    source.write_text(CSV, encoding="utf-8")
    return source


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_list_show(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "import", str(env), "--name", "tickets")
    assert code == 0 and "Imported 30 rows as dataset 'tickets' (2 classes)" in out
    code, out, _ = run(capsys, "datasets", "--json")
    listed = json.loads(out)
    assert [(d["name"], d["rows"], d["labels"]) for d in listed] == [
        ("tickets", 30, {"access": 15, "billing": 15})]
    code, out, _ = run(capsys, "datasets")
    assert "tickets" in out and "tickets.csv" in out
    code, out, _ = run(capsys, "show", "tickets", "--rows", "2")
    assert code == 0
    assert "1  [access] ticket number 0 about login" in out
    assert "2  [billing] ticket number 1 about billing" in out
    assert "ticket number 2" not in out


def test_import_with_explicit_columns_and_replace(env: Path, capsys) -> None:
    assert cli(["import", str(env), "--name", "t", "--text-column", "text",
                "--label-column", "label"]) == 0
    code, _, err = run(capsys, "import", str(env), "--name", "t")
    assert code == 2 and "'t' already exists" in err
    assert cli(["import", str(env), "--name", "t", "--replace"]) == 0
    code, _, err = run(capsys, "import", str(env), "--name", "t2", "--text-column", "body")
    assert code == 2 and "'body'" in err and "tickets.csv" in err


def test_blocking_problems_refused_unless_forced(env: Path, tmp_path: Path, capsys) -> None:
    single = tmp_path / "single.csv"
    single.write_text("text,label\n" + "".join(f"t {i},same\n" for i in range(12)))
    code, out, err = run(capsys, "import", str(single), "--name", "one-class")
    assert code == 2 and "blocking problem" in err and "--force" in err
    assert "  error: column 'label': every usable row has the same label" in err and "error:" not in out
    code, out, _ = run(capsys, "datasets", "--json")
    assert json.loads(out) == []
    assert run(capsys, "import", str(single), "--name", "one-class", "--force")[0] == 0
    code, out, _ = run(capsys, "datasets", "--json")
    assert [d["name"] for d in json.loads(out)] == ["one-class"]


def test_rename_rm_and_audit(env: Path, capsys) -> None:
    assert cli(["import", str(env), "--name", "a"]) == 0
    assert cli(["rename", "a", "b"]) == 0
    code, out, _ = run(capsys, "rename", "b", "b")  # said "Renamed dataset 'b' to 'b'."
    assert code == 0 and out.endswith("\nDataset 'b' already has that name: nothing changed.\n")
    code, _, err = run(capsys, "show", "a")
    assert code == 2 and "no dataset named 'a'" in err
    code, _, err = run(capsys, "rm", "b")  # stdin is not a terminal under pytest
    assert code == 2 and "--yes" in err
    assert run(capsys, "rm", "b", "--yes")[0] == 0
    code, out, _ = run(capsys, "audit")
    actions = [line.split()[3] for line in out.splitlines()]
    assert actions == ["vault.created", "dataset.imported", "dataset.renamed", "dataset.deleted"]
    code, out, _ = run(capsys, "audit", "--verify")
    assert code == 0 and "4 entries, chain intact" in out


def test_audit_verify_reports_tampering(env: Path, isolated_dirs, capsys) -> None:
    assert cli(["import", str(env), "--name", "a"]) == 0
    log = isolated_dirs["CLOISTER_WORKSPACE"] / "audit.log"
    data = bytearray(log.read_bytes())
    data[-5] ^= 0x40
    log.write_bytes(bytes(data))
    code, _, err = run(capsys, "audit", "--verify")
    assert code == 1 and "entry 1 is damaged" in err


def test_passwd_and_passphrase_sources(env: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    same = tmp_path / "same.txt"
    same.write_text("first passphrase\n")
    code, _, err = run(capsys, "passwd", "--new-passphrase-file", str(same))
    assert code == 2 and "the same as the current one; nothing was changed" in err
    code, _, err = run(capsys, "passwd")  # no new one, no terminal: the flag for it is named
    assert code == 2 and "no new passphrase given: use --new-passphrase-file FILE or set " \
        "CLOISTER_NEW_PASSPHRASE" in err
    short = tmp_path / "short.txt"
    short.write_text("tiny\n")
    code, _, err = run(capsys, "passwd", "--new-passphrase-file", str(short))
    assert code == 2 and "too easy to guess" in err and "nothing was changed" in err
    assert run(capsys, "datasets")[0] == 0  # the old passphrase still opens it
    new_file = tmp_path / "new.txt"
    new_file.write_text("second passphrase\n")
    code, out, _ = run(capsys, "passwd", "--new-passphrase-file", str(new_file))
    # Not a key rotation: an admin read it as one (a backup from before still opens).
    assert code == 0 and "taken before now still open with the old passphrase" in out
    code, _, err = run(capsys, "datasets")
    assert code == 2 and "wrong passphrase" in err  # the user's input: exit 2
    monkeypatch.delenv("CLOISTER_PASSPHRASE")
    code, _, err = run(capsys, "datasets")
    assert code == 2 and "--passphrase-file" in err  # no terminal, no passphrase: no hang
    new_file.chmod(0o600)
    code, _, err = run(capsys, "datasets", "--passphrase-file", str(new_file))
    assert code == 0 and "warning" not in err
    new_file.chmod(0o644)  # others on the machine may read it: they would have the workspace
    code, _, err = run(capsys, "datasets", "--passphrase-file", str(new_file))
    assert code == 0 and (f"warning: passphrase file {new_file} may be read by other users (mode "
                          f"644); make it yours alone: chmod 600 {new_file}") in err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, _, err = run(capsys, "datasets", "--passphrase-file", str(empty))
    assert code == 2 and "empty" in err
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n")  # once tried as a passphrase, and reported as a wrong one
    code, _, err = run(capsys, "datasets", "--passphrase-file", str(blank))
    assert code == 2 and "has no passphrase on its first line (it is blank)" in err
    # A folder, or bytes that are no text: Python's own words ("[Errno 21] Is a directory",
    # "'utf-16-le' codec can't decode byte 0x00") were what the user read.
    code, _, err = run(capsys, "datasets", "--passphrase-file", str(tmp_path))
    assert code == 2 and f"passphrase file {tmp_path} is a folder: give the file" in err
    binary = tmp_path / "key.bin"
    binary.write_bytes(b"\xff\xfe\x41")  # a UTF-16 mark, then half a character
    code, _, err = run(capsys, "datasets", "--passphrase-file", str(binary))
    assert code == 2 and f"passphrase file {binary} is not text: save the passphrase" in err
    # "-": the first line of standard input, as `forget --file -` reads its values.
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("second passphrase\nnot read\n"))
    code, _, err = run(capsys, "datasets", "--passphrase-file", "-")
    assert code == 0 and "warning" not in err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "datasets", "--passphrase-file", "-")
    assert code == 2 and "standard input has no passphrase" in err
    assert "wrong passphrase" not in err


def test_errors_name_the_workspace_and_dataset(env: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "datasets", "--workspace", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere" in err and "cloister init" in err
    # import says so before a page of the file's own warnings, not after them
    messy = REAL_DATA / "cfpb_complaints_extract" / "complaints.csv"
    code, out, err = run(capsys, "import", str(messy), "--name", "c", "--workspace",
                         str(tmp_path / "nowhere"))
    assert code == 2 and "no Cloister workspace" in err and out == ""
    # A workspace that lost its vault file is not "no workspace": init cannot help, a backup can.
    kept = tmp_path / "kept"
    assert cli(["init", "--kdf-cost", "10", "--workspace", str(kept)]) == 0
    (kept / "cloister.vault").unlink()
    code, _, err = run(capsys, "datasets", "--workspace", str(kept))
    assert code == 2 and f"the workspace at {kept} has lost its cloister.vault" in err
    assert "put cloister.vault back from a backup" in err and "cloister init" not in err
    code, _, err = run(capsys, "init", "--kdf-cost", "10")
    assert code == 2 and "already exists" in err
    assert cli(["import", str(env), "--name", "hurt"]) == 0
    code, _, err = run(capsys, "show", "Hrut")  # a typo: the stored name it was meant to be
    assert code == 2 and "no dataset named 'Hrut'; did you mean 'hurt'?" in err
    code, _, err = run(capsys, "show", "zzz")
    assert code == 2 and "did you mean" not in err
    ws = Workspace.unlock(tmp_path / "_env" / "workspace", "first passphrase")
    table_key = next(k for k in ws.list("datasets/hurt/") if "table-" in k)
    path = ws.file_of(table_key)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01
    path.write_bytes(bytes(data))
    code, _, err = run(capsys, "show", "hurt")
    assert code == 1 and "dataset 'hurt'" in err and "damaged" in err and path.name in err


def test_skip_incomplete_rows_are_not_stored(env: Path, tmp_path: Path, capsys) -> None:
    gappy = tmp_path / "gappy.csv"
    gappy.write_text(CSV + ",billing\nno label at all,\n", encoding="utf-8")
    code, _, err = run(capsys, "import", str(gappy), "--name", "g")
    assert code == 2 and "blocking" in err
    code, out, _ = run(capsys, "import", str(gappy), "--name", "g", "--skip-incomplete")
    assert code == 0 and "30 rows" in out
    from engine.data.store import load_dataset

    ds = load_dataset(Workspace.unlock(tmp_path / "_env" / "workspace", "first passphrase"), "g")
    assert ds.info.rows == ds.table.num_rows == 30 and len(ds.texts) == len(ds.labels) == 30
    assert "no label at all" not in ds.texts


def test_init_asks_twice_on_a_terminal(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("CLOISTER_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["typed once", "typed differently"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    target = tmp_path / "fresh"
    code, _, err = run(capsys, "init", "--kdf-cost", "10", "--workspace", str(target))
    assert code == 2 and "differ" in err
    assert not Workspace.exists(target)
    answers = iter(["typed twice", "typed twice", "typed twice"])
    assert run(capsys, "init", "--kdf-cost", "10", "--workspace", str(target))[0] == 0
    assert run(capsys, "datasets", "--workspace", str(target))[0] == 0  # third answer unlocks
    assert Workspace.unlock(target, "typed twice").list() == []


def test_audit_verify_all_files_names_a_damaged_entry(env: Path, isolated_dirs, capsys) -> None:
    assert run(capsys, "import", str(env), "--name", "fine")[0] == 0
    code, out, _ = run(capsys, "audit", "--verify", "--all-files")
    assert code == 0 and "All 2 workspace files decrypt" in out
    ws = Workspace.unlock(isolated_dirs["CLOISTER_WORKSPACE"], "first passphrase")
    meta = ws.file_of("datasets/fine/meta.json")
    meta.write_bytes(meta.read_bytes()[:-1])
    code, out, err = run(capsys, "audit", "--verify", "--all-files")
    assert code == 1 and "datasets/fine/meta.json" in err
    assert "chain intact. The workspace is not intact: 1 problem, listed above." in out
    code, _, err = run(capsys, "audit", "--all-files")
    assert code == 2 and "--verify" in err
    # The list names it and fails: it said "No datasets yet", exit 0, to a monitoring script.
    assert run(capsys, "import", str(env), "--name", "other")[0] == 0
    code, out, err = run(capsys, "datasets")
    assert code == 1 and "'fine'" in err and "other" in out and "No datasets yet" not in out
    code, out, _ = run(capsys, "datasets", "--json")
    listed = json.loads(out)
    assert code == 1 and [d["name"] for d in listed] == ["other", "fine"] and "fine" in listed[1]["damaged"]
    assert listed[0].keys() == listed[1].keys() and listed[1]["rows"] is None  # one shape


def test_init_refuses_a_passphrase_the_desktop_would_refuse(tmp_path: Path, monkeypatch,
                                                           capsys) -> None:
    from privacy.passphrase_strength import assess

    for weak in ("short", "Password1!", "aaaaaaaaaaaa"):
        assert not assess(weak).acceptable  # the desktop's create-vault dialog refuses these
        monkeypatch.setenv("CLOISTER_PASSPHRASE", weak)
        code, _, err = run(capsys, "init", "--kdf-cost", "10", "--workspace", str(tmp_path / "w"))
        assert code == 2 and "too easy to guess" in err and "nothing was changed" in err
        assert not (tmp_path / "w").exists()  # nothing created
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "eight chars ok")
    assert assess("eight chars ok").acceptable
    assert run(capsys, "init", "--kdf-cost", "10", "--workspace", str(tmp_path / "w"))[0] == 0


def test_rm_asks_on_a_terminal(env: Path, monkeypatch, capsys) -> None:
    assert run(capsys, "import", str(env), "--name", "keep-me")[0] == 0
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    code, out, _ = run(capsys, "rm", "keep-me")
    assert code == 0 and "Nothing deleted" in out
    monkeypatch.setattr("builtins.input", lambda prompt="": "yes")
    code, out, _ = run(capsys, "rm", "keep-me")
    assert code == 0 and "Deleted dataset 'keep-me'" in out
    assert json.loads(run(capsys, "datasets", "--json")[1]) == []


def test_passwd_without_a_workspace_says_so_before_asking(tmp_path: Path, monkeypatch,
                                                          capsys) -> None:
    monkeypatch.delenv("CLOISTER_PASSPHRASE", raising=False)
    code, _, err = run(capsys, "passwd", "--workspace", str(tmp_path / "none"))
    assert code == 2 and "cloister init" in err  # not "no passphrase given"


def test_init_on_a_file_or_a_folder_of_other_files_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "a long enough passphrase here")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, _, err = run(capsys, "init", "--kdf-cost", "10", "--workspace", str(a_file))
    assert code == 2 and "is a file, not a folder" in err and "Traceback" not in err
    code, _, err = run(capsys, "init", "--kdf-cost", "10", "--workspace", str(tmp_path))
    assert code == 2 and "already holds other files" in err
    assert a_file.read_text() == "mine"


def test_a_dataset_whose_table_is_lost_can_still_be_deleted(env: Path, capsys, isolated_dirs,
                                                           monkeypatch) -> None:
    # A backup copied mid-import lacked a dataset's files: rm refused ("cannot be read ... restore the
    # workspace from a backup") and the broken entry could never be removed.
    from privacy.vault.workspace import Workspace

    assert cli(["import", str(env), "--name", "hurt"]) == 0
    assert cli(["import", str(env), "--name", "whole"]) == 0
    ws = Workspace.unlock(isolated_dirs["CLOISTER_WORKSPACE"], "first passphrase")
    for key in ws.list("datasets/hurt/"):  # its files, not its index entries, are gone
        ws.file_of(key).unlink()
    ws.lock()
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: (asked.append(prompt), "n")[1])
    asked: list[str] = []
    code, out, _ = run(capsys, "rm", "hurt")
    assert code == 0 and "Nothing deleted." in out
    assert asked[0].startswith("dataset 'hurt' cannot be read: workspace entry 'datasets/hurt/meta.json'")
    assert asked[0].endswith("Delete dataset 'hurt'? [y/N] ")
    code, out, _ = run(capsys, "rm", "hurt", "--yes")
    assert code == 0 and "Deleted dataset 'hurt'" in out
    code, out, _ = run(capsys, "datasets", "--json")
    assert code == 0 and [d["name"] for d in json.loads(out)] == ["whole"]


def test_backup_needs_no_passphrase_and_refuses_to_write_over_anything(
        env: Path, tmp_path: Path, capsys, isolated_dirs, monkeypatch) -> None:
    assert cli(["import", str(env), "--name", "tickets"]) == 0
    monkeypatch.delenv("CLOISTER_PASSPHRASE")  # an admin's nightly job copies; it decrypts nothing
    capsys.readouterr()
    code, out, _ = run(capsys, "backup", str(tmp_path / "nightly"))
    assert code == 0 and out.startswith(f"Backed up the workspace at {isolated_dirs['CLOISTER_WORKSPACE']} "
                                        f"to {(tmp_path / 'nightly').resolve()}: ")
    assert "with no file half written" in out and "cloister audit --accept-restore" in out
    code, _, err = run(capsys, "backup", str(tmp_path / "nightly"))
    assert code == 2 and "already exists and is not an empty folder" in err
    with pytest.raises(SystemExit):  # its help offered a passphrase file it never reads
        cli(["backup", "--help"])
    said = capsys.readouterr().out
    assert "--workspace" in said and "--passphrase-file" not in said
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "first passphrase")
    monkeypatch.setenv("CLOISTER_ANCHOR_DIR", str(tmp_path / "elsewhere"))  # as on another computer
    code, out, _ = run(capsys, "datasets", "--workspace", str(tmp_path / "nightly"))
    assert code == 0 and "tickets" in out


def test_a_backup_is_checked_on_its_own_on_the_computer_that_made_it(env: Path, tmp_path: Path,
                                                                      capsys, monkeypatch,
                                                                      isolated_dirs) -> None:
    assert cli(["import", str(env), "--name", "tickets"]) == 0
    assert cli(["backup", str(tmp_path / "nightly")]) == 0
    assert cli(["import", str(env), "--name", "later"]) == 0  # the workspace in use moves on
    backup = ["--workspace", str(tmp_path / "nightly")]
    capsys.readouterr()
    code, _, err = run(capsys, "audit", "--verify", *backup)
    assert code == 1 and "altered or damaged" in err  # what an admin testing a backup met
    code, out, err = run(capsys, "audit", "--verify", "--backup", *backup)
    assert code == 0 and err == "" and "is intact: 2 files decrypt and authenticate" in out
    assert "As expected of a backup, it is older than the copy last used on this computer" in out
    assert run(capsys, "datasets")[0] == 0  # the workspace in use is not disturbed by the check
    for wrong in ([], ["--json", *backup]):  # a folder must be named; no JSON verdict to misread
        assert run(capsys, "audit", "--verify", "--backup", *wrong)[0] == 2
    # Only being older is expected of a backup: a record that was altered is a problem.
    record = next(isolated_dirs["CLOISTER_ANCHOR_DIR"].glob("*.json"))
    kept = record.read_text()
    record.write_text(kept.replace('"audit_seq": ', '"audit_seq": 1'))
    code, _, err = run(capsys, "audit", "--verify", "--backup", *backup)
    assert code == 1 and "backup problem" in err
    record.write_text(kept)
    # A damaged file in the backup fails the check, by name.
    with monkeypatch.context() as elsewhere:
        elsewhere.setenv("CLOISTER_ANCHOR_DIR", str(tmp_path / "elsewhere"))
        meta = Workspace.unlock(tmp_path / "nightly", "first passphrase").file_of("datasets/tickets/meta.json")
    meta.write_bytes(meta.read_bytes()[:-1])
    code, out, err = run(capsys, "audit", "--verify", "--backup", *backup)
    assert code == 1 and "datasets/tickets/meta.json" in err and "do not restore from it" in out
    assert run(capsys, "audit", "--backup", *backup)[0] == 2
    # Accepting a copy elsewhere makes the workspace in use the older one: said, with the way
    # to check a backup instead.
    assert cli(["backup", str(tmp_path / "trial")]) == 0
    assert cli(["import", str(env), "--name", "third"]) == 0
    code, _, err = run(capsys, "audit", "--accept-restore", "--yes", "--workspace", str(tmp_path / "trial"))
    assert code == 0 and "this computer now holds this copy as the newest" in err
    assert "audit --verify --backup" in err


def test_a_full_disk_is_said_once_with_what_was_kept(env: Path, capsys, monkeypatch) -> None:
    # "... Nothing was changed; free some space and try again; check that the folder exists,
    # that you may write to it and that the disk has free space": two pieces of advice, one wrong.
    from collections import namedtuple

    from privacy.vault import index

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(index.shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 4096, 4096))
    code, _, err = run(capsys, "import", str(env), "--name", "tickets")
    assert code == 1 and "Nothing was changed; free some space and try again" in err
    assert "check that the folder exists" not in err


def test_the_audit_log_is_verified_under_the_writers_lock_or_read_only_without(
        env: Path, capsys, monkeypatch) -> None:
    """The log is read under the lock appenders hold (beside an append it could fall short of
    its anchor and read as tampered); a read-only folder, where the lock cannot be taken and
    nothing can append, is still verified."""
    import contextlib
    import errno

    from privacy.vault import file_lock

    assert cli(["import", str(env), "--name", "tickets"]) == 0
    holding, read_while = [False], []
    real, verify = file_lock.held, Workspace.verify_audit

    @contextlib.contextmanager
    def watched(path, **kwargs):  # noqa: ANN001, ANN003, ANN202
        with real(path, **kwargs):
            holding[0] = True
            try:
                yield
            finally:
                holding[0] = False

    def verify_audit(self):  # noqa: ANN001, ANN202
        read_while.append(holding[0])
        return verify(self)

    monkeypatch.setattr(file_lock, "held", watched)
    monkeypatch.setattr(Workspace, "verify_audit", verify_audit)
    capsys.readouterr()
    code, out, _ = run(capsys, "audit", "--verify")
    assert code == 0 and "chain intact" in out and read_while == [True]  # read under the lock

    @contextlib.contextmanager
    def read_only(path, **_kwargs):  # noqa: ANN001, ANN003, ANN202
        raise OSError(errno.EROFS, "Read-only file system", str(path))
        yield  # pragma: no cover

    monkeypatch.setattr(file_lock, "held", read_only)
    code, out, err = run(capsys, "audit", "--verify")
    assert code == 0 and "Audit log verified: 2 entries, chain intact." in out, err


def test_a_full_disk_met_mid_write_names_the_workspace(env: Path, capsys, monkeypatch,
                                                      isolated_dirs) -> None:
    """A write that names no file said only 'No space left on device; check that the folder
    exists...': the administrator was told no folder."""
    import errno

    def full(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("engine.data.store.save_dataset", full)
    code, _, err = run(capsys, "import", str(env), "--name", "tickets")
    assert code == 1 and "No space left on device" in err
    assert f"the disk that holds the workspace ({isolated_dirs['CLOISTER_WORKSPACE']})" in err


def test_show_lists_the_most_frequent_labels_and_counts_the_rest(env: Path, tmp_path: Path,
                                                                 capsys) -> None:
    # 5,000 labels were printed on one line of 168,547 characters.
    many = tmp_path / "many.csv"
    many.write_text("text,label\n" + "".join(f"note {i} {j},class{i:03d}\n" for i in range(40)
                                             for j in range(2 if i else 3)), encoding="utf-8")
    assert cli(["import", str(many), "--name", "many"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "show", "many", "--rows", "1")
    line = next(line for line in out.splitlines() if line.startswith("Labels"))
    assert code == 0 and line.startswith("Labels (40): class000 (3), class001 (2), ")
    assert line.endswith(", … and 10 more") and line.count("(2)") == 29


def test_a_change_on_a_read_only_disk_is_said_as_such(env: Path, capsys, monkeypatch) -> None:
    """A workspace on read-only media (a mounted backup, a write-protected stick): a command that
    writes said "Read-only file system; check ... that the disk has free space", sending the
    user to free space on a disk that had room."""
    import contextlib
    import errno

    from privacy.vault import file_lock

    assert cli(["import", str(env), "--name", "tickets"]) == 0
    real = file_lock.held

    @contextlib.contextmanager
    def read_only(path, **_kwargs):  # noqa: ANN001, ANN003, ANN202
        raise OSError(errno.EROFS, "Read-only file system", str(path))
        yield  # pragma: no cover

    monkeypatch.setattr(file_lock, "held", read_only)
    capsys.readouterr()
    code, _, err = run(capsys, "rename", "tickets", "renamed")
    assert code == 1
    assert err.strip().endswith(
        "Read-only file system: that disk is mounted read-only, and this command writes to it; "
        "make it writable (or copy the workspace to a disk that is) and run the command again")
    assert "free space" not in err and ".lock" in err
    monkeypatch.setattr(file_lock, "held", real)
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "tickets" in out and "renamed" not in out
