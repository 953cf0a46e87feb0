"""How easy a passphrase is to guess: the one rule for a vault's and a sealed export's
passphrase, applied alike by the desktop's dialogs and the command line.

A rough estimate, not a guarantee: it counts character classes and length and penalises
obvious patterns, and says in words what would make the passphrase stronger. Below "Fair" a
passphrase is refused: a stolen copy of a workspace or an export can be attacked offline.
"""
from __future__ import annotations

import enum
import math
import string
from dataclasses import dataclass

MIN_LENGTH = 8

_COMMON = {
    "password", "passw0rd", "123456", "12345678", "qwerty", "letmein", "welcome", "admin",
    "iloveyou", "monkey", "dragon", "secret", "cloister",
}


class Strength(enum.IntEnum):
    TOO_SHORT = 0
    WEAK = 1
    FAIR = 2
    GOOD = 3
    STRONG = 4


@dataclass(frozen=True)
class StrengthHint:
    strength: Strength
    bits: float
    advice: str

    @property
    def acceptable(self) -> bool:
        return self.strength >= Strength.FAIR


def assess(passphrase: str) -> StrengthHint:
    """Estimate the passphrase's strength and say what would improve it."""
    if len(passphrase) < MIN_LENGTH:
        return StrengthHint(Strength.TOO_SHORT, 0.0,
                            f"Use at least {MIN_LENGTH} characters; a few unrelated words work well.")
    pool = 0
    if any(c in string.ascii_lowercase for c in passphrase):
        pool += 26
    if any(c in string.ascii_uppercase for c in passphrase):
        pool += 26
    if any(c in string.digits for c in passphrase):
        pool += 10
    if any(c in string.punctuation or c == " " for c in passphrase):
        pool += 33
    if any(ord(c) > 127 for c in passphrase):
        pool += 100
    distinct = len(set(passphrase))
    # Repeats ("aaaaaaaa") and common words add little: count distinct characters, not length.
    effective_length = min(len(passphrase), distinct * 2)
    bits = effective_length * math.log2(max(pool, 2))
    # "Password1!" is "password" with the usual decorations: as weak as the word itself.
    core = passphrase.lower().strip().rstrip(string.digits + string.punctuation)
    if core in _COMMON or passphrase.lower().strip() in _COMMON or distinct <= 2:
        bits = min(bits, 10.0)
    if bits < 40:
        return StrengthHint(Strength.WEAK, bits,
                            "Weak: easy to guess. Add more words, digits or symbols.")
    if bits < 60:
        return StrengthHint(Strength.FAIR, bits,
                            "Fair. A longer passphrase (four or more words) is much harder to guess.")
    if bits < 80:
        return StrengthHint(Strength.GOOD, bits, "Good.")
    return StrengthHint(Strength.STRONG, bits, "Strong.")


def require_acceptable(passphrase: str, what: str = "passphrase") -> None:
    """Refuse a passphrase below "Fair", saying why and what would do (``PassphraseTooWeak``)."""
    hint = assess(passphrase)
    if not hint.acceptable:
        raise PassphraseTooWeak(
            f"the {what} is too easy to guess ({hint.advice.rstrip('.')}): anyone with a copy of "
            "the files could find it offline; choose a longer one, such as four or more "
            "unrelated words")


class PassphraseTooWeak(ValueError):
    """A passphrase below "Fair"; the message says what would do."""
