"""The workspace's index lock: waited for across processes and across threads of one process,
through the one code path that the POSIX and Windows builds share (only take/drop differ)."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from privacy.vault import file_lock

HOLDER = """
import sys
from pathlib import Path
from privacy.vault import file_lock
with file_lock.held(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says to let go
print("released", flush=True)
"""


def _enter_in_thread(path: Path) -> tuple[threading.Thread, threading.Event]:
    entered = threading.Event()

    def enter() -> None:
        with file_lock.held(path):
            entered.set()

    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    return thread, entered


def test_a_lock_held_by_another_process_is_waited_for_until_it_is_let_go(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(file_lock.Busy):  # a caller that will not wait long gives up instead
            with file_lock.held(path, give_up_after=0.2):
                raise AssertionError("entered while another process held the lock")
        thread, entered = _enter_in_thread(path)
        assert not entered.wait(0.5), "entered while another process held the lock"
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        assert entered.wait(30), "never entered after the other process let go"
        thread.join(5)
    finally:
        holder.kill()
        holder.wait()


def test_threads_of_one_process_wait_for_each_other(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with file_lock.held(path):
        thread, entered = _enter_in_thread(path)
        assert not entered.wait(0.3), "a second thread entered while the first held the lock"
        with pytest.raises(file_lock.Busy):  # nor does a waiting caller wait past its time
            with file_lock.held(path, give_up_after=0.1):
                raise AssertionError("entered while another thread held the lock")
    assert entered.wait(30)
    thread.join(5)
    assert path.exists() and path.stat().st_size == 0  # the lock file carries nothing


def test_the_lock_is_free_again_after_a_block_that_raised(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    try:
        with file_lock.held(path):
            raise RuntimeError("the work inside failed")
    except RuntimeError:
        pass
    thread, entered = _enter_in_thread(path)
    assert entered.wait(30)
    thread.join(5)


def test_a_caller_that_waits_long_is_told_once(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A command waiting on the app's change seemed to hang for as long as it took."""
    monkeypatch.setattr(file_lock, "WAIT_NOTE_S", 0.05)
    path, told = tmp_path / ".lock", []
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        threading.Timer(0.4, lambda: (holder.stdin.write("go\n"), holder.stdin.flush())).start()
        with file_lock.held(path, on_wait=lambda: told.append("waiting")):
            assert told == ["waiting"]  # once, however long the wait
        with file_lock.held(path, on_wait=lambda: told.append("again")):
            pass  # free at once: nothing said
        assert told == ["waiting"]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.skipif(sys.platform == "win32", reason="flock is the POSIX build's call")
def test_a_file_system_that_refuses_locks_is_named_instead_of_waited_on_forever(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Some network shares and FUSE mounts answer flock with ENOLCK: that once read as a lock
    another process held, and the app waited on it for ever."""
    import errno
    import fcntl

    from engine.cli import main as cli

    def refuse(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)
    with pytest.raises(file_lock.LocksUnsupported) as refused:
        with file_lock.held(tmp_path / ".lock", give_up_after=5.0):  # Busy after 5 s before
            pytest.fail("a lock that was refused must not be held")
    assert f"the file system of {tmp_path} refuses file locks (No locks available)" in str(refused.value)
    assert "Move the workspace to a local disk" in str(refused.value)
    # A command says so, without a traceback, and a new workspace is refused before anything
    # is written (not a vault left that no command could then open).
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("CLOISTER_WORKSPACE", str(tmp_path / "ws"))
    assert cli(["init", "--kdf-cost", "10"]) == 1
    assert "refuses file locks" in capsys.readouterr().err and not (tmp_path / "ws").exists()
    with pytest.raises(file_lock.LocksUnsupported):
        file_lock.try_lock(0, tmp_path / ".lock")
