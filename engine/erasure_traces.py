"""What else holds a person besides the rows that name them (``engine.erasure``): the pairs of a
reversible mapping, the pseudonyms the workspace's key gives their values (which one-way
anonymized copies hold), the rows test reports quote, and the audit log's entries.

The pseudonym key is one per workspace (``privacy.pii.secret``), so "Jane Doe" has the same
surrogate in every anonymized copy, with or without a mapping: computing it finds her rows in
a one-way copy too. Only full names, addresses and numbers are computed so: a one-word name's
surrogate is one common name, which other people's rows hold as well.
"""
from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.formula_cells import as_text
from engine.data.person_match import column_matches, labels_naming
from engine.errors import InputError, refuse_odd_output
from engine.vault import Vault


def split_mapping(mapping: dict[str, Any], values: Sequence[str], whole_cells: bool
                  ) -> tuple[dict[str, list[str]], int, list[str], dict[str, Any]]:
    """For each value, the surrogates of a reversible mapping that stand for it (and for no one
    else); how many pairs name the person; the surrogates that stand for someone else too; and
    the mapping without the person's pairs and without those shared entries (kept, a shared one
    would lead back to the other person alone, also where it stood for this one; its rows are
    not searched). One match per value over every original, whatever the mapping's size."""
    owners = [s for s, entries in mapping["pairs"].items() for _ in entries]
    originals = pa.array([o for entries in mapping["pairs"].values() for _e, o in entries],
                         pa.string())
    hits = {v: column_matches(originals, v, whole_cells=whole_cells) for v in values}
    naming = np.logical_or.reduce(list(hits.values())) if hits else np.zeros(len(owners), bool)
    named_in: dict[str, list[bool]] = {}
    for owner, hit in zip(owners, naming):
        named_in.setdefault(owner, []).append(bool(hit))
    alone = {s for s, flags in named_in.items() if all(flags)}
    shared = [s for s, flags in named_in.items() if any(flags) and not all(flags)]
    per_value = {v: list(dict.fromkeys(o for o, h in zip(owners, hit) if h and o in alone))
                 for v, hit in hits.items()}
    kept = {s: e for s, e in mapping["pairs"].items() if not any(named_in[s])}
    return per_value, int(naming.sum()), shared, {**mapping, "pairs": kept}


def name_pair_columns(table: pa.Table, policy: Any, skip: Sequence[str]
                      ) -> tuple[tuple[str, str], bool] | None:
    """A copy's first- and last-name columns where its policy pseudonymized both cell by cell
    (a ``[columns]`` rule each), and whether both rules kept the mapping: only there does a
    person stand as their words' pseudonyms. A copy that kept those columns holds real names,
    which a pair of pseudonyms may match (a real Pamela Mcknight is not Olu Adeyemi)."""
    from engine.data.person_match import name_columns

    found = name_columns(table, [c for c in table.column_names if c not in skip]) \
        if policy is not None else None
    if found is None:
        return None
    rules = [policy.columns.get(column) for column in found]
    if not all(r is not None and r.operator.action == "pseudonym" for r in rules):
        return None
    return found, all(r.operator.params.get("reversible") is True for r in rules)


def _name_splits(value: str) -> list[tuple[str, str]]:
    """A full name's first and last parts, split at each space ("Mary Ann Smith": two ways);
    nothing for what is no name (a phone, an address, "Dr Olu Adeyemi" keeps its title out)."""
    if not _NAME.fullmatch(value):
        return []
    words = value.split()
    return [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]


_NAME = re.compile(r"[^\W\d_]+(?:[ '\-.]+[^\W\d_]+)+\.?")


def mapped_name_pairs(mapping: dict[str, Any], values: Sequence[str]
                      ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Each full name's parts as a reversible mapping pseudonymized them one by one ("Olu" and
    "Adeyemi" as ("Small", "Randall")): the pairs of pseudonyms that stand for those parts
    alone (the person's), and those where a part's pseudonym also stands for someone else's
    name (a one-word pseudonym is one of a few hundred: "Olu" and "Margarethe" may share
    one), whose rows may be about either and are only said."""
    sure: list[tuple[str, str]] = []
    maybe: list[tuple[str, str]] = []
    for value in values:
        for left, right in _name_splits(value):
            first_alone, _, first_shared, _ = split_mapping(mapping, [left], True)
            if not first_alone[left] and not first_shared:
                continue
            last_alone, _, last_shared, _ = split_mapping(mapping, [right], True)
            firsts, lasts = first_alone[left], last_alone[right]
            sure += [(f, s) for f in firsts for s in lasts]
            maybe += [(f, s) for f in [*firsts, *first_shared] for s in [*lasts, *last_shared]
                      if f not in firsts or s not in lasts]
    return sure, maybe


def computed_name_pairs(ws: Vault, values: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Each full name's parts as this workspace's key pseudonymizes them one by one, as names:
    what a one-way copy's name columns hold for the person, and for others too (a one-word
    pseudonym is one of a few hundred names: with the same first name, one other surname in a
    thousand gives the same pair), so rows found so are only said, never removed."""
    pseudonymizer = _key_pseudonymizer(ws)
    if pseudonymizer is None:
        return {}
    return {value: [(pseudonymizer.surrogate("PERSON", left), pseudonymizer.surrogate("PERSON", right))
                    for left, right in _name_splits(value)] for value in values}


def _key_pseudonymizer(ws: Vault) -> Any:
    """The workspace key's pseudonymizer, or None before a first anonymization made the key
    (an erasure must not create one)."""
    from privacy.pii.pseudonym import Pseudonymizer
    from privacy.pii.secret import SECRET_KEY

    return Pseudonymizer(ws.read_bytes(SECRET_KEY)) if ws.has(SECRET_KEY) else None


def rows_with_name_pairs(table: pa.Table, columns: tuple[str, str],
                         pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    from engine.data.person_match import rows_with_names

    hit = np.zeros(table.num_rows, dtype=bool)
    for first, last in dict.fromkeys(pairs):
        hit |= rows_with_names(table, columns, first, last)
    return hit


def without_removed_rows(mapping: dict[str, Any], removed: pa.Table, kept: pa.Table
                         ) -> tuple[dict[str, Any], int]:
    """``mapping`` without the entries whose surrogate stands only in ``removed`` rows: their
    originals ("K. Mueller", a phone number written once) came from those rows alone, and
    would outlive them there. Also how many entries went. A surrogate counts where it stands
    as a whole ("Guy" is not in "Guyana")."""
    blob = "\n".join(str(cell) for column in removed.columns for cell in column.to_pylist()
                     if cell is not None)
    candidates = [s for s in mapping["pairs"] if s in blob]
    still = _standing_in(candidates, kept)
    gone = [s for s in candidates if s not in still]
    pairs = {s: e for s, e in mapping["pairs"].items() if s not in gone}
    return {**mapping, "pairs": pairs}, len(gone)


def _standing_in(surrogates: Sequence[str], table: pa.Table, chunk: int = 200) -> set[str]:
    """Which of ``surrogates`` stand as a whole in a cell of ``table``: one pass over the table
    for each ``chunk`` of them, then a look at the few rows that hold any."""
    texts = [c for c in (_text_column(column) for column in table.columns) if c is not None]
    found: set[str] = set()
    for start in range(0, len(surrogates), chunk):
        part = list(surrogates[start:start + chunk])
        alternation = "|".join(re.escape(s) for s in sorted(part, key=len, reverse=True))
        pattern = rf"(?:^|[^\pL\pN_])(?:{alternation})(?:$|[^\pL\pN_])"
        for column in texts:
            rows = pc.match_substring_regex(column, pattern)
            for cell in column.filter(pc.fill_null(rows, False)).to_pylist():
                found.update(s for s in part if re.search(
                    rf"(?<![^\W_]){re.escape(s)}(?![^\W_])", cell))
    return found


def _text_column(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def computed_surrogates(ws: Vault, values: Sequence[str],
                        spellings: dict[str, set[str]] | None = None) -> dict[str, list[tuple[str, str]]]:
    """For each value, the pseudonyms this workspace's key gives it, and the ``spellings`` it
    was found in ("Hans Mueller" for "Hans Müller"), as the types they could have been
    anonymized as (none before a first anonymization made the key): (type, pseudonym) pairs,
    so that a copy is searched only for the kinds its policy replaced."""
    pseudonymizer = _key_pseudonymizer(ws)
    if pseudonymizer is None:
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for value in values:
        found = [s for value_spelt in sorted((spellings or {}).get(value, {value}) | {value})
                 for s in _surrogates_of(pseudonymizer, value_spelt)]
        out[value] = list(dict.fromkeys(found))
    return out


def _surrogates_of(pseudonymizer: Any, value: str) -> list[tuple[str, str]]:
    from privacy.pii import detect

    types = {"ID"} if any(c.isdigit() for c in value) else set()
    found = detect(value)
    if len(found) == 1 and found[0].length >= 0.9 * len(value):
        types.add(found[0].type)
    # Only a full name: a one-word name's surrogate is one common name that stands for many
    # ("Aaron", "Guy" and "Harris" may all be "Blake").
    types -= {"PERSON", "LOCATION", "ORGANIZATION"}
    if len(value.split()) >= 2 and re.fullmatch(r"[^\W\d_]+(?:[ '\-.]+[^\W\d_]+)+\.?", value):
        types.add("PERSON")
    pairs = ((t, pseudonymizer.surrogate(t, value)) for t in sorted(types))
    return [(t, s) for t, s in pairs if len(s) >= 5]


@dataclass
class ReportQuotes:
    """A run's test report quoting rows about the person: those quotes leave the report."""

    run_id: str
    quotes: int
    report: Any = None  # the report without them, to store


def report_quotes(ws: Vault, *, values: Sequence[str], removed_texts: set[str],
                  run_ids: set[str] | None, match_all: bool) -> list[ReportQuotes]:
    """The runs whose stored test report quotes one of ``removed_texts`` (the rows being
    removed, as trained on), or (with ``values``) a text naming the person, in the runs of
    ``run_ids`` (every run when None); each with its report without those quotes."""
    from engine.evaluation.report import load_report, report_key
    from engine.runs import stored_run_ids

    found = []
    # Every stored report, a run whose record is damaged included: its report still quotes rows.
    for run_id in stored_run_ids(ws):
        if not ws.has(report_key(run_id)):
            continue
        report = load_report(ws, run_id)
        quoted = [m.text or "" for m in report.misclassified]
        hit = np.array([text in removed_texts for text in quoted], dtype=bool)
        if values and (run_ids is None or run_id in run_ids):
            texts = pa.array(quoted, pa.string())
            named = [column_matches(texts, value) for value in values]
            hit |= np.logical_and.reduce(named) if match_all else np.logical_or.reduce(named)
        if hit.any():
            left = tuple(m for m, gone in zip(report.misclassified, hit) if not gone)
            found.append(ReportQuotes(run_id, int(hit.sum()),
                                      replace(report, misclassified=left)))
    return found


def audit_mentions(ws: Vault, values: Sequence[str]) -> int:
    """How many audit entries name the person (a file or dataset named after them, a policy's
    deny-list): the log is chained, to prove nothing was taken out, so they cannot go."""
    verify = getattr(ws, "verify_audit", None)
    if verify is None:
        return 0
    details = [json.dumps(entry.details, ensure_ascii=False) for entry in verify().entries]
    if not details:
        return 0
    return int(labels_naming(details, values).sum())


def export_rows(parts: Sequence[Any], path: Path, *, overwrite: bool = True) -> int:
    """Write every row found, all its columns, to ``path`` (CSV, UTF-8 with a BOM for Excel,
    readable by its owner only): what a request for access to one's data asks for. Returns how
    many rows. A cell that a spreadsheet would run as a formula is written with a leading
    apostrophe, as Excel itself marks text. ``overwrite=False`` (the command line's): a file
    that has the name by the time it is written is refused, never overwritten."""
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    for part in parts:
        if part.stored is None or not part.removed:
            continue
        table = part.stored.table.filter(pa.array(part.remove))
        numbers = np.flatnonzero(part.remove) + 1
        columns += [c for c in table.column_names if c not in columns]
        for number, row in zip(numbers, table.to_pylist()):
            rows.append({EXPORT_DATASET: as_text(part.name), EXPORT_ROW: int(number),
                         **{k: as_text(v) for k, v in row.items()}})
    # A link (a dangling one too) was written through, to wherever it pointed; a file the app's
    # dialog lets the user replace keeps its own mode unless it is set here.
    refuse_odd_output(path, flag="the file for the rows found")
    try:
        # Made the owner's before anything is cut: a file whose mode cannot be set (another
        # user's) is left as it was.
        # Without ``overwrite`` the name is taken exclusively: a check for it before the
        # search let another command's file come meanwhile and be overwritten.
        exclusive = 0 if overwrite else os.O_EXCL
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | exclusive | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            os.ftruncate(fd, 0)
        except OSError:
            os.close(fd)
            raise
        with open(fd, "w", newline="", encoding="utf-8-sig") as handle:
            fields = [EXPORT_DATASET, EXPORT_ROW, *columns]
            csv.writer(handle).writerow([as_text(name) for name in fields])  # names are cells too
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writerows(rows)
    except FileExistsError:
        raise InputError(f"{path} exists: choose another file for the rows found (it is not "
                         "overwritten)") from None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(rows)


# Headers no imported column has (an import names columns as the file does; these two are
# added), so a column called "dataset" or "row" keeps its own.
EXPORT_DATASET = "[dataset]"
EXPORT_ROW = "[row]"


def clean_copy_advice(part: Any) -> str:
    """How to get a copy without a row that could not be told apart (``DatasetErasure``): make
    it again from its source once the erasure is done."""
    if part.anonymized_from:
        return f"delete {part.name} and anonymize {part.anonymized_from} again afterwards"
    return (f"delete {part.name} and import its file again, with the same anonymization, once "
            "the person's rows are out of it")


def mapping_writer(ws: Vault, mapping: dict[str, Any] | None) -> Callable[[Any], None]:
    """What writes a dataset's mapping left after an erasure (``after_commit``), or nothing."""
    from engine.data.reidentify import save_pseudonym_map
    from privacy.pii.reversible import PseudonymMap

    def write(saved: Any) -> None:
        if mapping is not None:
            save_pseudonym_map(ws, saved.name, PseudonymMap.from_json(mapping))
    return write
