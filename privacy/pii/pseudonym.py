"""Consistent pseudonyms keyed by a workspace secret (HMAC-SHA256, never a plain hash).

The same (type, value) gives the same surrogate everywhere the same secret is used: across
rows, datasets and runs of one workspace. Another workspace has another secret, so its
surrogates differ, and nobody without the secret can test a guess ("is Maria Lopez in there?")
by hashing it, as they could with a plain hash. The secret lives in the vault
(``privacy.pii.secret``).

Surrogates look like the real thing where that is safe: a name for a name, a Luhn-valid card
number of the same length and layout, a mod-97-valid IBAN of the same country, an SSN in the
900-999 area that is never issued (so a surrogate can never be a real person's number), a
private-range IP address, an address at example.org for an e-mail. Distinct values can collide
on one surrogate (names: ~7,000 x ~1,000 combinations), which merges them; it never splits one.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re

from privacy.pii.checksums import iban_check_digits, luhn_digit

SECRET_BYTES = 32


_TITLE = re.compile(r"(?i)^(?:mr|mrs|ms|miss|dr|prof|sir|madam|mister|dame|lady|lord|rev)\.?\s+")


def split_title(value: str) -> tuple[str, str]:
    """("Mrs. ", "Kimberly Lauritsen") from "Mrs. Kimberly Lauritsen"; the title is kept in the
    surrogate, and left out of the key so that "Mrs. K. L." and "K. L." are one person."""
    m = _TITLE.match(value)
    return (value[:m.end()], value[m.end():]) if m else ("", value)


def _normalise(entity: str, value: str) -> str:
    if entity == "PERSON":
        value = split_title(value)[1]
    if entity in ("CREDIT_CARD", "US_SSN", "PHONE"):
        return re.sub(r"\D", "", value)
    if entity == "NATIONAL_ID":  # "12345678-Z" and "12345678z" are one number
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if entity == "IBAN":
        return re.sub(r"\s", "", value).upper()
    return " ".join(value.split()).casefold()


def normal_form(entity: str, value: str) -> str:
    """The form of ``value`` that keys its surrogate: two values with one normal form are one
    (person, card, ...) and always get the same surrogate."""
    return _normalise(entity, value)


@functools.lru_cache(maxsize=1)
def _name_lists() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person

    first = tuple(sorted(set(Person.first_names)))
    last = tuple(sorted(set(Person.last_names)))
    states = tuple(sorted(set(Address.states)))
    return first, last, states


class Pseudonymizer:
    """Surrogates derived from HMAC(secret, context); ``secret`` comes from the vault."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonym secret must be at least 16 bytes")
        self._secret = bytes(secret)

    def digest(self, entity: str, value: str, purpose: str = "pseudonym") -> bytes:
        message = f"{purpose}\x00{entity}\x00{_normalise(entity, value)}".encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def number(self, entity: str, value: str, purpose: str = "pseudonym") -> int:
        return int.from_bytes(self.digest(entity, value, purpose), "big")

    def surrogate(self, entity: str, value: str) -> str:
        n = self.number(entity, value)
        maker = getattr(self, f"_fake_{entity.lower()}", None)
        if maker is not None:
            return maker(value, n)
        return f"{entity}_{n & 0xFFFFFF:06x}"

    # ----- realistic surrogates per type ----------------------------------------------------
    def _fake_person(self, value: str, n: int) -> str:
        first, last, _ = _name_lists()
        title, value = split_title(value)
        if title:
            return title + self._fake_person(value, n)
        parts = value.split()
        if len(parts) == 1:  # one word in, one word out: keeps "Dear X," sentences natural
            return (first if n % 2 else last)[(n >> 8) % len(first if n % 2 else last)]
        return f"{first[n % len(first)]} {last[(n >> 32) % len(last)]}"

    def _fake_email(self, value: str, n: int) -> str:
        first, last, _ = _name_lists()
        return f"{first[n % len(first)].lower()}.{last[(n >> 32) % len(last)].lower()}" \
               f"{(n >> 64) % 100}@example.org"

    def _fake_location(self, value: str, n: int) -> str:
        _, last, _ = _name_lists()
        return f"{last[n % len(last)]}{('ville', 'ton', 'burg', 'field', 'ford')[(n >> 40) % 5]}"

    def _fake_organization(self, value: str, n: int) -> str:
        _, last, _ = _name_lists()
        return f"{last[n % len(last)]} {('Group', 'LLC', 'Ltd', 'Partners', 'Inc.')[(n >> 40) % 5]}"

    def _digits_like(self, value: str, n: int) -> str:
        """Every digit of ``value`` replaced, the layout (spaces, dashes, brackets) kept."""
        out, pool = [], str(n)
        for i, ch in enumerate(value):
            out.append(pool[i % len(pool)] if ch.isdigit() else ch)
        return "".join(out)

    def _fake_phone(self, value: str, n: int) -> str:
        return self._digits_like(value, n)

    def _fake_credit_card(self, value: str, n: int) -> str:
        digits = re.sub(r"\D", "", value)
        body = ("4" + str(n).rjust(len(digits), "0"))[: len(digits) - 1]
        fake = body + luhn_digit(body)
        it = iter(fake)
        return "".join(next(it) if ch.isdigit() else ch for ch in value)

    def _fake_iban(self, value: str, n: int) -> str:
        compact = re.sub(r"\s", "", value).upper()
        country, bban = compact[:2], compact[4:]
        pool = str(n)
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        fake_bban = "".join(letters[int(pool[i % len(pool)] + pool[(i + 7) % len(pool)]) % 26]
                            if ch.isalpha() else pool[(i + 3) % len(pool)]
                            for i, ch in enumerate(bban))
        fake = country + iban_check_digits(country, fake_bban) + fake_bban
        if " " in value.strip():
            fake = " ".join(fake[i:i + 4] for i in range(0, len(fake), 4))
        return fake if not value[:2].islower() else fake.lower()

    def _fake_us_ssn(self, value: str, n: int) -> str:
        area, group, serial = 900 + n % 100, 1 + (n >> 8) % 99, 1 + (n >> 16) % 9999
        sep = "-" if "-" in value else (" " if " " in value else "")
        return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"

    def _fake_national_id(self, value: str, n: int) -> str:
        """Made on the number's compact form (so "12345678Z" and "12.345.678-Z", one number,
        get one pseudonym), kept to its shape (an NIE's X/Y/Z, a Chinese ID's digit or X, each
        character's case) and made to fail its country's check, so it is never a real person's
        number; then written back in the value's layout."""
        from privacy.pii.national_ids import passes_a_check

        compact = [c for c in value if c.isalnum()]
        if not compact:
            return value
        code = "".join(compact).upper()
        pool, letters = str(n), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        fake = [pool[i % len(pool)] if c.isdigit()
                else letters[int(pool[(i + 5) % len(pool)] + pool[(i + 2) % len(pool)]) % 26]
                for i, c in enumerate(code)]
        if len(code) == 9 and code[0] in "XYZ":
            fake[0] = "XYZ"[n % 3]  # an NIE stays an NIE
        if len(code) == 18 and code[:17].isdigit():
            fake[17] = "X" if code[17] == "X" else fake[17]  # a Chinese ID ends in a digit or X
        while passes_a_check("".join(fake)):  # a few turns at most: one value in ten or more
            last = fake[-1]
            fake[-1] = str((int(last) + 1) % 10) if last.isdigit() \
                else letters[(ord(last) - 64) % 26]
        chars = iter(fake)
        return "".join((next(chars) if c.isupper() or not c.isalpha() else next(chars).lower())
                       if c.isalnum() else c for c in value)

    def _fake_ip_address(self, value: str, n: int) -> str:
        if ":" in value:
            return "fd00:" + ":".join(f"{(n >> (16 * i)) & 0xFFFF:x}" for i in range(7))
        return f"10.{(n >> 16) & 0xFF}.{(n >> 8) & 0xFF}.{n & 0xFF}"

    def _fake_url(self, value: str, n: int) -> str:
        return f"https://site-{n & 0xFFFFFF:06x}.example.org/"

    def _fake_domain(self, value: str, n: int) -> str:
        return f"site-{n & 0xFFFFFF:06x}.example.org"

    def _fake_zip(self, value: str, n: int) -> str:
        return self._digits_like(value, n) if any(c.isdigit() for c in value) else "ZZ1 1ZZ"

    def _fake_street_address(self, value: str, n: int) -> str:
        _, last, _ = _name_lists()
        return f"{1 + n % 9999} {last[(n >> 16) % len(last)]} Street"
