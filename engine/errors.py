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
