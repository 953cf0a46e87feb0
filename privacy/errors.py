"""Errors the privacy layer reports to users. Qt-free and engine-free."""
from __future__ import annotations


class PrivacyError(Exception):
    """Base for privacy-layer errors with a user-facing message (printed without traceback)."""

    exit_code = 1
