"""Small text files a user writes by hand (a passphrase file, an anonymization policy, a text to
re-identify): UTF-8, or UTF-8/16/32 opened by a byte-order mark, as Windows tools write them
(Notepad's "UTF-8 with BOM"; Windows PowerShell 5.1's ``>`` writes UTF-16). The mark is never
part of the text: read as UTF-8, it became the first character of a passphrase, and a workspace
created from that file would not open with the passphrase typed."""
from __future__ import annotations

import codecs
from pathlib import Path

# UTF-32 LE before UTF-16 LE: its mark starts with the other's.
_MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
          (codecs.BOM_UTF16_BE, "utf-16"))


def read_typed_text(path: Path | str) -> str:
    """The file's text, its byte-order mark dropped; without a mark it must be UTF-8. Raises
    OSError and UnicodeDecodeError as ``Path.read_text`` does."""
    data = Path(path).read_bytes()
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            return data.decode(encoding)
    return data.decode("utf-8")
