"""What an erasure read besides the tables, checked unchanged before it writes.

The dataset-write lock makes writers take turns, and each dataset's table is compared with the
one searched; but an erasure also writes back a reversible mapping without the person's pairs
and test reports without their quotes, both as read when it searched. Two erasures planned
before either ran (a prompt or a dialog keeps one open for as long as its user reads), or a
fix stored meanwhile, would put back what the other took out. So the plan keeps a digest of
each such entry as it read it (``side_digests``), and the erasure is refused, before anything
changes, if one differs when it holds the lock (``check_side_digests``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.vault import Vault


def _digest(ws: Vault, key: str) -> str:
    return hashlib.sha256(ws.read_bytes(key)).hexdigest() if ws.has(key) else ""


def side_digests(ws: Vault, datasets: Iterable[str], run_ids: Iterable[str]) -> dict[str, str]:
    """Vault key -> sha256 of the mappings of ``datasets`` and the test reports of ``run_ids``
    ("" for one not stored)."""
    from engine.data.store import pseudonym_map_key
    from engine.evaluation.report import report_key

    keys = [pseudonym_map_key(n) for n in datasets] + [report_key(r) for r in run_ids]
    return {key: _digest(ws, key) for key in keys}


def check_side_digests(ws: Vault, digests: Mapping[str, str]) -> None:
    """``InputError`` if a mapping or report was stored again since the search."""
    for key, digest in digests.items():
        if _digest(ws, key) != digest:
            what = "a pseudonym mapping" if "pseudonym" in key else "a run's test report"
            raise InputError(f"{what} changed since the search (another window or command "
                             "stored it): nothing was changed; search again")
