"""Text folded for comparison: case and accents do not count ("Catégorie" is "categorie",
"Straße" is "strasse"). Shared by header names, label spellings and totals rows."""
from __future__ import annotations

import unicodedata

# Scripts written without spaces between words (Thai, Japanese kana, Chinese characters): a run
# of their letters is a clause, not a word. A regex class that Python and Arrow's RE2 both read.
UNSPACED_SCRIPTS = "[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))
