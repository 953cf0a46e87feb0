"""Process hardening the entry points apply at start (Qt-free, engine-free).

Decrypted data lives in the process's memory while the workspace is open, and Python cannot
reliably erase it (see README, "Privacy guarantees, and their limits"). A core dump would copy
that memory to disk in plaintext, outside the vault, so the CLI and the desktop app turn core
dumps off before they unlock anything. Swap and hibernation are outside a process's control.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def disable_core_dumps() -> bool:
    """Set the soft RLIMIT_CORE to 0, which is what stops the kernel writing a core file.

    The hard limit is left alone: lowering it cannot be undone, and the CLI also runs inside
    other processes (the test suite, scripts that import ``engine.cli``).

    Returns whether core dumps are now off; False where the platform has no such limit
    (Windows, whose crash dumps are configured system-wide) or it could not be set.
    """
    try:
        import resource
    except ImportError:  # Windows
        return False
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (OSError, ValueError) as exc:  # a sandbox that forbids it: say so, keep running
        log.warning("could not turn off core dumps: %s", exc)
        return False
    return True
