"""Carrying out an erasure request planned by ``engine.erasure.plan_erasure``: each dataset
stored again without the person's rows, their pairs out of the mappings and their quotes out of
the test reports, the runs trained on them deleted where asked, and one audit entry for it all.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.data.store import ANONYMIZED_FROM
from engine.erasure import WITHHELD_SOURCE, ErasurePlan
from engine.erasure_guard import check_side_digests
from engine.erasure_traces import mapping_writer, report_quotes
from engine.erasure_words import check_reference
from engine.errors import InputError
from engine.units import count_of
from engine.vault import Vault


@dataclass(frozen=True)
class ErasureDone:
    rows: dict[str, int]  # dataset -> rows removed
    runs_deleted: tuple[str, ...]
    pseudonyms: int
    quotes: int  # quoted rows taken out of test reports
    blocking: dict[str, list[str]]  # dataset -> problems that now block training on it


def carry_out(ws: Vault, plan: ErasurePlan, *, delete_runs: bool = False, force: bool = False,
              reference: str | None = None, said: Callable[[str], None] = lambda _line: None,
              started: Callable[[], None] = lambda: None) -> ErasureDone:
    """What ``_carry_out`` does, holding the workspace's dataset-write lock from the check that
    the datasets are as searched to the last save: a fix or import stored meanwhile by another
    window or command cannot put back rows this erasure removed. Tables an earlier crash left
    unnamed (possibly holding the person's rows) are removed at the end. ``started``: called
    once the checks pass, before the first change."""
    from engine.data.dataset_writes import sweep_orphan_tables, writing_datasets

    with writing_datasets(ws):
        done = _carry_out(ws, plan, delete_runs=delete_runs, force=force, reference=reference,
                          said=said, started=started)
        try:  # housekeeping after a finished erasure: never said as its failure
            sweep_orphan_tables(ws)
        except Exception:  # noqa: BLE001 - the next save sweeps again
            pass
    return done


def _carry_out(ws: Vault, plan: ErasurePlan, *, delete_runs: bool, force: bool,
               reference: str | None, said: Callable[[str], None],
               started: Callable[[], None]) -> ErasureDone:
    """Delete the runs trained on the person's rows (with ``delete_runs``), take their quotes
    out of test reports, then store each affected dataset again without the rows (and its
    mapping without their pseudonyms).

    Refused before anything changes when every row of a dataset is about the person (delete the
    dataset instead), a value matches too many rows to be about one person (unless ``force``),
    a dataset changed since the search, or a run to delete is being trained. The runs go first:
    a failure after them leaves rows that the same request, run again, still finds, while the
    other order would leave runs that no search leads to any more. Each dataset is replaced
    atomically."""
    from engine.data.problems import has_blocking
    from engine.data.reidentify import mapping_expected
    from engine.data.store import dataset_info, save_dataset
    from engine.data.validation import validate
    from engine.evaluation.report import save_report
    from engine.runs import check_deletable, delete_run

    refused = plan.refusal(force=force)
    if refused:
        raise InputError(refused)
    check_reference(reference, plan.values)
    for part in plan.affected:  # another window or command may have changed one meanwhile
        if dataset_info(ws, part.name).sha256 != part.sha256:
            raise InputError(f"dataset {part.name!r} changed since it was searched (nothing was "
                             "changed): search again")
    check_side_digests(ws, plan.side)  # and what is written back besides the tables
    started()
    runs = plan.runs if delete_runs else []
    check_deletable(ws, runs, how="`cloister rm-run RUN --force`")
    deleted = []
    for record in runs:
        delete_run(ws, record.run_id)
        deleted.append(record.run_id)
        said(f"deleted run {record.run_id} (its model, report and checkpoint)")
    quotes = 0
    for quoted in plan.reports:
        if quoted.run_id not in deleted:
            save_report(ws, quoted.run_id, quoted.report)
            quotes += quoted.quotes
            said(f"took {count_of(quoted.quotes, 'quoted row')} out of run {quoted.run_id}'s "
                 "test report")
    done: dict[str, int] = {}
    blocking: dict[str, list[str]] = {}
    for part in plan.affected:
        stored, info = part.stored, part.stored.info
        if not part.removed:  # only its mapping named them
            mapping_writer(ws, part.mapping_left)(info)
            said(f"took {count_of(part.pseudonyms, 'pair')} naming them out of the mapping of "
                 f"{info.name!r}")
            continue
        imported = replace(stored.as_imported(), table=stored.table.filter(pa.array(~part.remove)),
                           problems=())
        if part.source_named:  # "Complaints_Klaus_Mueller.csv" would outlive his rows
            imported = replace(imported, source=Path(WITHHELD_SOURCE))
        problems: list[Any] = [line for line in info.problems if line.startswith(ANONYMIZED_FROM)]
        found = validate(imported, info.mapping, skip_incomplete=info.skip_incomplete,
                         label_delimiter=info.label_delimiter)
        problems += found
        step = {"kind": "forget", "rows_removed": part.removed, "rows_changed": 0,
                "description": f"removed {count_of(part.removed, 'row')} about a person who asked "
                               "to be forgotten (the values searched for are not kept)"}
        save_dataset(ws, info.name, imported, info.mapping, problems=problems, overwrite=True,
                     skip_incomplete=info.skip_incomplete, history=(*info.history, step),
                     history_audited=len(info.history), label_delimiter=info.label_delimiter,
                     after_commit=mapping_writer(ws, part.mapping_left),
                     expects_mapping=part.mapping_left is not None or mapping_expected(ws, info.name),
                     fixed_from=info.name, created=info.created)
        done[info.name] = part.removed
        if has_blocking(found):
            blocking[info.name] = [str(p) for p in found if p.blocking]
        said(f"removed {count_of(part.removed, 'row')} from {info.name!r}"
             + (f" and {count_of(part.pseudonyms, 'pair')} naming them from its mapping"
                if part.pseudonyms else ""))
    pseudonyms = sum(d.pseudonyms for d in plan.affected)
    # The runs left holding the rows are named too: an erasure file rebuilt from the log must
    # show that a model may still remember them.
    kept = [r.run_id for r in plan.runs if r.run_id not in deleted]
    ws.audit_names("person.forgotten", datasets=done, runs_deleted=deleted, runs_kept=kept,
             pseudonyms=pseudonyms, report_quotes=quotes,
             **({"datasets_unsearched": [n for n, _ in plan.damaged]} if plan.damaged else {}),
             **({"reference": reference} if reference else {}))
    return ErasureDone(rows=done, runs_deleted=tuple(deleted), pseudonyms=pseudonyms,
                       quotes=quotes, blocking=blocking)

