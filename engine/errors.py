"""Errors the engine reports to users: each message says what went wrong and what to do."""
from __future__ import annotations


class CloisterError(Exception):
    """Base for errors with a user-facing message. The CLI prints ``str(exc)`` without traceback."""

    exit_code = 1


class Stopped(CloisterError):
    """The work was cancelled (a cancel token was set) before it finished; nothing was kept."""


class InputError(CloisterError):
    """The user's file, folder or setting cannot be used as given."""

    exit_code = 2


def refuse_odd_output(path: object, *, flag: str = "the output") -> None:
    """Refuse an output path that an atomic replace would mishandle: a link (the rename
    replaces the link itself, not the file it points to) or something other than a regular
    file (a device such as /dev/stdout, which a root user's write replaced with a file)."""
    from pathlib import Path

    target = Path(str(path))
    if target.is_symlink():
        raise InputError(f"{flag} {target} is a link: give the path of the file itself "
                         f"({target.resolve()}) so that it is the one written (nothing was written)")
    if target.exists() and not target.is_file() and not target.is_dir():
        raise InputError(f"{flag} {target} is not a regular file (a device or a pipe): give a "
                         "file path (nothing was written)")

