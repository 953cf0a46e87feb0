"""Pattern detectors whose values have a fixed shape: EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN,
IP_ADDRESS, URL and DOMAIN. Where a checksum exists it is checked: a 16-digit number that fails
Luhn is not a card, and a GB... string that fails mod-97 is not an IBAN."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from privacy.pii.checksums import iban_ok, luhn_ok, ssn_ok
from privacy.pii.findings import Finding
from privacy.pii.registry import Detector, register

# Words that, within ~30 characters before a number, make it much more likely a phone number.
_PHONE_CONTEXT = re.compile(r"(?i)\b(phone|tel|telephone|mobile|cell|call|fax|number|reach|"
                            r"contact|text|whatsapp|dial|ring|hotline|no\.?|"
                            # German, French, Spanish, Italian, Dutch
                            r"telefon|handy|rufnummer|mobilnummer|anrufen|téléphone|tél|portable|"
                            r"appeler|teléfono|móvil|celular|llamar|telefono|cellulare|chiamare|"
                            r"telefoon|mobiel|bellen)\b")
# Chinese and Japanese run words on without spaces: no word boundary to ask for.
_CJK_PHONE_CONTEXT = re.compile(r"手机|手機|电话|電話|联系|聯繫|致电|携帯|連絡")
_AMOUNT = re.compile(r"^\d+(?:[.,]\d{3})*[.,]\d{1,2}$")  # 1500.00, 12,345.67
_DATE_LIKE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4}|\d{1,2}\.\d{1,2}\.\d{2,4})$")


def context_before(text: str, start: int, pattern: re.Pattern[str], width: int = 30) -> bool:
    return bool(pattern.search(text, max(0, start - width), start))


@register
class EmailDetector(Detector):
    name = "email"
    types = ("EMAIL",)
    # The local part in Latin letters (accents included): a Chinese or Japanese word written
    # against the address ("邮箱wangwei@…") was taken into it and replaced too.
    _local = "A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f_"
    _re = re.compile(rf"(?<![{_local}.+-])[{_local}.+'-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
                     r"[A-Za-z]{2,24}(?![\w-])")

    def find(self, text: str) -> Iterator[Finding]:
        if "@" not in text:
            return
        for m in self._re.finditer(text):
            yield Finding(m.start(), m.end(), "EMAIL", 0.95, self.name)


@register
class CreditCardDetector(Detector):
    name = "credit_card"
    types = ("CREDIT_CARD",)
    # 13-19 digits, alone or in groups separated by single spaces or dashes.
    _re = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")

    def find(self, text: str) -> Iterator[Finding]:
        for m in self._re.finditer(text):
            raw = m.group()
            digits = raw.replace(" ", "").replace("-", "")
            seps = {c for c in raw if not c.isdigit()}
            # One repeated digit is a placeholder; two (4111 1111 1111 1111) can be a real number.
            if len(seps) > 1 or not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
                continue
            if luhn_ok(digits) and digits[0] in "23456":  # issuers' leading digits (IIN)
                yield Finding(m.start(), m.end(), "CREDIT_CARD", 0.99, self.name, checksum=True)


@register
class IbanDetector(Detector):
    name = "iban"
    types = ("IBAN",)
    _re = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?"
                     r"(?![A-Za-z0-9])")

    def find(self, text: str) -> Iterator[Finding]:
        pos = 0
        while (m := self._re.search(text, pos)) is not None:
            # The pattern also takes the short words after it ("... 1332 para el pago", "...3201
            # ist"), which fail the checksum: the number itself is tried without them, word by
            # word from the end. An IBAN of groups of four followed so was left in the text.
            candidate, pos = m.group(), m.end()
            while True:
                if iban_ok(candidate):
                    yield Finding(m.start(), m.start() + len(candidate), "IBAN", 0.99, self.name,
                                  checksum=True)
                    pos = m.start() + len(candidate)  # what it took beyond may start another
                    break
                shorter = candidate.rpartition(" ")[0]
                if len(shorter.replace(" ", "")) < 15:  # the shortest IBAN (Norway) has 15
                    break
                candidate = shorter


@register
class UsSsnDetector(Detector):
    name = "us_ssn"
    types = ("US_SSN",)
    _re = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
    _context = re.compile(r"(?i)\b(ssn|social security|social-security|ss#|ss no)\b")

    def find(self, text: str) -> Iterator[Finding]:
        for m in self._re.finditer(text):
            area, sep, group, serial = m.groups()
            if not ssn_ok(area, group, serial):
                continue
            if not sep and not context_before(text, m.start(), self._context, 40):
                continue  # nine bare digits are an SSN only when the text says so
            yield Finding(m.start(), m.end(), "US_SSN", 0.9 if sep else 0.8, self.name,
                          checksum=True)


# A letter, digit or _ of any script but Chinese, Japanese and Korean, which write words
# without spaces around numbers.
_WORD_NOT_CJK = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]"


@register
class PhoneDetector(Detector):
    name = "phone"
    types = ("PHONE",)
    # Optional +country code, optional (area code), then digit groups separated by one space,
    # dash or dot; an extension (x123, ext. 123) may follow. "-Office" / "-Fax" may be glued on.
    # After a European country code (3x, 4x), an area code of one digit (+43 1 ..., +33 6 ...,
    # +353 1 ...); not after +1 or +7, where "+1 3 500 000 rows" is a count.
    # Not inside a word of letters or digits, but right after or before Chinese, Japanese or
    # Korean text, which writes no space: "電話番号は090-1234-5678です。" (\w would count は).
    _re = re.compile(
        rf"(?<![+/.-])(?<!{_WORD_NOT_CJK})(?:\+(?:[34]\d{{1,2}}[ .-]?\d[ .-]|\d{{1,3}}[ .-]?))?"
        r"(?:\(\d{1,5}\)[ .-]?)?\d{2,14}(?:[ .-]\d{2,8}){0,4}"
        rf"(?:\s?(?:x|ext\.?|extension)\s?\d{{1,6}})?(?!{_WORD_NOT_CJK}|/|-\d|\.\d)")
    _after = re.compile(r"(?i)^[\s-]{0,3}(?:office|fax|mobile|cell|home|work|phone|tel)\b")
    # A Chinese mobile number (11 digits from 13-19), after a Chinese word or +86.
    _cn_mobile = re.compile(r"(?<![0-9A-Za-z+])(?:\+86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}"
                            r"(?![0-9A-Za-z])")
    # German and Austrian numbers write the area code apart with a slash: 030/1234567,
    # 0171 / 123 45 67. The leading 0 and 3+ digits before the slash keep dates (03/04/1985)
    # and fractions out.
    _slashed = re.compile(rf"(?<![+/.-])(?<!{_WORD_NOT_CJK})0\d{{2,5}} ?/ ?\d{{2,9}}(?:[ -]\d{{2,8}}){{0,3}}"
                          rf"(?!{_WORD_NOT_CJK}|/|-\d|\.\d)")

    def find(self, text: str) -> Iterator[Finding]:
        for m in self._re.finditer(text):
            raw = m.group()
            main = re.split(r"\s?(?:x|ext\.?|extension)\s?(?=\d)", raw)[0]
            digits = sum(c.isdigit() for c in main)
            context = context_before(text, m.start(), _PHONE_CONTEXT) or \
                bool(self._after.match(text[m.end():m.end() + 12]))
            if not (7 if not context else 6) <= digits <= 15 or _DATE_LIKE.match(main) \
                    or _AMOUNT.match(main):
                continue
            formatted = raw.startswith("+") or "(" in raw or main != re.sub(r"\D", "", main)
            if not formatted and not context:
                continue  # a bare run of digits is an amount or an ID unless the text says phone
            if not context and digits < 9 and not ("(" in raw or raw.startswith("+")):
                score = 0.5
            else:
                score = 0.85 if context else 0.7
            yield Finding(m.start(), m.end(), "PHONE", score, self.name)
        if "+86" in text or _CJK_PHONE_CONTEXT.search(text):  # 13800138000, in Chinese text
            for m in self._cn_mobile.finditer(text):
                if m.group().startswith("+") \
                        or context_before(text, m.start(), _CJK_PHONE_CONTEXT, 12):
                    yield Finding(m.start(), m.end(), "PHONE", 0.8, self.name)
        if "/" in text:
            for m in self._slashed.finditer(text):
                after = sum(c.isdigit() for c in m.group().split("/", 1)[1])
                # "0815/2023" is a ticket and a year unless the text says phone
                if 7 <= sum(c.isdigit() for c in m.group()) <= 15 and (
                        after >= 5 or context_before(text, m.start(), _PHONE_CONTEXT)):
                    yield Finding(m.start(), m.end(), "PHONE", 0.7, self.name)


@register
class DriverLicenseDetector(Detector):
    """US driver's licence numbers have no common shape (each state its own), so only a number
    the text calls a licence number is one."""

    name = "us_driver_license"
    types = ("US_DRIVER_LICENSE",)
    _re = re.compile(r"(?i)\b(?:driver'?s?|driving)\s+licen[cs]e(?:\s+(?:number|no\.?|#))?"
                     r"(?:\s+is)?[\s:#]*([A-Za-z]{0,2}\d[\dA-Za-z-]{4,18})\b")

    def find(self, text: str) -> Iterator[Finding]:
        for m in self._re.finditer(text):
            yield Finding(m.start(1), m.end(1), "US_DRIVER_LICENSE", 0.85, self.name, checksum=True)


@register
class IpAddressDetector(Detector):
    name = "ip_address"
    types = ("IP_ADDRESS",)
    _v4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
    _v6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")

    def find(self, text: str) -> Iterator[Finding]:
        for m in self._v4.finditer(text):
            if all(int(p) <= 255 and (p == "0" or not p.startswith("0")) for p in m.group().split(".")):
                yield Finding(m.start(), m.end(), "IP_ADDRESS", 0.9, self.name, checksum=True)
        if ":" in text:
            for m in self._v6.finditer(text):
                value = m.group()
                if value.count(":") < 2 or sum(c in "0123456789abcdefABCDEF" for c in value) < 4:
                    continue  # "10:30:00" is a time, not an address
                try:
                    ipaddress.IPv6Address(value)
                except ValueError:
                    continue
                yield Finding(m.start(), m.end(), "IP_ADDRESS", 0.9, self.name, checksum=True)


_TLDS = ("com|org|net|edu|gov|mil|int|info|biz|io|co|app|dev|ai|me|tv|online|site|shop|store|"
         "tech|xyz|cloud|health|bank|law|[a-z]{2}")


@register
class UrlDetector(Detector):
    name = "url"
    types = ("URL", "DOMAIN")
    _url = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'()]+[^\s<>\"'().,;:!?]")
    _domain = re.compile(rf"(?i)(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})"
                         r"(?![\w@-]|\.\w)")

    def find(self, text: str) -> Iterator[Finding]:
        if "." not in text:
            return
        for m in self._url.finditer(text):
            yield Finding(m.start(), m.end(), "URL", 0.9, self.name)
        for m in self._domain.finditer(text):
            labels = m.group().split(".")
            # "e.g" or "Mr.Smith" are not domains: the name left of the TLD must be 3+ characters
            # and a two-letter TLD must not be a plain word ending ("file.py" stays a maybe).
            if len(labels[-2]) < 3 or labels[-2].isdigit():
                continue
            score = 0.75 if len(labels[-1]) > 2 or len(labels) > 2 else 0.5
            yield Finding(m.start(), m.end(), "DOMAIN", score, self.name)
