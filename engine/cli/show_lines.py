"""How `cloister show` says a dataset's rows, its blocking problems and what was done about its
personal data, and what `import --replace` replaced (kept apart from the workspace commands,
which are long enough)."""
from __future__ import annotations

from typing import Any

from engine.errors import InputError
from engine.units import count_of

_SHOW_WIDTH = 100  # characters of a text shown on its line


def whole(value: Any) -> str:
    """A cell as it is, on one line (a line break shown as ⏎): for ``show --full``."""
    return "" if value is None else "⏎".join(str(value).splitlines())


def one_line(text: str, width: int = _SHOW_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def blocking_lines(ds: Any) -> list[str]:
    """A stored dataset's blocking problems, checked again, each with the flag that fixes it
    (``cloister fix`` takes the import's fix flags)."""
    from engine.cli.inspect_cmd import problem_lines
    from engine.data.validation import validate

    info = ds.info
    problems = [p for p in validate(ds.as_imported(), info.mapping,
                                    skip_incomplete=info.skip_incomplete,
                                    label_delimiter=info.label_delimiter) if p.blocking]
    return problem_lines(problems, source=info.source_name, listed_by="")


def review_line(review: tuple[str, dict[str, Any]] | None, name: str) -> str:
    """What the audit log says was done about personal data in a dataset's current contents,
    with the commands for the dataset ``name`` (runnable as printed)."""
    import shlex

    quoted = shlex.quote(name)
    if review is None:
        return f"never scanned; `cloister scan {quoted}` finds it, `cloister anonymize` removes it"
    action, details = review
    found = ", ".join(f"{kind} {count:,}" for kind, count in sorted(details.get("findings", {}).items()))
    # `cloister fix` or `forget` dropped rows since the counts were made
    older = (f"; counted before the rows were fixed or erased: `cloister scan {quoted}` counts again"
             if details.get("counted_before_fix") else "")
    if action == "dataset.scanned":
        return f"scanned, not anonymized (found: {found or 'nothing'}){older}"
    source = details.get("policy_source") or "a policy"
    line = f"anonymized under {source} (found: {found or 'nothing'}; the policy says what was kept)"
    if "rescan" in details:  # scanned again since: what the policy kept, or the detectors still see
        again = ", ".join(f"{kind} {count:,}" for kind, count in sorted(details["rescan"].items()))
        line += f"; scanned since, found: {again or 'nothing'}"
    return line + older


def what_is_replaced(ws: Any, name: str) -> tuple[str, list[Any]] | None:
    """What `import --replace` takes the place of (it said only "Imported"): the earlier
    import's rows and file, and the runs on it; None when there is no such dataset."""
    from engine.data.store import DatasetDamaged, dataset_info
    from engine.runs import runs_on

    try:
        old = dataset_info(ws, name)
    except DatasetDamaged:
        return f"It replaces the earlier import of {name!r}, which could not be read.", []
    except InputError:  # no such dataset: nothing is replaced
        return None
    return (f"It replaces the earlier import of {name!r}: {old.rows:,} rows from "
            f"{old.source_name}, imported {old.created:%Y-%m-%d %H:%M} UTC.", runs_on(ws, name))


def replaced_line(ws: Any, name: str, said: str, runs: list[Any]) -> str:
    """``said``, and what became of the runs on the replaced rows: kept, and listed under the
    name they show now ("toy (an earlier import)"; the same rows imported again keep theirs)."""
    from engine.runs import datasets_named_now

    if not runs:
        return said
    named = datasets_named_now(ws, runs)
    shown = sorted({named.get(r.run_id, r.dataset) for r in runs})
    return (f"{said} {count_of(len(runs), 'run')} trained on it {'is' if len(runs) == 1 else 'are'} "
            f"kept; `cloister runs` lists {'it' if len(runs) == 1 else 'them'} under "
            f"{', '.join(repr(n) for n in shown)}.")
