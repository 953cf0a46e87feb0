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
    if plural is None:  # "epoch" is the -ch word said with a k: epochs, not epoches
        hissing = noun.endswith(("s", "x", "ch", "sh")) and not noun.endswith("epoch")
        plural = noun + ("es" if hissing else "s")
    return f"{n:,} {noun if n == 1 else plural}"


def rate_text(value: float) -> str:
    """``1e-4``, ``5e-5``, ``2e-3``: a small rate as the Train page's choices spell it, the same
    in the CLI, the automatic settings and the Runs page (not ``0.0001`` beside ``5e-05``).
    Values of 0.1 and above, or with more than one significant digit, read as ``:g``."""
    short = f"{value:.0e}".replace("e-0", "e-")
    if 0 < abs(value) < 0.1 and float(short) == value:
        return short
    return f"{value:g}"


def clipped(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis that says it was cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def label_cell(label: str, width: int | None = None) -> str:
    """A label as one cell of a terminal table: a line break in it shown as ``\\n`` (a label
    'g\\nh' broke every table it was in), and past ``width`` characters cut in the middle,
    where labels that share a long start ('Billing / refunds / ... / domestic', '... / abroad')
    keep the ends that tell them apart."""
    text = label.translate(_BREAKS)
    if width is None or len(text) <= width:
        return text
    head = width // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def shown_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese, Japanese and Korean characters (and most
    emoji) take two, combining marks none; ``len`` counted one each, and a table with "投诉"
    or "苦情" labels lost its alignment."""
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF"
               else 1 for ch in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (``shown_width``), on the left
    with ``right`` (numbers)."""
    fill = " " * max(0, width - shown_width(text))
    return fill + text if right else text + fill


def reads_as_number(text: str) -> bool:
    """Whether a typed value ("5e-5", "0.0001", "1e-6") reads as a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True
