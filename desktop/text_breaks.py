"""Places to wrap in text that has none: a code, a compound word, a hash or a path in a label
or a detail. Qt wraps only between words, so such a run widened whatever held it, or was cut
with an ellipsis even where the column wraps."""
from __future__ import annotations

import re
import unicodedata

_UNBROKEN = re.compile(r"\S{25,}")
ZERO_WIDTH_SPACE = "\u200b"


def wrappable(text: str, every: int = 16) -> str:
    """``text`` with a zero-width space every ``every`` characters of a run of 25 or more
    without a space; never before a combining accent, which belongs to the letter before it.
    Shown text only: a copy or a tooltip keeps the text as it is."""
    def breakable(match: re.Match[str]) -> str:
        out, since = [], 0
        for ch in match.group(0):
            if since >= every and not unicodedata.combining(ch):
                out.append(ZERO_WIDTH_SPACE)
                since = 0
            out.append(ch)
            since += 1
        return "".join(out)

    return _UNBROKEN.sub(breakable, text)
