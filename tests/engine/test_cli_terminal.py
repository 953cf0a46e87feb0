"""The command line at a real terminal (a pty): Ctrl-D at a prompt and a Ctrl-C before the
command begins end with one line, not a Python traceback."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from engine.cli import main as cli
from privacy.vault.container import ScryptParams
from privacy.vault.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _at_a_terminal(argv: list[str], env: dict[str, str], *, until: bytes, send: bytes) -> tuple[int, str]:
    """Run ``cloister ARGV`` on a new pty; once ``until`` is shown, type ``send``."""
    pty = pytest.importorskip("pty")  # POSIX: where the installers' users type these keys
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as in a shell
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "engine.cli", *argv], env)
    shown, sent = b"", False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        if not sent and until in shown:
            os.write(fd, send)
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")


def test_ctrl_d_at_the_passphrase_prompt_says_so_without_a_traceback(tmp_path: Path) -> None:
    Workspace.create(tmp_path / "ws", "right passphrase", kdf=ScryptParams(log2_n=10)).lock()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOISTER_PASSPHRASE")}
    code, shown = _at_a_terminal(["datasets", "--workspace", str(tmp_path / "ws")], env,
                                 until=b"assphrase", send=b"\x04")
    assert "no answer: the input ended at the prompt (Ctrl-D); nothing was changed" in shown
    assert "Traceback" not in shown and "EOFError" not in shown
    assert code == 2  # an input error, as a wrong answer is


def test_a_ctrl_c_while_the_command_line_is_still_being_read_is_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import engine.cli as entry

    def interrupted() -> None:  # Ctrl-C in the first fraction of a second, as imports run
        raise KeyboardInterrupt

    monkeypatch.setattr(entry, "build_parser", interrupted)
    assert cli(["datasets"]) == 130
    assert capsys.readouterr().err == \
        "cloister: interrupted before the command began; nothing was changed\n"
