"""Text folded for comparison: case and accents do not count ("Catégorie" is "categorie",
"Straße" is "strasse"). Shared by header names, label spellings and totals rows."""
from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))
