"""Reading a user's file into memory: size limit, OS errors, binary detection and text encoding.

Files are read into memory (or their head only, for readers that stream the rest); nothing is
copied to disk. Memory is bounded by a size limit checked *before* reading (default 1 GiB,
``CLOISTER_MAX_IMPORT_BYTES`` or the ``max_bytes`` option to change it): a bigger file gets a
clear message instead of a slow swap.
"""
from __future__ import annotations

import codecs
import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.units import human_size
from engine.data.problems import Problem, Severity

DEFAULT_MAX_BYTES = 1024**3
MAX_BYTES_ENV = "CLOISTER_MAX_IMPORT_BYTES"

_BINARY_SNIFF_BYTES = 8192
_DECODE_CHUNK = 16 * 1024**2

# Magic numbers of formats people rename by mistake; the hint names the suffix to use instead.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)", ".xlsx"),
    (b"PAR1", "a Parquet file", ".parquet"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls / Office 97 file", None),
    (b"%PDF", "a PDF document", None),
    (b"\x1f\x8b", "a gzip-compressed file", None),
    (b"SQLite format 3", "an SQLite database", None),
)


def max_bytes_default() -> int:
    """The size limit in force: ``CLOISTER_MAX_IMPORT_BYTES`` if set, else 1 GiB."""
    raw = os.environ.get(MAX_BYTES_ENV)
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise InputError(
            f"{MAX_BYTES_ENV}={raw!r} is not a whole number of bytes; "
            "set it to e.g. 2147483648 for 2 GiB, or unset it for the 1 GiB default."
        ) from None
    if value <= 0:
        raise InputError(f"{MAX_BYTES_ENV} must be a positive number of bytes, not {value}.")
    return value


def check_size(path: Path, size: int, max_bytes: int, *, expansion: int = 1) -> None:
    """Refuse a file over the limit before reading it.

    ``expansion`` is how many times its size a format takes in memory once parsed (JSON becomes
    Python objects); the limit is divided by it so every format has the same memory bound.
    """
    limit = max_bytes // expansion
    if size > limit:
        why = (f" (parsed {path.suffix or 'this format'} takes about {expansion}x its size in "
               "memory; CSV and Parquet are read up to the full limit)" if expansion > 1 else "")
        raise InputError(
            f"{path} is {human_size(size)}; Cloister reads datasets into memory and accepts up to "
            f"{human_size(limit)}{why}. Split the file into smaller parts, drop unused columns, "
            f"or raise the limit with the {MAX_BYTES_ENV} environment variable if this machine "
            "has the memory."
        )


def os_error(path: Path, exc: OSError) -> InputError:
    """Turn an OS error into a message that names the file and says what to do."""
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path} does not exist. Check the path and the file name.")
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return InputError(
            f"{path} cannot be read: permission denied. Ask the file's owner for read access "
            "or copy it somewhere you can read."
        )
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path} is a folder, not a file.")
    reason = exc.strerror or exc.__class__.__name__
    return InputError(f"{path} cannot be read: {reason}. Check the file and try again.")


def read_bytes(path: Path, *, max_bytes: int, expansion: int = 1) -> bytes:
    """The whole file, after checking it exists, is a regular file and is within the limit."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            check_size(path, info.st_size, max_bytes, expansion=expansion)
            # +1 so a file that grew past the limit after fstat is still caught.
            data = handle.read(max_bytes // expansion + 1)
    except OSError as exc:
        raise os_error(path, exc) from exc
    check_size(path, len(data), max_bytes, expansion=expansion)
    if not data.strip():
        raise InputError(
            f"{path} is empty{' (only blank space)' if data else ''}. "
            "Export the data again and check that the file has rows."
        )
    return data


def read_head(path: Path, *, max_bytes: int, head_bytes: int) -> tuple[bytes, int]:
    """The first ``head_bytes`` of a file and its size, with the same checks as ``read_bytes``.

    For readers that let their parser stream the rest of the file: the whole file is never held
    as bytes beside the table parsed from it.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            check_size(path, size, max_bytes)
            head = handle.read(head_bytes)
    except OSError as exc:
        raise os_error(path, exc) from exc
    if not head.strip() and size <= len(head):
        raise InputError(
            f"{path} is empty{' (only blank space)' if head else ''}. "
            "Export the data again and check that the file has rows."
        )
    return head, size


def reject_misnamed(path: Path, data: bytes, *, expected: str) -> None:
    """Refuse a known binary format under a text suffix, saying what the file really is."""
    if data.startswith(b"PK\x03\x04") and not zip_holds_a_workbook(path):
        raise InputError(f"{path} is not {expected}: {zip_said(path)}")
    for magic, what, suffix in _MAGIC:
        if data.startswith(magic):
            fix = f"rename it to {suffix}" if suffix else "export the data as CSV, Excel .xlsx or JSON"
            raise InputError(f"{path} is not {expected}: it looks like {what}. Please {fix}.")


def _zip_names(path: Path) -> list[str] | None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def zip_holds_a_workbook(path: Path) -> bool:
    """Whether a ZIP is an Excel workbook (renaming it .xlsx would read it): "rename it to
    .xlsx" was said of any ZIP, and the renamed archive was then called a damaged workbook."""
    names = _zip_names(path)
    return names is None or ("[Content_Types].xml" in names
                             and any(n.startswith("xl/") for n in names))


def zip_said(path: Path) -> str:
    """What a ZIP that is no Excel workbook is, and what to do with it: another office
    document (saved from it as CSV or .xlsx), or an archive (unzipped)."""
    names = [n for n in _zip_names(path) or [] if not n.endswith("/")]
    office = ("a Word document" if any(n.startswith("word/") for n in names) else
              "a PowerPoint file" if any(n.startswith("ppt/") for n in names) else
              "an OpenDocument file (LibreOffice, OpenOffice)" if "mimetype" in names else None)
    if office:
        return (f"it is {office}. Open it where it was made and save the data as CSV or an "
                "Excel .xlsx workbook, then import that.")
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3:,} more" if len(names) > 3 else "")
    return (f"it is a ZIP archive{f' (holding {shown})' if shown else ''}, not a workbook. Unzip "
            "it and import the file inside.")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    problems: tuple[Problem, ...] = ()


def looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: NULs in every other byte (ASCII text), which binary files lack."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    # Text in other scripts (Chinese, Cyrillic) has few NULs; what tells it from binary data is
    # that it decodes to lines of printable text, with the field separators and line breaks
    # ASCII text has (a Japanese export was refused as "binary data").
    for name in ("utf-16-le", "utf-16-be"):
        text = codecs.getincrementaldecoder(name)("replace").decode(sample[: len(sample) // 2 * 2])
        if "\ufffd" in text or "\n" not in text:
            continue
        odd_chars = sum(not (ch.isprintable() or ch in "\t\r\n") for ch in text)
        if odd_chars <= 0.01 * len(text) and any(ch in text for ch in ",;\t|"):
            return name
    return None


def _is_utf8(data: bytes) -> bool:
    return _decodes(data, "utf-8")


@dataclass(frozen=True)
class Encoding:
    """How to turn the bytes into text: a codec, a BOM length to skip, and read-time warnings."""

    name: str
    bom: int = 0
    replace_errors: bool = False
    problems: tuple[Problem, ...] = ()

    @property
    def is_utf8(self) -> bool:
        return self.name in ("utf-8", "utf-8-sig")


def detect_encoding(path: Path, data: bytes, *, what: str, verify_utf8: bool = True) -> Encoding:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, UTF-16 without BOM, else Windows-1252.

    A file that is mostly valid UTF-8 with a few broken bytes stays UTF-8 with the broken bytes
    replaced by U+FFFD (validation then names those rows); a file whose non-ASCII bytes are
    mostly not UTF-8 is a legacy 8-bit export, read as Windows-1252 (Latin-1 where that fails).
    With ``verify_utf8=False`` a BOM-less text file is assumed UTF-8 without decoding it all:
    for callers whose parser validates UTF-8 anyway and come back to ``non_utf8_encoding``.
    """
    if data.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", bom=3)
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return Encoding(name, bom=len(bom))
    sample = data[:_BINARY_SNIFF_BYTES]
    if b"\x00" in sample:
        utf16 = looks_utf16(sample)
        if utf16:
            return Encoding(utf16)
        reject_misnamed(path, data, expected=what)
        raise InputError(
            f"{path} is not {what}: it contains binary data (NUL bytes near the start). "
            "Export the data as CSV, Excel .xlsx or JSON and use that file."
        )
    reject_misnamed(path, data, expected=what)
    if not verify_utf8 or _is_utf8(data):
        return Encoding("utf-8")
    return non_utf8_encoding(path, data)


def _utf8_census(data: bytes, start: int) -> tuple[int, int]:
    """(valid non-ASCII characters, undecodable sequences) when ``data`` is read as UTF-8.

    Decoded in chunks so a big file never has a full-size copy (or a list per character).
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    view = memoryview(data)
    valid = stray = 0
    for begin in range(start, len(data), _DECODE_CHUNK):
        end = begin + _DECODE_CHUNK
        text = decoder.decode(view[begin:end], final=end >= len(data))
        bad = text.count("\N{REPLACEMENT CHARACTER}")
        stray += bad
        valid += len(text) - len(text.encode("ascii", "ignore")) - bad
    return valid, stray


def non_utf8_encoding(path: Path, data: bytes) -> Encoding:
    """For a file known not to be valid UTF-8: damaged UTF-8, or a legacy 8-bit encoding."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    valid, stray = _utf8_census(data, bom)
    # Mostly valid UTF-8 characters (or a UTF-8 BOM): a UTF-8 file with a few damaged bytes,
    # not a legacy encoding; re-reading it as Windows-1252 would garble all its good characters.
    if bom or valid >= stray:
        problem = Problem(
            severity=Severity.WARNING,
            code="undecodable-bytes",
            message="the file is UTF-8 but has bytes that are not valid UTF-8; they were "
            "replaced by \N{REPLACEMENT CHARACTER}",
            hint="Check the rows listed as containing undecodable characters, or re-export the "
            "file as UTF-8.",
            file=str(path),
        )
        return Encoding("utf-8-sig" if bom else "utf-8", bom=bom, replace_errors=True,
                        problems=(problem,))
    from engine.data.importing.legacy_encodings import guess_legacy

    # Excel saves "CSV" in the system's code page: the one the text reads best in, of the
    # common ones (Polish read as Windows-1252 was "Treœæ", and an erasure request for
    # "Łukasz" then found nothing).
    guess = guess_legacy(data)
    replace = False
    if guess.codec != "cp1252":
        name, label = guess.codec, guess.label
        message = (f"the file is not UTF-8; it was read as {label}, the legacy encoding its "
                   "text reads best in" + (f" (as Windows-1252 it read {guess.example!r})"
                                           if guess.example else ""))
        # Chosen on the start of the file: a byte further on that it cannot read is shown as
        # � (validation names the rows), not a refusal of the whole file.
        if not _decodes(data, name):
            replace = True
            message += ("; a few bytes further in do not fit it and show as "
                        "�")
    else:
        # Windows-1252 leaves five bytes undefined; a file using them is plain Latin-1, unless
        # it also holds the characters 1252 puts there (curly quotes, dashes, €), which Latin-1
        # would read as control characters: then the stray bytes show as \N{REPLACEMENT CHARACTER}.
        if re.search(rb"[\x81\x8d\x8f\x90\x9d]", data) is None:
            name, label = "cp1252", "Windows-1252 (Latin-1)"
        elif re.search(rb"[\x80\x82-\x8c\x8e\x91-\x9c\x9e\x9f]", data) is not None:
            name, label, replace = "cp1252", "Windows-1252 (Latin-1), a few bytes it leaves undefined shown as \N{REPLACEMENT CHARACTER}", True
        else:
            name, label = "latin-1", "Latin-1"
        message = f"the file is not UTF-8; it was read as {label}"
        if guess.garbled_as_1252 >= 3 and guess.example:
            message += f", and some of its text reads garbled ({guess.example!r})"
    problem = Problem(
        severity=Severity.WARNING,
        code="legacy-encoding",
        message=message,
        hint="If letters look wrong, import it again with --encoding and the encoding it was "
        "saved in (cp1250 Central European, cp1251 Cyrillic, cp1253 Greek, cp1254 Turkish, "
        "cp1257 Baltic, cp932 Japanese, gbk or big5 Chinese, cp949 Korean), or re-export the "
        "file as UTF-8 (in Excel: Save As > CSV UTF-8).",
        file=str(path),
    )
    return Encoding(name, replace_errors=replace, problems=(problem,))


def _decodes(data: bytes, codec: str) -> bool:
    """Whether all of ``data`` decodes in ``codec``: in chunks, so a 1 GiB file never costs a
    second full-size string just to check it."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(data), _DECODE_CHUNK):
            decoder.decode(view[start:start + _DECODE_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def named_encoding(head: bytes, codec: str, path: Path | None = None) -> Encoding:
    """The encoding the user named (``--encoding``), skipping its byte-order mark if the file
    has one (a UTF-8 file from Excel starts with one whether or not ``utf-8-sig`` is named).
    A UTF-16 or UTF-32 encoding named for a file with no NUL byte is refused: every such file
    has them (its line breaks and delimiters are two or four bytes, one of them zero), and read
    so, a UTF-8 file became one line of CJK characters, "a file with one column"."""
    name = codecs.lookup(codec).name
    if name.startswith(("utf-16", "utf-32")) and head and b"\x00" not in head:
        raise InputError(f"{path or 'the file'} is not {name} (--encoding {codec}): it has none of "
                         "the zero bytes every such file has. Leave --encoding out to have the "
                         "encoding detected, or name the one it was saved in")
    if name in ("utf-8", "utf-8-sig"):
        return Encoding("utf-8-sig", bom=3) if head.startswith(codecs.BOM_UTF8) else Encoding("utf-8")
    for bom, names in ((codecs.BOM_UTF16_LE, ("utf-16", "utf-16-le")),
                       (codecs.BOM_UTF16_BE, ("utf-16", "utf-16-be"))):
        if name in names and head.startswith(bom):
            return Encoding("utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be", bom=2)
    return Encoding(name)


def decode_body(path: Path, data: bytes, encoding: Encoding) -> str:
    """The file's text in the detected encoding (BOM skipped); a cut-off file is an InputError."""
    errors = "replace" if encoding.replace_errors else "strict"
    try:
        return codecs.decode(memoryview(data)[encoding.bom :], encoding.name.replace("-sig", ""), errors)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} starts like {encoding.name} text but byte {exc.start + encoding.bom:,} cannot "
            f"be decoded as {encoding.name}; the file may be truncated or damaged, or in another "
            "encoding. Name the one it was saved in with --encoding, or re-export it as UTF-8."
        ) from None


def decode(path: Path, data: bytes, *, what: str) -> DecodedText:
    """The whole file as text, with the encoding used and any warnings."""
    encoding = detect_encoding(path, data, what=what)
    return DecodedText(text=decode_body(path, data, encoding), encoding=encoding.name,
                       problems=encoding.problems)
