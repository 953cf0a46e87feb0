"""Cells a spreadsheet runs as a formula when it opens a CSV: one rule for every CSV written.

"=" or "@" first (after any tabs and returns, which a spreadsheet passes over), or "+" and "-"
before anything but a number: "+49 30 1234567" is a phone and "-5.3" a number, but "+cmd|..."
and "-2+3+cmd|' /C calc'!A0" (Excel's DDE) are run. A complaint reading
``=HYPERLINK("http://...","refund")`` calls out when clicked.
"""
from __future__ import annotations

import re
from typing import Any

FORMULA = re.compile(r"^[\t\r]*(?:[=@]|[+\-](?![\d\s().]*$))")


def as_text(value: Any) -> Any:
    """The value as a spreadsheet shows it as text: a leading apostrophe, as Excel marks text."""
    return "'" + value if isinstance(value, str) and FORMULA.match(value) else value


def count_in_table(table: Any) -> int:
    """How many cells of an Arrow table, its column names included, ``FORMULA`` matches (RE2,
    which the columns are searched with, has no look-ahead: the rule is spelt in three parts)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    count = sum(1 for name in table.column_names if FORMULA.match(name))
    for column in table.columns:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        first = pc.match_substring_regex(column, r"^[\t\r]*[=@]")
        signed = pc.match_substring_regex(column, r"^[\t\r]*[+\-]")
        number = pc.match_substring_regex(column, r"^[\t\r]*[+\-][\d\s().]*$")
        hits = pc.or_kleene(first, pc.and_kleene(signed, pc.invert(number)))
        count += int(pc.sum(hits.cast(pa.int64())).as_py() or 0)
    return count
