"""Which columns hold the text and the label: inference by name and content, or the user's choice.

``infer_mapping`` proposes; ``ColumnMapping.choose`` takes the user's choice and checks the
names. ``texts_and_labels`` turns a table and a mapping into the two lists training needs.
Several text columns are joined with ``separator`` (a title and a body read as one text).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from engine.data.folding import UNSPACED_SCRIPTS
from engine.data.importing.header_names import LABEL_NAMES, TEXT_NAMES, name_score
from engine.data.importing.table import ImportedTable
from engine.data.label_columns import indicator_columns
from engine.errors import InputError


# Folder imports add a "file" column: never a text or label candidate.
_NEVER = {"file", "path", "filename", "id", "uuid", "index"}

# A label column is a short categorical value; beyond this it is probably free text or an id.
_MAX_LABEL_CHARS = 80
_MAX_CLASSES = 1000
_WORDED = 0.2  # free text: at least this share of values hold a space
_MOSTLY_IDS = 0.8
# One e-mail address, web address or code with a digit and no space: a contact or a key.
_ID_LIKE = (r"^(?:[^\s@]+@[^\s@]+\.[^\s@]+|https?://\S+|[A-Za-z]{0,6}[-_#/.]?\d[\w\-/.]*"
            # a date and time ("2024-01-05 10:04:00", "05.01.2024 10:04"): a stamp, not text
            r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}[ T]\d{1,2}:\d{2}(?::\d{2})?)$")
_WORDED_TEXT = r"\s|" + UNSPACED_SCRIPTS
# Inference looks at this many rows; a million-row file is judged as fast as a small one.
_SAMPLE_ROWS = 20_000


@dataclass(frozen=True)
class ColumnMapping:
    text_columns: tuple[str, ...]
    label_column: str | None
    separator: str = "\n"

    def __post_init__(self) -> None:
        # Accept lists from callers but keep the frozen dataclass hashable and immutable.
        object.__setattr__(self, "text_columns", tuple(self.text_columns))
        if not self.text_columns:
            raise InputError("choose at least one text column.")
        if self.label_column is not None and self.label_column in self.text_columns:
            raise InputError(
                f"column {self.label_column!r} cannot be both a text column and the label column; "
                "choose a different label column."
            )

    def as_dict(self) -> dict[str, Any]:
        """As stored in the dataset's metadata and a run's record (JSON)."""
        return {"text_columns": list(self.text_columns), "label_column": self.label_column,
                "separator": self.separator}

    @classmethod
    def choose(
        cls,
        imported: ImportedTable,
        *,
        text_columns: Sequence[str] | None = None,
        label_column: str | None = None,
        separator: str = "\n",
    ) -> ColumnMapping:
        """The user's choice, with unnamed parts filled in by inference. Names are checked."""
        available = list(imported.table.column_names)
        # Names as read are NFC (``importing``); a name pasted from macOS may not be.
        text_columns = [same_column(n, available) for n in text_columns] if text_columns else text_columns
        label_column = same_column(label_column, available) if label_column else label_column
        for name in [*(text_columns or ()), *([label_column] if label_column else [])]:
            if name not in available:
                same = [c for c in available if c.casefold() == name.casefold()]
                if same:  # 'product' for 'Product': say the one meant, first
                    raise InputError(f"column {name!r} is not in {imported.source.name}: did you mean "
                                     f"{same[0]!r}? (names are case-sensitive)")
                raise InputError(
                    f"column {name!r} is not in {imported.source.name}; the columns are: "
                    f"{', '.join(repr(c) for c in available)}. Check the spelling (names are "
                    "case-sensitive)."
                )
        if text_columns and len(set(text_columns)) != len(text_columns):
            raise InputError("a text column is named twice; name each text column once.")
        inferred: ColumnMapping | None = None
        if not text_columns or label_column is None:
            exclude = {label_column} if label_column else set()
            inferred = _infer(imported, exclude=exclude, fixed_text=tuple(text_columns or ()))
        texts = tuple(text_columns) if text_columns else inferred.text_columns  # type: ignore[union-attr]
        label = label_column if label_column is not None else inferred.label_column  # type: ignore[union-attr]
        return cls(text_columns=texts, label_column=label, separator=separator)


def same_column(name: str, available: list[str]) -> str:
    """The available column ``name`` means when only the encoding of an accent differs."""
    if name in available:
        return name
    composed = unicodedata.normalize("NFC", name)
    same = [a for a in available if unicodedata.normalize("NFC", a) == composed]
    return same[0] if len(same) == 1 else name


def infer_mapping(imported: ImportedTable) -> ColumnMapping:
    """Propose the text column and the label column, by column name first, then by content."""
    return _infer(imported, exclude=set(), fixed_text=())


@dataclass(frozen=True)
class _Stats:
    name: str
    filled: float  # share of rows with a non-blank value
    distinct: int
    mean_chars: float
    spaced: float = 1.0  # share of filled values with a space in them: words
    ids: float = 0.0  # share of filled values that are one address or code (a@b.de, K-1042)


def _stats(table: pa.Table, name: str) -> _Stats:
    column = table.column(name)
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    n = max(table.num_rows, 1)
    trimmed = pc.utf8_trim_whitespace(column)
    blank = pc.or_kleene(pc.is_null(trimmed), pc.equal(trimmed, ""))
    filled_count = n - pc.sum(blank.cast(pa.int64())).as_py() if table.num_rows else 0
    lengths = pc.utf8_length(column)
    mean = pc.mean(lengths).as_py() or 0.0
    distinct = pc.count_distinct(trimmed, mode="only_valid").as_py()
    # Words: a space between them, or Chinese, Japanese, Korean or Thai, which write none.
    spaced = pc.sum(pc.match_substring_regex(trimmed, _WORDED_TEXT).cast(pa.int64())).as_py() or 0
    ids = pc.sum(pc.match_substring_regex(trimmed, _ID_LIKE).cast(pa.int64())).as_py() or 0
    return _Stats(name=name, filled=filled_count / n, distinct=distinct, mean_chars=float(mean),
                  spaced=spaced / filled_count if filled_count else 0.0,
                  ids=ids / filled_count if filled_count else 0.0)


def sample_rows(table: pa.Table) -> pa.Table:
    """Evenly spaced rows: enough to judge columns, and a file sorted by label is still covered."""
    if table.num_rows <= _SAMPLE_ROWS:
        return table
    # Contiguous slices, not ``take``: take on a chunked table concatenates the chunks first.
    pieces, length = 20, _SAMPLE_ROWS // 20
    step = (table.num_rows - length) // (pieces - 1)
    return pa.concat_tables([table.slice(i * step, length) for i in range(pieces)])


def _infer(imported: ImportedTable, *, exclude: set[str], fixed_text: tuple[str, ...]) -> ColumnMapping:
    table = sample_rows(imported.table)
    names = [n for n in table.column_names if n not in exclude]
    if not names:
        raise InputError(f"{imported.source.name} has no columns to read text from.")
    stats = {n: _stats(table, n) for n in names if n.lower() not in _NEVER or len(names) == 1}
    if not stats:
        stats = {n: _stats(table, n) for n in names}

    rows = max(table.num_rows, 1)
    text_columns = fixed_text or (_pick_text(list(stats.values()), rows),)
    label_candidates = [s for s in stats.values() if s.name not in text_columns]
    label = _pick_label(label_candidates, rows)
    # Three columns or more of 0/1 values (toxic, obscene, insult): one label each, several a
    # row, not a yes/no class of one of them (validation says how to read them), unless the
    # one picked is named as the label ("label", "class": a binary task beside some flags).
    # Two (is_spam, has_link) are as often one yes/no label beside a 0/1 feature: the one
    # picked stays the label, and ``label_columns.pick_problem`` says both readings.
    if label is None or name_score(label, LABEL_NAMES)[0] < 2:
        found = indicator_columns(table, [s.name for s in label_candidates])
        if len(found) >= 2 and (label is None or (label in found and len(found) > 2)):
            named = [s for s in label_candidates
                     if s.name not in found and name_score(s.name, LABEL_NAMES)[0]]
            label = _pick_label(named, rows)
    return ColumnMapping(text_columns=text_columns, label_column=label)


def _pick_text(stats: list[_Stats], rows: int) -> str:
    named = [s for s in stats if name_score(s.name, TEXT_NAMES)[0] and s.filled > 0]
    # A name is passed over when its values are addresses or codes (a German "E-Mail" column
    # holds addresses) and another column holds words; text without spaces (Chinese, one-word
    # messages) is no address, and keeps its name's claim.
    texts = [s for s in named if s.ids < _MOSTLY_IDS]
    worded = [s for s in stats if s.spaced >= _WORDED and s.ids < _MOSTLY_IDS]
    if texts or (named and not worded):
        return max(texts or named, key=lambda s: (name_score(s.name, TEXT_NAMES), s.mean_chars)).name
    if named:
        return max(worded, key=lambda s: s.mean_chars).name
    # By content: the longest values among columns of words that are mostly unique (free text).
    # Codes and numbers are never the text while another column holds words: a customer number
    # is unique in every row, and a chat desk's short messages repeat ("M1001" beside "Şubeniz
    # cumartesi açık mı?" was chosen, and the model would have learnt customer numbers).
    words = [s for s in stats if s.ids < _MOSTLY_IDS and s.filled > 0]
    worded = [s for s in words if s.spaced >= _WORDED]
    varied = [s for s in (worded or words) if s.distinct >= 0.5 * s.filled * rows]
    pool = varied or worded or words or stats
    return max(pool, key=lambda s: s.mean_chars).name


def _looks_like_label(s: _Stats, rows: int) -> bool:
    if s.distinct < 1 or s.mean_chars > _MAX_LABEL_CHARS:
        return False
    return s.distinct <= min(_MAX_CLASSES, max(2, rows // 2))


def _short_or_repeated(s: _Stats, rows: int) -> bool:
    """Values a column named like a label may hold: short ones, or long ones that repeat (a
    category path, a diagnosis written out: 'Billing / refunds / disputed card transactions',
    each on many rows, was passed over for its length alone)."""
    # Each long value on five rows or more on average: half-repeated free text ("output",
    # "annotation") stays passed over.
    return s.mean_chars <= _MAX_LABEL_CHARS or s.distinct <= min(_MAX_CLASSES, s.filled * rows / 5)


def _pick_label(stats: list[_Stats], rows: int) -> str | None:
    # A column named like a label is taken whatever its counts (validation reports a label that
    # occurs once per row); only long free text under such a name is passed over.
    named = [s for s in stats if name_score(s.name, LABEL_NAMES)[0]
             and _short_or_repeated(s, rows) and s.filled > 0]
    if named:
        # Mostly-filled columns first: "Tags" that is blank in most rows is not the target.
        return max(
            named, key=lambda s: (s.filled >= 0.5, name_score(s.name, LABEL_NAMES), s.filled)
        ).name
    by_content = [s for s in stats if _looks_like_label(s, rows) and s.distinct >= 2]
    if not by_content:
        return None
    return max(by_content, key=lambda s: (s.filled >= 0.9, -s.distinct, s.filled)).name


def other_label_columns(imported: ImportedTable, mapping: ColumnMapping) -> list[str]:
    """Columns besides the chosen ones that are named like a label and hold short values
    ("topic" beside the chosen "sentiment"): a user who meant one of them should be told."""
    table = sample_rows(imported.table)
    chosen = {*mapping.text_columns, mapping.label_column}
    out = []
    for name in table.column_names:
        if name in chosen or name.lower() in _NEVER or not name_score(name, LABEL_NAMES)[0]:
            continue
        stats = _stats(table, name)
        if stats.filled > 0 and _short_or_repeated(stats, table.num_rows) and stats.distinct >= 2:
            out.append(name)
    return out


def text_array(table: pa.Table, mapping: ColumnMapping) -> pa.ChunkedArray:
    """One string per row (blank where empty); several text columns joined by the separator."""
    columns = [_as_string(table.column(name)) for name in mapping.text_columns]
    if len(columns) == 1:
        return pc.fill_null(columns[0], "")
    # Blank parts are skipped so two columns with one empty cell don't leave a dangling separator.
    parts = [pc.if_else(pc.equal(pc.utf8_trim_whitespace(c), ""), None, c) for c in columns]
    # pyarrow 26 drops the rows where every part is null from a "skip" join (the result comes
    # out shorter than the table, and every later row shifts): such rows get one empty part.
    all_blank = pc.and_kleene(*[pc.is_null(p) for p in parts[:2]])
    for extra in parts[2:]:
        all_blank = pc.and_kleene(all_blank, pc.is_null(extra))
    parts[0] = pc.if_else(all_blank, "", parts[0])
    joined = pc.binary_join_element_wise(*parts, mapping.separator, null_handling="skip")
    return pc.fill_null(joined, "")


def label_array(table: pa.Table, mapping: ColumnMapping) -> pa.ChunkedArray:
    """Labels as trimmed strings ('' where missing): ' spam' and 'spam' are one class."""
    if mapping.label_column is None:
        raise InputError("no label column is chosen; choose the column that holds the labels.")
    column = _as_string(table.column(mapping.label_column))
    return pc.fill_null(pc.utf8_trim_whitespace(column), "")


def _as_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    return column.cast(pa.string())


def class_counts(table: pa.Table, mapping: ColumnMapping) -> list[tuple[str, int]]:
    """Rows per class as training sees them (labels trimmed, so ' spam' and 'spam' are one
    class; '' counts the rows with no label), most frequent first, then by name."""
    counted = pc.value_counts(label_array(table, mapping))
    pairs = zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist())
    return sorted(((str(v), int(c)) for v, c in pairs), key=lambda pair: (-pair[1], pair[0]))


def complete_rows(texts: pa.ChunkedArray, labels: pa.ChunkedArray) -> pa.ChunkedArray:
    """True for rows with a non-blank text and a label: the one rule behind "leave out
    incomplete rows" (``validate(..., skip_incomplete=True)`` reports the others as warnings)."""
    return pc.and_(pc.not_equal(pc.utf8_trim_whitespace(texts), ""), pc.not_equal(labels, ""))


def drop_incomplete(table: pa.Table, mapping: ColumnMapping) -> pa.Table:
    """``table`` without the rows ``complete_rows`` rejects (unchanged without a label column)."""
    if mapping.label_column is None:
        return table
    return table.filter(complete_rows(text_array(table, mapping), label_array(table, mapping)))


def texts_and_labels(
    table: pa.Table, mapping: ColumnMapping, *, skip_incomplete: bool = False
) -> tuple[list[str], list[str]]:
    """The texts and their labels as Python lists, row for row.

    With ``skip_incomplete`` rows whose text is blank or whose label is missing are left out
    (``complete_rows``).
    """
    texts = text_array(table, mapping)
    labels = label_array(table, mapping)
    if skip_incomplete:
        keep = complete_rows(texts, labels)
        texts, labels = texts.filter(keep), labels.filter(keep)
    return texts.to_pylist(), labels.to_pylist()


# Words in a column's name that say it names a person (or their account): a hint for DP per
# person (``--dp-person-column``), never chosen for the user.
PERSON_NAMES = (
    "customer", "client", "patient", "user", "person", "member", "account", "author", "sender",
    "employee", "student", "subscriber", "consumer", "caller", "owner", "email", "phone", "userid",
    "customerid", "patientid", "clientid", "accountid", "memberid",
    "kunde", "kundennummer", "kundenid", "ansprechpartner", "mitarbeiter", "nutzer", "benutzer",
    "absender", "utilisateur", "expediteur", "numeroclient", "cliente", "usuario", "paciente",
    # An insurer's, a hospital's, a bank's words in French, German, Italian, Polish, Turkish.
    "assure", "assuree", "versicherte", "versicherter", "patientin", "paziente", "assicurato",
    "utente", "titular", "klient", "pacjent", "musteri", "abone",
)


_MIN_PEOPLE = 10  # fewer people than this cannot train with DP anyway


def person_values(table: pa.Table, column: str) -> pa.ChunkedArray:
    """A column's values as trimmed text, "" where a cell is empty: who each row is about."""
    return pc.fill_null(pc.utf8_trim_whitespace(pc.cast(table.column(column), pa.string())), "")


def person_column_candidates(table: pa.Table, mapping: ColumnMapping) -> list[tuple[str, int]]:
    """Columns, other than the text and the label, whose name says they name a person and whose
    values repeat (someone has several rows): ``(column, distinct values)``, most rows per
    person first. With several rows per person, DP per row protects each person less."""
    found = []
    for name in table.column_names:
        if name in mapping.text_columns or name == mapping.label_column:
            continue
        if name_score(name, PERSON_NAMES)[0] == 0:
            continue
        values = person_values(table, name)
        filled = values.filter(pc.not_equal(values, ""))
        people = pc.count_distinct(filled).as_py()
        # An id has many values that repeat; a yes/no "Consumer disputed?" or a four-value
        # "Consumer consent provided?" column (the CFPB export) has a handful.
        if max(_MIN_PEOPLE, 0.02 * len(filled)) <= people < len(filled):
            found.append((name, int(people), len(filled) / people))
    return [(name, people) for name, people, _ in sorted(found, key=lambda f: -f[2])]

