"""Which legacy (pre-UTF-8) encoding a file is in, judged by how its text reads.

Excel still saves "CSV" in the system's ANSI code page: Windows-1252 in Western Europe, 1250
in Poland or Czechia, 1251 in Russia, 1254 in Turkey, Shift-JIS in Japan, GBK in China. Every
single-byte code page decodes every byte, so decoding alone cannot tell them apart; what
differs is whether the result reads like text. Read in the wrong code page, Polish "Treść" comes
out "Treœæ", "pieniądze" "pieni¹dze", Russian a word of accented Latin letters ("Ïðèâåò"),
Turkish "Şikayet" "Þikayet", and Japanese a mix of symbols and control characters. Those
patterns are counted for each candidate; Windows-1252 is kept unless another reads clearly
better. Nothing here is a language model: it only has to tell a right reading from mojibake.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

# (codec, what to call it): Windows-1252 first, kept on a tie; on other ties the earlier wins.
# Some pairs read each other as plausible letters and cannot be told apart this way: Hungarian
# in 1250 reads as 1252 (only ő and ű differ), Greek (1253) as Cyrillic, Baltic (1257) as
# Central European, Big5 as GBK. Those files need --encoding.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("cp1252", "Windows-1252 (Western European)"),
    ("cp1250", "Windows-1250 (Central European: Polish, Czech, Hungarian, ...)"),
    ("cp1251", "Windows-1251 (Cyrillic)"),
    ("cp1254", "Windows-1254 (Turkish)"),
    ("cp1253", "Windows-1253 (Greek)"),
    ("cp1257", "Windows-1257 (Baltic)"),
    # Double-byte pages overlap: Japanese, Korean and Chinese files each decode as the others.
    # Japanese is taken only with its hiragana (below); Korean before Chinese, since Chinese
    # read as Korean mixes Hangul into its words, while Korean read as Chinese is all Han.
    ("cp932", "Shift-JIS (Japanese)"),
    ("cp949", "Windows-949 (Korean)"),
    ("gbk", "GBK (Simplified Chinese)"),
    ("big5", "Big5 (Traditional Chinese)"),
)
LABELS = dict(CANDIDATES)

# Enough text to judge by, without decoding a large file ten times.
_SAMPLE_BYTES = 256 * 1024
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # runs of letters
# Icelandic letters: in a Western European text they are Turkish (1254) or Baltic letters read
# in the wrong page; Icelandic itself is rare enough to be the exception.
_ICELANDIC = set("ðýþÐÝÞ")


@dataclass(frozen=True)
class LegacyGuess:
    codec: str
    label: str
    garbled_as_1252: int  # how many garbled spots Windows-1252 gave (0: it read cleanly)
    example: str          # a word as Windows-1252 read it, where that was garbled


def _script(ch: str) -> str:
    """A coarse script of a letter: enough to see two scripts mixed inside one word."""
    code = ord(ch)
    if code < 0x250 or 0x1E00 <= code < 0x1F00:
        return "latin"
    if 0x370 <= code < 0x400:
        return "greek"
    if 0x400 <= code < 0x530:
        return "cyrillic"
    if 0x590 <= code < 0x800:
        return "rtl"
    if 0xAC00 <= code < 0xD7B0 or 0x1100 <= code < 0x1200 or 0x3130 <= code < 0x3190:
        return "hangul"
    # Kanji and kana share Japanese words ("返品の"): one family here.
    if (0x3040 <= code < 0x3100 or 0x31F0 <= code < 0x3200 or 0xFF66 <= code < 0xFFA0
            or 0x3400 <= code < 0xA000 or 0xF900 <= code < 0xFB00 or 0x20000 <= code):
        return "cjk"
    return "other"


def garbled_spots(text: str) -> tuple[int, str]:
    """How many places read like mojibake, and one garbled word to show.

    Counted: C1 control characters (bytes no code page defines); a symbol between two Latin
    letters ("pieni¹dze"; "m²" or "N°1" have a letter on one side only); a word of three or more
    letters every one an accented Latin letter ("Ïðèâåò": no European word is all accents); a
    word mixing scripts ("fü" read as GBK, Latin with Cyrillic); an Icelandic letter.
    """
    count, example = 0, ""
    for index, ch in enumerate(text):
        code = ord(ch)
        if 0x80 <= code < 0xA0:
            count += 1
        elif (code >= 0xA0 and not ch.isalpha() and not ch.isspace() and 0 < index < len(text) - 1
              # quotes, apostrophes, dashes and the Catalan middle dot sit between letters
              # ("It’s", "l’équipe", "col·lecció"); a digit is no symbol
              and unicodedata.category(ch) not in ("Nd", "Pi", "Pf", "Pd") and ch != "\u00b7"):
            before, after = text[index - 1], text[index + 1]
            # Between two Latin letters: "。" or "，" between kanji is punctuation.
            if (before.isalpha() and after.isalpha() and _script(before) == "latin"
                    and _script(after) == "latin"):
                count += 1
                example = example or word_at(text, index)
    for match in _WORD.finditer(text):
        word = match.group()
        if len(word) >= 3 and all(not c.isascii() and _script(c) == "latin" for c in word):
            count += 1
        elif any(c in _ICELANDIC for c in word):
            count += 1
        elif not word.isascii() and len({_script(c) for c in word} - {"other"}) > 1:
            count += 1
        else:
            continue
        example = example or word
    return count, example


def word_at(text: str, index: int) -> str:
    """The word (a run without spaces, its quotes and punctuation stripped) around ``index``."""
    start = index
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = index
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end].strip("\"';,.:!?()")


def guess_legacy(data: bytes) -> LegacyGuess:
    """The code page that reads ``data`` (not valid UTF-8) best; Windows-1252 unless another
    reads with under half its garbled spots (and at least three fewer)."""
    sample = data[:_SAMPLE_BYTES]
    # A double-byte character cut at the sample's end is not the encoding's fault.
    results: list[tuple[int, str]] = []
    western, example = None, ""
    for codec, _label in CANDIDATES:
        # Windows-1252 leaves five bytes undefined: each is one spot, not a reason to read every
        # quote and dash of a Western file as a control character (as Latin-1 would).
        decoder = codecs.getincrementaldecoder(codec)("replace" if codec == "cp1252" else "strict")
        try:
            text = decoder.decode(sample, final=len(sample) == len(data))
        except UnicodeDecodeError:
            continue
        text = unicodedata.normalize("NFC", text)
        if codec == "cp932" and not _has_hiragana(text):
            continue  # Chinese or Korean bytes read as Shift-JIS: kanji without any kana
        spots, word = garbled_spots(text)
        spots += text.count("\ufffd")
        if codec == "cp1252":
            western, example = spots, word
        results.append((spots, codec))
    assert western is not None
    best_spots, best = min(results, key=lambda r: r[0])  # min keeps the first of a tie
    if best != "cp1252" and best_spots * 2 < western and western - best_spots >= 3:
        return LegacyGuess(best, LABELS[best], western, example)
    return LegacyGuess("cp1252", LABELS["cp1252"], western, example)


def _has_hiragana(text: str) -> bool:
    """Japanese text: at least 5% of its non-ASCII letters are hiragana (usually a third)."""
    letters = [c for c in text if not c.isascii() and c.isalpha()]
    return bool(letters) and sum(0x3041 <= ord(c) <= 0x309F for c in letters) >= 0.05 * len(letters)


def check_codec(name: str) -> str:
    """A codec name the user typed (``--encoding``), as Python knows it; a clear error if none."""
    from engine.errors import InputError

    try:
        info = codecs.lookup(name)
        if not getattr(info, "_is_text_encoding", True):  # base64, hex, zlib, rot13: no text
            raise LookupError(name)
        return info.name
    except LookupError:
        raise InputError(
            f"--encoding {name!r} is not an encoding Cloister knows; use a name such as utf-8, "
            "cp1252 (Western European Excel), cp1250 (Central European), cp1251 (Cyrillic), "
            "cp1254 (Turkish), shift_jis or cp932 (Japanese), gbk (Chinese)"
        ) from None
