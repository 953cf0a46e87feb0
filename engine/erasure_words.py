"""What an erasure request says and refuses to keep: the sentence about backups said after every
erasure, and the check that a request's reference does not name the person (the audit log keeps
it for good)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import pyarrow as pa

from engine.data.person_match import column_matches
from engine.errors import InputError


# Said after every erasure (CLI and app) and where a restore is accepted: a backup restored
# later undoes the erasure without a word.
ERASED_FROM_BACKUPS = ("Backups of the workspace made before now still hold these rows, and "
                       "putting one back brings them back: delete them, or run this erasure "
                       "again after a restore.")


def check_reference(reference: str | None, values: Sequence[str]) -> None:
    """Refuse a request's reference that names the person, even in part ("DSR Rossi" for
    Giuseppe Rossi): the audit log keeps it for good."""
    if not reference:
        return
    parts = [*values, *(w for v in values for w in v.split() if len(w) >= 3 and w.isalpha())]
    # Read word by word as well: "Müller-2026" or "DSR_Martin" hid the name from the match.
    reference = unicodedata.normalize("NFKC", reference)  # fullwidth and decomposed letters too
    spaced = " ".join(re.split(r"[\W_\d]+", reference)).strip()
    said = pa.array([reference, spaced])
    if any(column_matches(said, part).any() for part in parts):
        raise InputError("the request's reference names the person, and the audit log keeps it "
                         "for good: give a case number instead (nothing was changed)")


def without_advice(message: str) -> str:
    """A damaged dataset's message without its "; delete it ..." advice (the erasure's note on
    a dataset it could not search gives its own)."""
    return re.split(r";\s*(?:delete|restore|update)\b", message, maxsplit=1)[0]
