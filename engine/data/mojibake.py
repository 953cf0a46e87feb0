"""Text encoded twice: UTF-8 read as Windows-1252 and saved as UTF-8 again ("mojibake").

A file that went through one tool that read UTF-8 as Windows-1252 (an old Excel, a database
client, a mail merge) and was saved again holds "RÃ©clamation" for "Réclamation", "Ã¼ber" for
"über", "â€™" for "’". It is valid UTF-8, so nothing at import noticed: each garbled letter
became two or three word pieces, and "RÃ©clamation" a class of its own beside "Réclamation".

``has_mojibake`` finds such texts column-wise (RE2 through Arrow); ``repair`` undoes the double
encoding where it can (a run that does not decode back is left as it is); ``repair_columns``
repairs a table's text and label columns, as the ``--repair-encoding`` fix does at import.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What validation says of such a text or label ("mojibake-in-text", "mojibake-in-label").
TWICE = "was encoded twice ('RÃ©clamation' for 'Réclamation': UTF-8 read as Windows-1252)"
TWICE_HINT = ("Repair it: each garbled letter costs the model word pieces, and a label so spelled "
              "is a class of its own")

# The characters Windows-1252 gives the bytes 0x80-0xBF (a UTF-8 continuation byte), and the
# C1 controls Latin-1 gives the five bytes Windows-1252 leaves undefined.
_CP1252_HIGH = ("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ" + "".join(map(chr, range(0xA0, 0xC0)))
                + "\x81\x8d\x8f\x90\x9d")
_CONTINUATION = "[" + "".join(sorted(set(_CP1252_HIGH))) + "]"
# A UTF-8 lead byte read as Windows-1252 (Â-ß: two bytes, à-ï: three, ð-ô: four), then its
# continuation bytes read so too.
_RUN = (f"(?:[\u00c2-\u00df]{_CONTINUATION}|[\u00e0-\u00ef]{_CONTINUATION}{{2}}"
        f"|[\u00f0-\u00f4]{_CONTINUATION}{{3}})+")
_RUN_RE = re.compile(_RUN)
_BYTE_OF = {ch: bytes([b]) for b in range(0x80, 0x100)
            for ch in [bytes([b]).decode("cp1252", errors="ignore") or chr(b)]}


def has_mojibake(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, whether the text holds a run that reads as UTF-8 read as Windows-1252."""
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        return np.zeros(len(texts), dtype=bool)
    hit = pc.fill_null(pc.match_substring_regex(texts, _RUN), False)
    found = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    # Confirmed in Python on the few rows the pattern hit: a run must decode back.
    if found.any():
        values = texts.to_pylist() if len(texts) < 50_000 else None
        for i in np.flatnonzero(found):
            value = values[i] if values is not None else texts[int(i)].as_py()
            found[i] = repair(value) != value
    return found


def _plausible(ch: str) -> bool:
    """A character a double-encoded text held before: a European letter, punctuation such as
    ’ “ – …, a currency or ™; not what ordinary text decodes to by chance (French "désolé »"
    with its no-break space reads as the bytes of 頻, German "Spaß“" as an N'Ko letter)."""
    code = ord(ch)
    return (0xA0 <= code <= 0x24F or 0x370 <= code <= 0x4FF or 0x2000 <= code <= 0x214F)


def _undo(run: str) -> str:
    try:
        decoded = b"".join(_BYTE_OF.get(ch) or ch.encode("latin-1") for ch in run).decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return run
    return decoded if all(map(_plausible, decoded)) else run


def repair(text: str) -> str:
    """``text`` with each double-encoded run decoded back ("RÃ©clamation" -> "Réclamation");
    twice over for a text encoded three times. Runs that do not decode are left as written."""
    for _ in range(2):
        repaired = _RUN_RE.sub(lambda m: _undo(m.group()), text)
        if repaired == text:
            break
        text = repaired
    return text


def repair_columns(table: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, int]:
    """``table`` with ``columns`` (string ones) repaired, and how many rows changed."""
    from engine.data.markup import rewrite_columns

    return rewrite_columns(table, columns, has_mojibake, repair)
