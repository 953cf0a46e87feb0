"""Helpers every CLI command shares: where the workspace is, and how to get the passphrase.

Passphrase sources, first match wins: ``--passphrase-file FILE`` (its first line), the
``CLOISTER_PASSPHRASE`` variable (for scripts and CI), an interactive prompt. A prompt is only
shown on a terminal: a script without a passphrase gets a clear error instead of a hang.
"""
from __future__ import annotations

import argparse
import codecs
import contextlib
import errno
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from privacy.text_files import read_typed_text
from privacy.vault.workspace import Workspace, default_workspace_dir

from engine.errors import InputError

if TYPE_CHECKING:  # pyarrow stays out of `cloister --help`
    from engine.data.importing.table import ImportedTable
    from engine.data.label_columns import LabelColumns

PASSPHRASE_ENV = "CLOISTER_PASSPHRASE"
NEW_PASSPHRASE_ENV = "CLOISTER_NEW_PASSPHRASE"


def add_workspace_options(parser: argparse.ArgumentParser, *, passphrase: bool = True) -> None:
    """Add ``--workspace`` and ``--passphrase-file`` to a subcommand's parser (``passphrase``
    False: a command that decrypts nothing, such as ``backup``, takes no passphrase)."""
    group = parser.add_argument_group("workspace")
    group.add_argument("--workspace", metavar="DIR", type=Path, default=None,
                       help="workspace folder (default: the folder set in the app's Settings, "
                       "else $CLOISTER_WORKSPACE, else the user data folder)")
    if not passphrase:
        return
    group.add_argument("--passphrase-file", metavar="FILE", type=Path, default=None,
                       help=f"read the passphrase from the first line of FILE, or of standard "
                       f"input for - (else ${PASSPHRASE_ENV}, else a prompt)")


_SETTINGS_OVER_VARIABLE_SAID: set[tuple[str, Path]] = set()


def workspace_dir(args: argparse.Namespace) -> Path:
    """--workspace, else the app's Settings, else $CLOISTER_WORKSPACE (the app's order). A
    script that sets the variable where Settings name another folder is told which one it got:
    it went on, silently, in the vault the app had chosen."""
    chosen = default_workspace_dir(getattr(args, "workspace", None))
    variable = os.environ.get("CLOISTER_WORKSPACE")
    if not getattr(args, "workspace", None) and variable and \
            Path(variable).expanduser().resolve() != chosen.resolve() and \
            (variable, chosen) not in _SETTINGS_OVER_VARIABLE_SAID:
        _SETTINGS_OVER_VARIABLE_SAID.add((variable, chosen))  # once a command, not every look
        print(f"cloister: warning: using the workspace chosen in the app's Settings ({chosen}), "
              f"not $CLOISTER_WORKSPACE ({variable}): Settings come first, as in the app; give "
              "--workspace to choose", file=sys.stderr)
    return chosen


# A passphrase file that starts with a UTF-8 byte-order mark: up to 2026-12-07 the mark was
# read as part of the passphrase, so a workspace or sealed export made from such a file then
# holds it so. The passphrase read without it, mapped to the one read with it, for a retry.
_READ_WITH_MARK: dict[str, str] = {}
T = TypeVar("T")


def opened_as_read_before(open_with: Callable[[str], T], passphrase: str, what: str) -> tuple[T, str]:
    """``open_with(passphrase)``; when that passphrase is wrong and came from a file with a
    byte-order mark, ``open_with`` it as such a file was read before 2026-12-07, saying so.
    Returns what it opened, and the passphrase that opened it."""
    from privacy.errors import WrongPassphrase

    try:
        return open_with(passphrase), passphrase
    except WrongPassphrase:
        marked = _READ_WITH_MARK.get(passphrase)
        if marked is None:
            raise
    opened = open_with(marked)
    print(f"cloister: warning: {what} was made from a passphrase file with an invisible "
          "byte-order mark at its start (saved by Notepad or PowerShell), read then as part of "
          "the passphrase; it opened so. Set it again without the mark (`cloister passwd` for a "
          "workspace; a new export for an export) so that typing it works too.", file=sys.stderr)
    return opened, marked


def _from_file(path: Path) -> str:
    if str(path) == "-":  # piped in, as `forget --file -` takes its values: the first line
        line = sys.stdin.readline()
        if not line.strip():
            raise InputError("--passphrase-file -: standard input has no passphrase on its first "
                             "line; pipe the passphrase in, or name a file")
        return line.rstrip("\r\n")
    try:
        text = read_typed_text(path)
    except FileNotFoundError:
        raise InputError(f"passphrase file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"passphrase file {path} is a folder: give the file that holds the "
                         "passphrase on its first line") from None
    except UnicodeDecodeError:  # a binary file, or UTF-16 cut short
        raise InputError(f"passphrase file {path} is not text: save the passphrase in it as "
                         "plain text (UTF-8) on its first line") from None
    except OSError as exc:
        raise InputError(f"cannot read passphrase file {path}: {exc.strerror or exc}") from None
    passphrase = text.splitlines()[0] if text else ""
    if not passphrase.strip():  # "  \n" would otherwise be tried, and read as a wrong passphrase
        raise InputError(f"passphrase file {path} has no passphrase on its first line (it is "
                         f"{'blank' if text else 'empty'}); put the passphrase there")
    _warn_if_others_may_read(Path(path))
    note_old_mark(Path(path), passphrase)
    return passphrase


def note_old_mark(path: Path, passphrase: str) -> None:
    """Remember ``passphrase`` as a file with a UTF-8 byte-order mark was read before."""
    with contextlib.suppress(OSError):
        with Path(path).open("rb") as handle:
            if handle.read(3) == codecs.BOM_UTF8:
                _READ_WITH_MARK[passphrase] = "\ufeff" + passphrase


def _warn_if_others_may_read(path: Path) -> None:
    """A passphrase file that others on the machine may read gives them the workspace: said,
    not refused (the file is the user's, and the command is already under way)."""
    if os.name != "posix":  # Windows keeps access in ACLs, which the mode bits do not show
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        print(f"cloister: warning: passphrase file {path} may be read by other users (mode "
              f"{mode & 0o777:o}); make it yours alone: chmod 600 {path}", file=sys.stderr)


_NO_ANSWER = "no answer: the input ended at the prompt (Ctrl-D); nothing was changed"


def ask(prompt: str) -> str:
    """``input(prompt)``; the end of input (Ctrl-D) is a plain refusal, not a traceback."""
    try:
        return input(prompt)
    except EOFError:
        print(file=sys.stderr)  # the prompt's line ends before the message
        raise InputError(_NO_ANSWER) from None


def ask_secret(prompt: str) -> str:
    """``getpass.getpass(prompt)``, ended as ``ask`` is."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        print(file=sys.stderr)
        raise InputError(_NO_ANSWER) from None


def _prompt(prompt: str, *, confirm: bool, flag: str = "--passphrase-file",
            env_name: str = PASSPHRASE_ENV) -> str:
    if not sys.stdin.isatty():
        what = "new passphrase" if env_name == NEW_PASSPHRASE_ENV else "passphrase"
        raise InputError(f"no {what} given: use {flag} FILE or set {env_name} (no terminal to "
                         "ask on)")
    first = ask_secret(prompt)
    if not first:
        raise InputError("the passphrase must not be empty")
    if confirm and ask_secret("Repeat it: ") != first:
        raise InputError("the two passphrases differ; nothing was changed")
    return first


def _passphrase(file_path: Path | None, env_name: str, prompt: str, *, confirm: bool,
                flag: str = "--passphrase-file") -> str:
    """A passphrase from a file if one is named, else the environment variable, else a prompt."""
    if file_path is not None:
        return _from_file(file_path)
    return os.environ.get(env_name) or _prompt(prompt, confirm=confirm, flag=flag, env_name=env_name)


def require_strong_enough(passphrase: str, what: str = "passphrase") -> None:
    """The rule the desktop's dialogs apply (``privacy.passphrase_strength``): below "Fair" a
    passphrase is refused before anything is created or changed."""
    from privacy.passphrase_strength import PassphraseTooWeak, require_acceptable

    try:
        require_acceptable(passphrase, what)
    except PassphraseTooWeak as exc:
        raise InputError(f"{exc}; nothing was changed") from None


def read_passphrase(args: argparse.Namespace, *, confirm: bool = False,
                    prompt: str = "Workspace passphrase: ") -> str:
    """The passphrase from ``--passphrase-file``, ``$CLOISTER_PASSPHRASE`` or a prompt."""
    return _passphrase(getattr(args, "passphrase_file", None), PASSPHRASE_ENV, prompt,
                       confirm=confirm)


def read_new_passphrase(args: argparse.Namespace) -> str:
    """The new passphrase for ``passwd``: ``--new-passphrase-file``, ``$CLOISTER_NEW_PASSPHRASE``
    or a prompt asked twice."""
    return _passphrase(getattr(args, "new_passphrase_file", None), NEW_PASSPHRASE_ENV,
                       "New passphrase: ", confirm=True, flag="--new-passphrase-file")


def require_workspace(args: argparse.Namespace) -> Path:
    """The workspace folder the options point at; InputError if there is none. Cheap (no
    passphrase): a command that reads a file first checks this before its long output."""
    root = workspace_dir(args)
    if not Workspace.exists(root):
        said = Workspace.not_found_message(root)
        if said.startswith("no Cloister workspace"):
            said += _where_else(args, root)
        raise InputError(said)
    return root


def _where_else(args: argparse.Namespace, root: Path) -> str:
    """How to point at another workspace. When the app's Settings chose this folder, it
    comes before CLOISTER_WORKSPACE, so the variable would not help: the file is named."""
    from privacy.vault.folders import SETTINGS_FILE, settings_dir, workspace_in_settings

    chosen = workspace_in_settings()
    if getattr(args, "workspace", None) is None and chosen and Path(chosen).expanduser() == root:
        return (f" (this folder is the one chosen in the app's Settings, {settings_dir() / SETTINGS_FILE}, "
                "which comes before CLOISTER_WORKSPACE: choose another there, or give --workspace)")
    return " (or point --workspace / CLOISTER_WORKSPACE at an existing one)"


def open_workspace(args: argparse.Namespace, *, passphrase: str | None = None,
                   check_integrity: bool = True) -> Workspace:
    """Unlock the workspace the options point at (asking for the passphrase as needed).

    Raises VaultNotFound (with a hint to run ``cloister init``), WrongPassphrase, VaultDamaged
    or VaultTooNew; the CLI prints them as one line.
    """
    return open_workspace_with(args, passphrase=passphrase, check_integrity=check_integrity)[0]


def open_workspace_with(args: argparse.Namespace, *, passphrase: str | None = None,
                        check_integrity: bool = True) -> tuple[Workspace, str]:
    """``open_workspace``, and the passphrase that opened it (``passwd`` changes that one)."""
    root = require_workspace(args)
    given = passphrase if passphrase is not None else read_passphrase(args)
    # IntegrityError (a cut, deleted or rolled-back log or index) is a PrivacyError: one line.
    return opened_as_read_before(
        lambda secret: Workspace.unlock(root, secret, check_integrity=check_integrity), given,
        "this workspace")


def resolve_run(ws: Workspace, given: str) -> str:
    """The full id of the run ``given`` names (a unique start or end of it will do)."""
    from engine.runs import resolve_run_id  # here, not at the top: `cloister --help` stays fast

    return resolve_run_id(ws, given)


# Windows reports a write to a pipe whose reader has gone (``| Select-Object -First 1``) as
# EINVAL, not EPIPE: read as a disk error, it once ended a run that should have gone on.
_PIPES_SAY_EINVAL = sys.platform == "win32"


def pipe_closed(exc: BaseException) -> bool:
    """Whether ``exc``, raised writing to stdout, means that its reader stopped reading."""
    # A write to a pipe names no file; Windows also says EINVAL for a bad path (``out?.csv``),
    # and that one must still be said.
    return isinstance(exc, BrokenPipeError) or (
        _PIPES_SAY_EINVAL and isinstance(exc, OSError) and exc.errno == errno.EINVAL
        and exc.filename is None)


def positive_int(value: str) -> int:
    """An argparse type for counts: the error names the option ("argument --batch-size: 0 must
    be 1 or more"), where a check deep in the engine could not."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return number


def label_delimiter(value: str) -> str:
    """``--label-delimiter``: a separator, refused when empty (it was ignored without a word) or
    a letter or digit ('a' split "ham" into "h" and "m")."""
    if not value:  # a space is a separator ("python pandas"), nothing is not
        raise argparse.ArgumentTypeError("give the character that separates a row's labels, "
                                         "such as '|' or ';'")
    if any(ch.isalnum() for ch in value):
        raise argparse.ArgumentTypeError(f"{value!r} holds letters or digits, which would split "
                                         "the labels themselves: give a separator such as '|' or ';'")
    return value


LABEL_COLUMNS_HELP = (
    "multi-label data given as one 0/1 column per label (true/false, yes/no, y/n and 1.0/0.0 "
    "read too): name the columns, separated by commas (toxic,obscene,insult), or give 'auto' "
    "for every column that holds only such values besides the text. Each row carries the "
    "labels whose cell is 1 (none: no label applies); an empty cell is a missing label. They "
    "are stored as one label column, several labels a row, as --label-delimiter reads them: "
    "train with --multi-label")


def add_label_columns_argument(parser: argparse.ArgumentParser, help_text: str = LABEL_COLUMNS_HELP) -> None:
    """``--label-columns`` (import, inspect, evaluate): one flag, its help said per command."""
    parser.add_argument("--label-columns", action="append", metavar="C1,C2,...|auto", help=help_text)


def read_label_columns_option(args: argparse.Namespace, imported: ImportedTable,
                              text_columns: Sequence[str] | None
                              ) -> tuple[ImportedTable, LabelColumns | None]:
    """``imported`` with ``--label-columns`` read into one label column, and how
    (``engine.data.label_columns.LabelColumns``); as it was, and None, without the option."""
    if not args.label_columns:
        return imported, None
    from engine.data.label_columns import read_label_columns, refuse_beside, wanted_columns

    for flag, given in (("--label-column", args.label_column), ("--label-delimiter", args.label_delimiter)):
        if given:
            raise refuse_beside(flag)

    names = wanted_columns(args.label_columns, imported, text_columns or ())
    return read_label_columns(imported, names)
