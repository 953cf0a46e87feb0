"""Scan folders for canary strings: the check behind "no plaintext user data at rest".

Reusable by every stage's test: put unique canaries into the data (texts, label names, dataset
and run names), drive the stage, then ``assert_no_canaries(paths, canaries)`` over the
workspace, the temp folder and the caches (the ``isolated_dirs`` fixture points them all at
the test's tmp_path).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path


def canary_forms(canary: str) -> set[bytes]:
    """The byte forms a leaked string would most plausibly take on disk."""
    return {canary.encode("utf-8"), canary.encode("utf-16-le"), canary.encode("utf-16-be")}


def find_canaries(paths: Iterable[Path], canaries: Iterable[str]) -> list[tuple[Path, str]]:
    """Every (file, canary) pair where a file under ``paths`` contains a canary, in its bytes or
    in its path (names leak too)."""
    forms = {c: canary_forms(c) for c in canaries}
    hits: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for root in paths:
        root = Path(root)
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            if path in seen:
                continue
            seen.add(path)
            for canary in forms:
                if canary.lower() in str(path).lower():
                    hits.append((path, canary))
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            hits.extend((path, c) for c, fs in forms.items() if any(f in data for f in fs))
    return hits


def assert_no_canaries(paths: Iterable[Path] | Mapping[str, Path], canaries: Iterable[str]) -> int:
    """Fail if any canary appears under ``paths``; return how many files were scanned.

    Returning the count lets a test also assert that the scan saw something (an empty scan
    proves nothing).
    """
    roots = list(paths.values()) if isinstance(paths, Mapping) else list(paths)
    canaries = list(canaries)
    hits = find_canaries(roots, canaries)
    assert not hits, "plaintext found at rest:\n" + "\n".join(f"  {c!r} in {p}" for p, c in hits)
    return sum(1 for root in roots for p in Path(root).rglob("*") if p.is_file())
