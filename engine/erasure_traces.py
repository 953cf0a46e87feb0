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
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.person_match import column_matches, labels_naming
from engine.errors import InputError
from engine.vault import Vault


def split_mapping(mapping: dict[str, Any], values: Sequence[str], whole_cells: bool
                  ) -> tuple[list[str], int, list[str], dict[str, Any]]:
    """The surrogates of a reversible mapping that stand for ``values`` alone, how many pairs
    name the person, the surrogates that stand for someone else too, and the mapping without
    the person's pairs and without those shared entries (kept, a shared one would lead back to
    the other person alone, also where it stood for this one; its rows are not searched)."""
    surrogates: list[str] = []
    shared: list[str] = []
    named = 0
    kept: dict[str, list[list[str]]] = {}
    for surrogate, entries in mapping["pairs"].items():
        originals = pa.array([original for _entity, original in entries], pa.string())
        hit = np.zeros(len(entries), dtype=bool)
        for value in values:
            hit |= column_matches(originals, value, whole_cells=whole_cells)
        named += int(hit.sum())
        if not hit.any():
            kept[surrogate] = entries
        elif hit.all():
            surrogates.append(surrogate)
        else:
            shared.append(surrogate)
    return surrogates, named, shared, {**mapping, "pairs": kept}


def without_removed_rows(mapping: dict[str, Any], removed: pa.Table, kept: pa.Table
                         ) -> tuple[dict[str, Any], int]:
    """``mapping`` without the entries whose surrogate stands only in ``removed`` rows: their
    originals ("K. Mueller", a phone number written once) came from those rows alone, and
    would outlive them there. Also how many entries went."""
    blob = "\n".join(str(cell) for column in removed.columns for cell in column.to_pylist()
                     if cell is not None)
    candidates = [s for s in mapping["pairs"] if s in blob]
    columns = [pc.cast(column, pa.string()) for column in kept.columns if _castable(column)]
    gone = [s for s in candidates
            if not any(pc.any(pc.match_substring(column, s)).as_py() for column in columns)]
    pairs = {s: e for s, e in mapping["pairs"].items() if s not in gone}
    return {**mapping, "pairs": pairs}, len(gone)


def _castable(column: pa.ChunkedArray) -> bool:
    return pa.types.is_string(column.type) or pa.types.is_large_string(column.type) \
        or pa.types.is_integer(column.type)


def computed_surrogates(ws: Vault, values: Sequence[str]) -> list[str]:
    """The pseudonyms this workspace's key gives ``values`` as the types they could have been
    anonymized as (none before a first anonymization made the key)."""
    from privacy.pii import detect
    from privacy.pii.pseudonym import Pseudonymizer
    from privacy.pii.secret import SECRET_KEY

    if not ws.has(SECRET_KEY):
        return []
    pseudonymizer = Pseudonymizer(ws.read_bytes(SECRET_KEY))
    out: list[str] = []
    for value in values:
        types = {"ID"} if any(c.isdigit() for c in value) else set()
        found = detect(value)
        if len(found) == 1 and found[0].length >= 0.9 * len(value):
            types.add(found[0].type)
        if len(value.split()) >= 2 and re.fullmatch(r"[^\W\d_]+(?:[ '\-.]+[^\W\d_]+)+\.?", value):
            types.add("PERSON")  # a full name: its surrogate is a full name too
        types.discard("LOCATION")  # a place's surrogate is a made-up town others share
        out += [pseudonymizer.surrogate(entity, value) for entity in sorted(types)]
    return list(dict.fromkeys(s for s in out if len(s) >= 5))


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
    from engine.runs import list_runs

    found = []
    for record in list_runs(ws):
        if not ws.has(report_key(record.run_id)):
            continue
        report = load_report(ws, record.run_id)
        quoted = [m.text or "" for m in report.misclassified]
        hit = np.array([text in removed_texts for text in quoted], dtype=bool)
        if values and (run_ids is None or record.run_id in run_ids):
            texts = pa.array(quoted, pa.string())
            named = [column_matches(texts, value) for value in values]
            hit |= np.logical_and.reduce(named) if match_all else np.logical_or.reduce(named)
        if hit.any():
            left = tuple(m for m, gone in zip(report.misclassified, hit) if not gone)
            found.append(ReportQuotes(record.run_id, int(hit.sum()),
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


def export_rows(parts: Sequence[Any], path: Path) -> int:
    """Write every row found, all its columns, to ``path`` (CSV, UTF-8 with a BOM for Excel):
    what a request for access to one's data asks for. Returns how many rows."""
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    for part in parts:
        if part.stored is None or not part.removed:
            continue
        table = part.stored.table.filter(pa.array(part.remove))
        numbers = np.flatnonzero(part.remove) + 1
        for name in table.column_names:
            if name not in columns:
                columns.append(name)
        for number, row in zip(numbers, table.to_pylist()):
            rows.append({"dataset": part.name, "row": int(number), **row})
    try:
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.DictWriter(handle, fieldnames=["dataset", "row", *columns])
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(rows)
