"""Human-readable quantities, shared by the CLI, error messages and the desktop."""
from __future__ import annotations


def human_size(n: float) -> str:
    """Bytes in binary units: ``512 B``, ``29.2 KiB``, ``1.5 GiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """``1 row``, ``2,048 rows``: a count with its noun in the right number."""
    if plural is None:
        plural = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{n:,} {noun if n == 1 else plural}"
