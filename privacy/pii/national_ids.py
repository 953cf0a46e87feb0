"""NATIONAL_ID: identity and tax numbers of European countries and China, the values a European
or Chinese customer file holds beside names and that the English-first detectors let through.

Each is found by its shape and confirmed by its own check: the control letter of a Spanish
DNI/NIE, the key of a French NIR, the check character of an Italian codice fiscale (written in
capitals, as it is issued), the MOD 11-2
digit (and a real birth date) of a Chinese resident ID. Numbers without a check that tells them
from any other number are taken only where the text names them: a German Steuer-ID (11 digits,
ISO 7064 MOD 11,10) or a Dutch BSN (9 digits, the "elfproef") needs "Steuer-ID" or "BSN" just
before it, and a UK National Insurance number (no check) needs its spaced layout or its name.
So do a Polish PESEL (11 digits, a birth date and a check digit), a Turkish T.C. Kimlik No (11
digits, two check digits) and a German health-insurance number (KVNR: a letter and nine digits,
a check digit), each after its name.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from privacy.pii.findings import Finding
from privacy.pii.patterns import context_before
from privacy.pii.registry import Detector, register

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# Italian codice fiscale: the value of a character in an odd (1st, 3rd, ...) position.
_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4,
                    18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23)))
NAMED_WITHIN = 40  # characters before a number in which its name must stand
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def dni_ok(number: str, letter: str) -> bool:
    """Spanish DNI (8 digits) or NIE (X, Y or Z, then 7 digits): the control letter."""
    digits = str("XYZ".index(number[0])) + number[1:] if number[0] in "XYZ" else number
    return digits.isdigit() and _DNI_LETTERS[int(digits) % 23] == letter.upper()


def nir_ok(value: str) -> bool:
    """French NIR: 13 characters (Corsica's department 2A or 2B counts as 19 or 18 for the sum)
    and a key of 97 minus their remainder by 97."""
    compact = re.sub(r"\s", "", value).upper()
    if len(compact) != 15:
        return False
    body = compact[:13].replace("2A", "19", 1).replace("2B", "18", 1) if compact[5:7] in (
        "2A", "2B") else compact[:13]
    return body.isdigit() and compact[13:].isdigit() and 97 - int(body) % 97 == int(compact[13:])


def codice_fiscale_ok(value: str) -> bool:
    code = value.upper()
    if len(code) != 16 or not code.isalnum():
        return False
    total = 0
    for i, char in enumerate(code[:15]):
        if i % 2 == 0:
            total += _CF_ODD[char]
        else:
            total += int(char) if char.isdigit() else ord(char) - ord("A")
    return chr(ord("A") + total % 26) == code[15]


def cn_resident_id_ok(value: str) -> bool:
    """Chinese resident ID: 17 digits, a real birth date in 7-14, and an ISO 7064 MOD 11-2 check."""
    code = value.upper()
    if len(code) != 18 or not code[:17].isdigit():
        return False
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= date.today().year:
        return False
    total = sum(int(d) * w for d, w in zip(code[:17], _CN_WEIGHTS))
    return "10X98765432"[total % 11] == code[17]


def steuer_id_ok(digits: str) -> bool:
    """German Steuer-ID: 11 digits, not starting with 0, ISO 7064 MOD 11,10 check digit."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    product = 10
    for d in digits[:10]:
        total = (int(d) + product) % 10 or 10
        product = total * 2 % 11
    return (11 - product) % 10 == int(digits[10])


def bsn_ok(digits: str) -> bool:
    """Dutch BSN: 9 digits passing the "elfproef" (weights 9..2, and -1 for the last)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    return total % 11 == 0 and total > 0


def pesel_ok(digits: str) -> bool:
    """Polish PESEL: 11 digits, a real birth date in the first six (the month carries the
    century: +80 for the 1800s, +20 the 2000s, ...) and a weighted check digit."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)))
    if (10 - total % 10) % 10 != int(digits[10]):
        return False
    year, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    century = {0: 1900, 8: 1800, 2: 2000, 4: 2100, 6: 2200}.get(month // 20 * 2)
    try:
        return century is not None and bool(date(century + year, month % 20, day))
    except ValueError:
        return False


def tc_kimlik_ok(digits: str) -> bool:
    """Turkish T.C. Kimlik No: 11 digits, not starting with 0, two check digits."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    d = [int(c) for c in digits]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return d[9] == tenth and d[10] == sum(d[:10]) % 10


def kvnr_ok(value: str) -> bool:
    """German health-insurance number (KVNR, on every Gesundheitskarte): a capital letter and
    nine digits; the letter as two digits (A = 01), then weights 1, 2, 1, 2, ... with the digits
    of each product summed, give the last digit."""
    if len(value) != 10 or not value[0].isalpha() or not value[0].isupper() or not value[1:].isdigit():
        return False
    digits = f"{ord(value[0]) - 64:02d}" + value[1:9]
    total = sum(sum(divmod(int(c) * (1 if i % 2 == 0 else 2), 10)) for i, c in enumerate(digits))
    return total % 10 == int(value[9])


def passes_a_check(value: str) -> bool:
    """Whether ``value`` (any layout) passes the check of an identity number of its shape: a
    pseudonym must not, so that it is never a real person's number."""
    code = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if len(code) == 9 and (code[:8].isdigit() or code[0] in "XYZ") and code[-1].isalpha():
        return dni_ok(code[:-1], code[-1])
    if len(code) == 10 and code[0].isalpha():
        return kvnr_ok(code)
    checks = {15: (nir_ok,), 16: (codice_fiscale_ok,), 18: (cn_resident_id_ok,),
              11: (steuer_id_ok, pesel_ok, tc_kimlik_ok), 9: (bsn_ok,)}
    return any(check(code) for check in checks.get(len(code), ()))


@register
class NationalIdDetector(Detector):
    name = "national_id"
    types = ("NATIONAL_ID",)
    _dni = re.compile(r"(?<![\w-])(\d{8}|[XYZ]-?\d{7})[ -]?([A-Z])(?![\w-])")
    _dni_named = re.compile(r"(?i)\b(?:dni|nie|nif|d\.n\.i\.|documento|ausweis)\b")
    _nir = re.compile(r"(?<![\w])[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?"
                      r"\d{3} ?\d{2}(?![\w])")
    _cf = re.compile(r"(?<![A-Za-z0-9])[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z]"
                     r"[0-9LMNP-V]{3}[A-Z](?![A-Za-z0-9])")
    # Chinese text runs on without spaces, so only digits may not stand before or after.
    _cn = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
    _nino = re.compile(r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z]"
                       r"[A-CEGHJ-NPR-TW-Z]( ?)\d{2}\1\d{2}\1\d{2}\1[A-D](?![A-Za-z0-9])")
    _nino_named = re.compile(r"(?i)\b(?:national insurance|ni (?:number|no)|nino)\b")
    _steuer = re.compile(r"(?<![\d])[1-9]\d ?\d{3} ?\d{3} ?\d{3}(?![\d])")
    _steuer_named = re.compile(r"(?i)(?:steuer-?id|steuer-?idnr|steueridentifikationsnummer|"
                               r"identifikationsnummer|\bidnr|\btin\b|tax id)")
    # Polish PESEL and Turkish T.C. Kimlik No: 11 digits, each with its own check; named.
    _eleven = re.compile(r"(?<![\d])\d{11}(?![\d])")
    _pesel_named = re.compile(r"(?i)\bpesel\b")
    _tc_named = re.compile(r"(?i)(?:\bt\.?\s?c\.?(?=\s|$|\b)|kimlik|\btckn\b)")
    # German health-insurance number: a capital letter and nine digits, on every health card.
    _kvnr = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d{9}(?![A-Za-z0-9])")
    _kvnr_named = re.compile(r"(?i)(?:\bkvnr\b|versichertennummer|krankenversicherten|"
                             r"versicherten-?nr|versicherungsnummer|\bkv-?nr)")
    _bsn = re.compile(r"(?<![\d])\d{4}\.?\d{2}\.?\d{3}(?![\d])|(?<![\d])\d{9}(?![\d])")
    _bsn_named = re.compile(r"(?i)\b(?:bsn|burgerservicenummer|sofinummer|sofi-nummer)\b")

    def find(self, text: str) -> Iterator[Finding]:
        # Every number here has six digits or more: most texts are passed over at C speed.
        if sum(text.count(d) for d in "0123456789") < 6:
            return
        for m in self._dni.finditer(text):
            # "40000016 A replacement…": with a space before its letter, a DNI only where named
            spaced = " " in m.group() \
                and not context_before(text, m.start(), self._dni_named, NAMED_WITHIN)
            if dni_ok(m.group(1).replace("-", ""), m.group(2)) and not spaced:
                yield self._found(m)
        for m in self._nir.finditer(text):
            if nir_ok(m.group()):
                yield self._found(m)
        for m in self._cf.finditer(text):
            if codice_fiscale_ok(m.group()):
                yield self._found(m)
        for m in self._cn.finditer(text):
            if cn_resident_id_ok(m.group()):
                yield self._found(m)
        for m in self._nino.finditer(text):
            if m.group(1) or context_before(text, m.start(), self._nino_named, NAMED_WITHIN):
                yield self._found(m, 0.8, checksum=False)
        # Numbers that only their name tells apart: looked for where the text names one.
        if self._steuer_named.search(text):
            for m in self._steuer.finditer(text):
                if steuer_id_ok(m.group().replace(" ", "")) \
                        and context_before(text, m.start(), self._steuer_named, NAMED_WITHIN):
                    yield self._found(m)
        if self._pesel_named.search(text) or self._tc_named.search(text):
            for m in self._eleven.finditer(text):
                value = m.group()
                if (pesel_ok(value) and context_before(text, m.start(), self._pesel_named,
                                                       NAMED_WITHIN)) or \
                        (tc_kimlik_ok(value) and context_before(text, m.start(), self._tc_named,
                                                                NAMED_WITHIN)):
                    yield self._found(m)
        if self._kvnr_named.search(text):
            for m in self._kvnr.finditer(text):
                if kvnr_ok(m.group()) and context_before(text, m.start(), self._kvnr_named,
                                                         NAMED_WITHIN):
                    yield self._found(m)
        if self._bsn_named.search(text):
            for m in self._bsn.finditer(text):
                if bsn_ok(m.group().replace(".", "")) \
                        and context_before(text, m.start(), self._bsn_named, NAMED_WITHIN):
                    yield self._found(m)

    def _found(self, m: re.Match[str], score: float = 0.95, *, checksum: bool = True) -> Finding:
        return Finding(m.start(), m.end(), "NATIONAL_ID", score, self.name, checksum=checksum)
