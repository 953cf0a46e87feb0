"""The command line writes and reads UTF-8 on pipes and files whatever the platform's default
(Windows: cp1252): ε, δ and people's names in any script reach a log or a script intact."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONUTF8": "0"}  # as Windows pipes are
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True,
                          cwd=ROOT, env=env, timeout=120)


def test_help_with_greek_letters_goes_to_a_pipe_in_utf8() -> None:
    # `cloister train --help > file` raised UnicodeEncodeError on the ε of its DP options.
    done = _run("from engine.cli import main; main(['train', '--help'])")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    assert "ε".encode("utf-8") in done.stdout


def test_values_piped_in_are_read_as_utf8_without_a_byte_order_mark() -> None:
    # `forget --file -` read "José" as "JosÃ©" from a pipe, and found nothing.
    done = _run("from engine.cli import use_utf8_streams; use_utf8_streams(); import sys; "
                "print(repr(sys.stdin.read()), 'Zoë')", stdin="\ufeffJosé\n".encode("utf-8"))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stdout.decode("utf-8").strip() == "'José\\n' Zoë"


def test_control_characters_from_files_are_shown_not_sent_to_a_terminal(monkeypatch) -> None:
    # A column named with an escape sequence (or a Mac Roman header read as Latin-1, a C1
    # control) went raw to the terminal, which can retitle, clear or rewrite it.
    import io

    from engine.cli import show_controls_on_terminals

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, piped = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "stderr", piped)
    show_controls_on_terminals()
    show_controls_on_terminals()  # once only
    print("column \x1b]0;owned\x07 and \x83tiquette\r[###]\tdone")
    print("as it is \x1b[2J", file=sys.stderr)
    assert terminal.getvalue() == "column \\u001b]0;owned\\u0007 and \\u0083tiquette\r[###]\tdone\n"
    print("label \u202eexe.txt and \u2067isolated\u2069, Hebrew \u05e9\u05dc\u05d5\u05dd kept")
    assert terminal.getvalue().splitlines()[-1] == (
        "label \\u202eexe.txt and \\u2067isolated\\u2069, Hebrew \u05e9\u05dc\u05d5\u05dd kept")
    import json  # the escapes are JSON's: --json on a terminal stays parseable

    assert json.loads('"lab\\u007fel"') == "lab\x7fel"
    assert piped.getvalue() == "as it is \x1b[2J\n"  # a pipe or a file gets the data unchanged


def test_an_error_with_json_to_a_closed_pipe_is_one_line_and_its_exit_code(tmp_path: Path) -> None:
    # `cloister runs nosuch --json | true`: two BrokenPipeError tracebacks, and exit 1 for 2.
    reader, writer = os.pipe()
    os.close(reader)  # the script reading stdout is gone before the error is written
    env = {**os.environ, "CLOISTER_WORKSPACE": str(tmp_path / "none"), "CLOISTER_SETTINGS_DIR":
           str(tmp_path / "settings")}
    for args, said in ((["runs", "nosuch", "--json"], "cloister: error: no Cloister workspace at"),
                       (["runs", "--bogus", "--json"], "unrecognized arguments: --bogus")):
        done = subprocess.run([sys.executable, "-c", "import sys; from engine.cli import main; "
                               f"sys.exit(main({args!r}))"], stdout=writer,
                              stderr=subprocess.PIPE, cwd=ROOT, env=env, timeout=120)
        err = done.stderr.decode("utf-8")
        assert done.returncode == 2 and "Traceback" not in err, err
        assert err.count(said) == 1
    os.close(writer)


def test_warnings_read_as_the_commands_and_a_librarys_are_named() -> None:
    # `WARNING privacy.vault.workspace: waiting for another Cloister…` read like no other line.
    import logging

    from engine.cli import _AsTheCommandSaysIt

    def said(name: str) -> str:
        record = logging.LogRecord(name, logging.WARNING, __file__, 1, "waiting for %s", ("x",), None)
        return _AsTheCommandSaysIt().format(record)

    assert said("privacy.vault.workspace") == "cloister: warning: waiting for x"
    assert said("transformers.tokenization_utils") == \
        "cloister: warning: transformers.tokenization_utils: waiting for x"


def test_an_option_a_command_does_not_take_is_said_with_that_commands_usage(capsys) -> None:
    # `evaluate RUN --file X` printed cloister's own usage, which lists commands, not options.
    import pytest

    from engine.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "RUN", "--file", "X"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith("usage: cloister evaluate ") and "--data NAME|FILE" in err
    assert err.rstrip().endswith("cloister evaluate: error: unrecognized arguments: --file X")
