"""Text encoded twice: UTF-8 read in a legacy code page and saved as UTF-8 again ("mojibake").

A file that went through one tool that read UTF-8 as Windows-1252 (an old Excel, a database
client, a mail merge) and was saved again holds "RÃ©clamation" for "Réclamation", "Ã¼ber" for
"über", "â€™" for "’" (a Polish tool, reading it as Windows-1250, writes "Ĺ‚" for "ł";
a Russian one, Windows-1251, "Рџ" for "П"). It is valid UTF-8, so nothing at import noticed: each garbled letter
became two or three word pieces, and "RÃ©clamation" a class of its own beside "Réclamation".

``has_mojibake`` finds such texts column-wise (RE2 through Arrow); ``repair`` undoes the double
encoding where it can (a run that does not decode back is left as it is); ``repair_columns``
repairs a table's text and label columns, as the ``--repair-encoding`` fix does at import.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What validation says of such a text or label ("mojibake-in-text", "mojibake-in-label").
TWICE_HINT = ("Repair it: each garbled letter costs the model word pieces, and a label so spelled "
              "is a class of its own")

# The code pages a tool most often read UTF-8 in: Western European, Central European (a Polish
# Excel: "Ĺ‚" for "ł"), Cyrillic ("Рџ" for "П").
# (page, its name, how it garbles a letter).
_PAGES = (("cp1252", "Windows-1252", "'Ã©' for 'é'"), ("cp1250", "Windows-1250", "'Ĺ‚' for 'ł'"),
          ("cp1251", "Windows-1251", "'Рџ' for 'П'"))


def _as_read(page: str, first: int, last: int) -> str:
    """The characters ``page`` gives the bytes first..last (undefined ones read as Latin-1)."""
    return "".join(bytes([b]).decode(page, errors="ignore") or chr(b) for b in range(first, last + 1))


def _page_run(page: str) -> str:
    """A run of UTF-8 sequences read in ``page``: a lead byte (two, three or four bytes long)
    and its continuation bytes, each as the page shows it."""
    tail = "[" + re.escape(_as_read(page, 0x80, 0xBF)) + "]"
    lead2, lead3, lead4 = (re.escape(_as_read(page, a, b)) for a, b in
                           ((0xC2, 0xDF), (0xE0, 0xEF), (0xF0, 0xF4)))
    return f"(?:[{lead2}]{tail}|[{lead3}]{tail}{{2}}|[{lead4}]{tail}{{3}})+"


_RUNS = [(page, label, shown, re.compile(_page_run(page))) for page, label, shown in _PAGES]
_ANY_RUN = "|".join(_page_run(page) for page, _, _ in _PAGES)  # for Arrow's RE2, all at once
_BYTES = {page: {_as_read(page, b, b): bytes([b]) for b in range(0x80, 0x100)} for page, _, _ in _PAGES}


def has_mojibake(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, whether the text holds a run that reads as UTF-8 read as Windows-1252."""
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        return np.zeros(len(texts), dtype=bool)
    hit = pc.fill_null(pc.match_substring_regex(texts, _ANY_RUN), False)
    found = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    # Confirmed in Python on the few rows the pattern hit: a run must decode back.
    if found.any():
        values = texts.to_pylist() if len(texts) < 50_000 else None
        for i in np.flatnonzero(found):
            value = values[i] if values is not None else texts[int(i)].as_py()
            found[i] = repair(value) != value
    return found


def _plausible(decoded: str) -> bool:
    """What a double-encoded text held before: European letters, punctuation such as ’ “ – …,
    currencies and ™, or Chinese, Japanese or Korean (two characters or more); not what
    ordinary text decodes to by chance (French "désolé »" with its no-break space reads as the
    bytes of one 頻, German "Spaß“" as an N'Ko letter)."""
    def european(ch: str) -> bool:
        code = ord(ch)
        return 0xA0 <= code <= 0x24F or 0x370 <= code <= 0x4FF or 0x2000 <= code <= 0x214F

    def cjk(ch: str) -> bool:
        code = ord(ch)
        return 0x3000 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xFF00 <= code <= 0xFFEF

    return all(map(european, decoded)) or (len(decoded) >= 2 and all(map(cjk, decoded)))


def _undo(run: str, page: str) -> str:
    try:
        decoded = b"".join(_BYTES[page].get(ch) or ch.encode("latin-1") for ch in run).decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return run
    return decoded if _plausible(decoded) else run


def _undo_match(m: re.Match[str], page: str) -> str:
    return _undo(m.group(), page)


def repair(text: str) -> str:
    """``text`` with each double-encoded run decoded back ("RÃ©clamation" -> "Réclamation",
    "GdaĹ„sk" -> "Gdańsk"); twice over for a text encoded three times. Runs that do not decode
    are left as written."""
    for _ in range(2):
        repaired = text
        for page, _label, _shown, run in _RUNS:
            repaired = run.sub(functools.partial(_undo_match, page=page), repaired)
        if repaired == text:
            break
        text = repaired
    return text


def twice(text: str, *, quote: bool = False) -> str:
    """How validation says it, for the code page the text was read in: "was encoded twice
    ('Ĺ‚' for 'ł': UTF-8 read as Windows-1250)"; with ``quote`` (a label, which reports may
    name; never a row's text, which they do not quote), its own first garbled word."""
    from engine.data.importing.legacy_encodings import word_at

    for page, label, shown, run in _RUNS:
        for m in run.finditer(text):
            if _undo(m.group(), page) == m.group():
                continue
            if not quote:
                return f"was encoded twice ({shown}: UTF-8 read as {label})"
            word = word_at(text, m.start())
            return f"was encoded twice ('{word}' for '{repair(word)}': UTF-8 read as {label})"
    return "was encoded twice (UTF-8 read as a legacy code page)"


def repair_columns(table: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, int]:
    """``table`` with ``columns`` (string ones) repaired, and how many rows changed."""
    from engine.data.markup import rewrite_columns

    return rewrite_columns(table, columns, has_mojibake, repair)
