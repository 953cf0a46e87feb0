"""The headless ``cloister`` subcommands (``desktop.launcher`` opens the app when none is given).

This module never imports Qt, so it works on a server without Qt libraries.

Each group of subcommands lives in its own module exposing ``register(subparsers)``; the
module's parser sets ``func`` to a callable taking the parsed namespace and returning an exit
code. Bad input is reported as one clear line on stderr with a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import errno
import logging
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from privacy.errors import NoRoomForChange, PrivacyError
from privacy.hardening import disable_core_dumps
from privacy.offline import enforce_offline

from engine.errors import CloisterError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BLOCKING = 2


def version() -> str:
    """The installed version (the frozen build carries the package metadata too)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("cloister")
    except PackageNotFoundError:  # a source tree on sys.path without an install
        return "unknown"


class _Parser(argparse.ArgumentParser):
    """argparse, keeping the last usage error's text: with --json, main prints it on stdout as
    every other error is (a script reading stdout got nothing, only usage on stderr)."""

    last_error = ""

    def error(self, message: str) -> NoReturn:
        _Parser.last_error = f"{self.prog}: {message}"
        super().error(message)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """An option the command does not take is said with that command's usage (`evaluate
        RUN --file X` printed cloister's own usage, which lists commands, not options)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            chosen = next((action.choices.get(command) for action in self._actions
                           if isinstance(action, argparse._SubParsersAction) and command), None)
            (chosen or self).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cloister",
        description="Private, offline fine-tuning of text classifiers. The desktop app: "
        "`cloister` without a subcommand where Cloister was installed with pip or `make run`, "
        "`cloister-desktop` (or the menu entry) where it came from an installer.",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug details")
    parser.add_argument("--version", action="version", version=f"cloister {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Plain imports, not importlib: PyInstaller's analysis must see every command module, or
    # the frozen CLI ships without its subcommands. The order is the order in ``--help``.
    from engine.cli import inspect_cmd, model_cmds, privacy_cmds, train_cmds, vault_cmds

    for module in (inspect_cmd, vault_cmds, privacy_cmds, train_cmds, model_cmds):
        module.register(subparsers)
    # `cloister COMMAND --help` opens with what the command does: its one-line help where it
    # has no longer description of its own.
    helps = {action.dest: action.help for action in subparsers._choices_actions}
    for name, command in subparsers.choices.items():
        if not command.description and helps.get(name):
            command.description = str(helps[name])[0].upper() + str(helps[name])[1:] + "."
    return parser


# A stop is held from a change's commit until its audit entry (``privacy.interrupts``): either
# the change was made and logged, or it was undone.
_AFTER_A_STOP = ("; nothing is left half-done: a change already made is complete and in the "
                 "audit log (`cloister audit`), anything unfinished was undone")


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a service or session ending), raised where the command
    is, as Ctrl-C is: the same cleanup runs (partial files removed, a training run saved at a
    checkpoint and marked cancelled) instead of the process vanishing mid-write."""


def _stop_like_ctrl_c_on_sigterm():  # noqa: ANN202 - the previous handler, or None
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None  # only the main thread may set handlers (a caller embedding the CLI)

    def terminate(_signum, _frame):  # noqa: ANN001
        raise Terminated

    return signal.signal(signal.SIGTERM, terminate)


def _said(args: argparse.Namespace, message: str, exit_code: int, *, line: str | None = None) -> int:
    """An error on stderr (``line``, else "cloister: error: MESSAGE"), and with --json on stdout
    too, where a script reads it."""
    print(line or f"cloister: error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        import json

        try:
            print(json.dumps({"error": message, "exit_code": exit_code}), flush=True)
        except OSError:  # the script reading stdout is gone: stderr said it (a traceback did)
            _stdout_to_nowhere()
    return exit_code


def _stdout_to_nowhere() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not raise again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _stopped(args: argparse.Namespace, what: str, exit_code: int) -> int:
    return _said(args, what, exit_code, line=f"cloister: {what}{_AFTER_A_STOP}")


def use_utf8_streams() -> None:
    """UTF-8 on pipes and files whatever the platform's default: on Windows a redirected
    stdout is cp1252, and printing ε, δ or a Greek or Chinese name raised UnicodeEncodeError
    after the work was done; a piped stdin read "José" as "JosÃ©" (an erasure then found
    nothing). A terminal keeps its own encoding; a byte-order mark on stdin is dropped."""
    for stream, encoding in ((sys.stdin, "utf-8-sig"), (sys.stdout, "utf-8"), (sys.stderr, "utf-8")):
        try:
            if stream is None or stream.isatty() or \
                    (stream.encoding or "").lower().replace("-", "").replace("_", "") == "utf8":
                continue
            stream.reconfigure(encoding=encoding)  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):  # replaced by a caller, or closed
            continue


# C0 controls but tab, newline and carriage return (the progress bars' own), DEL, and C1; and
# the bidirectional embeddings, overrides and isolates, which reorder what follows them on the
# line ("Trojan Source"): a label could make a printed line read otherwise than it is.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class _ControlsShown:
    """A terminal stream that shows control characters as escapes ("\\u001b") instead of
    sending them: names and labels come from users' files, and a column named with an escape
    sequence could retitle, clear or rewrite the terminal it was printed on (a Mac Roman
    header read as Latin-1 sent a raw C1 control)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        # \u007f, not \x7f: valid inside a JSON string too (--json on a terminal stays parseable)
        self._stream.write(_CONTROLS.sub(lambda m: f"\\u{ord(m[0]):04x}", text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def show_controls_on_terminals() -> None:
    """Wrap stdout and stderr in ``_ControlsShown`` where they are terminals (pipes and files
    get the text as it is: a script reading --json needs the data unchanged)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            if stream is not None and not isinstance(stream, _ControlsShown) and stream.isatty():
                setattr(sys, name, _ControlsShown(stream))
        except (AttributeError, ValueError):  # replaced by a caller, or closed
            continue


class _AsTheCommandSaysIt(logging.Formatter):
    """Cloister's own warnings as its other lines; a library's with the library's name."""

    def format(self, record: logging.LogRecord) -> str:
        ours = record.name.split(".")[0] in ("engine", "privacy", "desktop")
        return (f"cloister: {record.levelname.lower()}: {'' if ours else record.name + ': '}"
                f"{record.getMessage()}")


def main(argv: Sequence[str] | None = None) -> int:
    disable_core_dumps()  # before any passphrase or plaintext is in memory
    enforce_offline()
    use_utf8_streams()
    show_controls_on_terminals()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:  # building the parser imports a fair amount: a Ctrl-C there is no traceback either
        parser = build_parser()
        args = parser.parse_args(args_list)
    except KeyboardInterrupt:
        print("cloister: interrupted before the command began; nothing was changed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        if stop.code == 2 and "--json" in args_list and _Parser.last_error:
            import json

            try:
                print(json.dumps({"error": _Parser.last_error, "exit_code": 2}), flush=True)
            except OSError:  # the script reading stdout is gone: stderr said it
                _stdout_to_nowhere()
        raise
    # A warning reads as the command's own ("cloister: warning: ..."), like every other line it
    # writes to stderr; --verbose names the module each line comes from.
    if not logging.getLogger().handlers:  # as logging.basicConfig: a host's own set-up stays
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s")
                             if args.verbose else _AsTheCommandSaysIt())
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    previous = _stop_like_ctrl_c_on_sigterm()
    try:
        return int(args.func(args) or EXIT_OK)
    except (CloisterError, PrivacyError) as exc:
        return _said(args, str(exc), exc.exit_code)
    except Terminated:
        return _stopped(args, "stopped (terminated)", 143)
    except KeyboardInterrupt:
        return _stopped(args, "interrupted", 130)
    except OSError as exc:
        from engine.cli.common import pipe_closed

        if pipe_closed(exc):
            # ``cloister datasets | head`` closed the pipe: not an error worth a traceback.
            _stdout_to_nowhere()
            return EXIT_ERROR
        # What a command did not word itself (a read-only folder, a full disk): one line that
        # names the file, not a traceback. Writers leave nothing half-written behind.
        where = f"{exc.filename}: " if exc.filename else ""
        said = str(exc.strerror or exc)
        # A refusal that already says what was kept and what to do gets no generic advice after.
        advice = ("" if isinstance(exc, NoRoomForChange) else "; check that the folder exists, "
                  "that you may write to it and that the disk has free space")
        if exc.errno == errno.EROFS:  # read-only media: free space is not what it lacks
            advice = (": that disk is mounted read-only, and this command writes to it; make it "
                      "writable (or copy the workspace to a disk that is) and run the command again")
        elif not exc.filename and exc.errno == errno.ENOSPC and hasattr(args, "workspace"):
            # A write that names no file (a full disk met mid-stream) is said with the folders
            # it can have been: an administrator was told neither.
            from engine.cli.common import workspace_dir

            advice = (f"; free space on the disk that holds the workspace ({workspace_dir(args)}), "
                      "or the file you asked to write; nothing half written was kept")
        return _said(args, f"{where}{said}{advice}", EXIT_ERROR)
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
