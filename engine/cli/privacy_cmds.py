"""Personal-data commands: scan, anonymize, reidentify (and ``import --anonymize``, wired in
vault_cmds).

``scan`` reads a file (no workspace needed) or a stored dataset and reports what personal data
it holds: counts per entity type and column, examples with the value masked, the share of text
a policy would change, and proposed identifier columns. It prints masked examples only, never
a found value. ``anonymize`` writes a new dataset; the original stays until the user deletes it.
``reidentify`` turns the surrogates in a text back into the originals, for a dataset anonymized
with reversible pseudonyms: it is the one command that prints personal data, on request.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from engine.cli.common import add_workspace_options, open_workspace
from engine.cli.forget_cmd import register_forget
from engine.errors import InputError
from engine.units import count_of
from privacy.text_files import read_typed_text

EXIT_OK = 0


def _policy(path: Path | None, names: str | None = None):
    """The policy file's policy (or the defaults), with ``--names`` overriding its ``names``."""
    from privacy.pii.policy import Policy, load_policy

    policy = load_policy(path) if path is not None else (Policy() if names else None)
    if names is not None and policy is not None:
        policy.names = names
    return policy


def _progress(policy):
    """A progress line on stderr for a scan that takes a while: the name model reads ~90 rows a
    second, and the rules alone took three silent minutes on 800,000 rows. Said from the start
    with the name model; with the rules, once two seconds have gone by (a small table says
    nothing)."""
    import time

    # No policy: the default one, whose names come from the rules.
    names = "rules" if policy is None else policy.names
    started, what = time.monotonic(), "name model" if names != "rules" else "scanning"
    shown = what != "scanning"  # the name model is slow from the first row

    live = sys.stderr.isatty()
    said_at = 0.0

    def show(done: int, total: int) -> None:
        nonlocal shown, said_at
        now = time.monotonic()
        if not shown and now - started < 2.0:
            return
        shown = True
        if live:
            print(f"\r  {what}: {done:,}/{total:,} rows", end="\n" if done == total else "",
                  file=sys.stderr, flush=True)
        elif done == total or now - said_at >= 10:
            # Into a log: a line every ten seconds and one at the end, not one per row.
            said_at = now
            print(f"  {what}: {done:,}/{total:,} rows", file=sys.stderr, flush=True)
    return show


def print_report(report, *, as_json: bool, what: str, policy=None, applied: bool = False) -> None:
    """The findings by type, with what ``policy`` does to each (a type it keeps was listed
    like the replaced ones, after a message that the originals were not stored); ``applied``:
    the text was changed, not only scanned."""
    actions = {entity: policy.operator_for(entity).action for entity in report.counts} if policy else {}
    if as_json:
        print(json.dumps({"source": what, **report.to_json(),
                          **({"actions": actions} if actions else {})}, ensure_ascii=False, indent=2))
        return
    print(f"{what}: {report.rows:,} rows; scanned columns: "
          f"{', '.join(report.columns_scanned) or '(none)'}")
    if not report.counts:
        print("  No personal data found by the detectors (they can miss names they do not know).")
    else:
        width = max(len(t) for t in report.counts)
        act = max((len(a) for a in actions.values()), default=0)
        act = max(act, len("ACTION")) if actions else 0
        head = f"{'ACTION':<{act}}  " if actions else ""
        print(f"  {'TYPE':<{width}}  {'COUNT':>7}  {head}BY COLUMN; EXAMPLES (masked)")
        for entity, count in report.counts.most_common():
            columns = ", ".join(f"{c} {n[entity]:,}" for c, n in report.by_column.items()
                                if n.get(entity))
            examples = " | ".join(report.examples.get(entity, []))
            action = f"{actions[entity]:<{act}}  " if actions else ""
            print(f"  {entity:<{width}}  {count:>7,}  {action}{columns}; {examples}")
    print(f"  Share of the scanned text {'changed' if applied else 'that would change'}: "
          f"{report.share_changed:.2%} ({report.cells_changed:,} cells)")
    warning = report.coverage_warning()
    if warning:
        print(f"cloister: warning: {warning}.", file=sys.stderr)
    unread = report.unread_warning()  # "unknown" in a date column: tagged, said by row
    if unread:
        print(f"cloister: warning: {unread}.", file=sys.stderr)
    for p in report.proposals:
        print(f"  Proposed identifier column {p.column!r}: {p.entity}, action {p.action} "
              f"({p.reason})")


def _warn_identifiers_kept(report) -> None:
    """After anonymizing: the columns the scan takes for identifiers that the policy does not
    name were stored as they were. Said on stderr, after the copy is made, so that the user
    does not mistake "anonymized" for "every identifier handled"."""
    # A proposed column that the detectors scanned may have had every value replaced anyway
    # (addresses under "E-Mail"): only values left as written are worth the warning.
    kept = []
    for p in report.proposals:
        left, filled = report.kept_as_written(p.column), report.filled_by_column[p.column]
        if p.column in report.columns_scanned and filled and left == 0:
            continue
        share = (f"; {left:,} of {filled:,} values as written" if p.column in report.columns_scanned
                 and 0 < left < filled else "")
        kept.append((p, f"{p.column!r} ({p.entity}, {p.action} proposed{share})"))
    if not kept:
        return
    listed = ", ".join(text for _, text in kept)
    example = kept[0][0]
    print(f"cloister: warning: kept as they were, because the policy does not name them: {listed}. "
          f"These columns look like identifiers; name each under [columns] in the policy (for "
          f"example \"{example.column}\" = \"{example.action}\", or = \"keep\" to keep it on "
          "purpose) and anonymize again.", file=sys.stderr)


def _warn_values_left_in_text(report) -> None:  # noqa: ANN001 - a ScanReport
    """A column the policy replaced whose values the texts still hold as written: the detectors
    do not know a customer number, and beside its pseudonym it links the two."""
    left = report.values_left_in_text
    if not left:
        return
    listed = ", ".join(f"{column!r} in {count:,} row{'s' * (count != 1)}"
                       for column, count in sorted(left.items()))
    print(f"cloister: warning: the texts still hold, as written, values of columns the policy "
          f"replaced ({listed}): beside the pseudonyms they link them back to the person. Add "
          "their format under [[patterns]] in the policy (for example entity = \"CUSTOMER_ID\", "
          "regex = 'CUST-\\d{6}') and anonymize again.", file=sys.stderr)


def _say_mapping_kept(policy, name: str) -> None:
    if policy.reversible:
        print(f"The reversible pseudonyms' mapping to the original values is kept, encrypted, with "
              f"dataset {name!r}: `cloister reidentify {shlex.quote(name)} TEXT` reverses them, and "
              f"`cloister rm {shlex.quote(name)}` deletes it with the dataset.")


def cmd_scan(args: argparse.Namespace) -> int:
    from engine.data.anonymize import scan_dataset, scan_table

    policy = _policy(args.policy, args.names)
    target = Path(args.target)
    if target.exists():
        from engine.data.columns import ColumnMapping
        from engine.data.importing import read_table

        imported = read_table(target)
        mapping = ColumnMapping.choose(imported)
        report = scan_table(imported.table, policy, label_column=mapping.label_column,
                            progress=_progress(policy))
        what = imported.source.name
    else:
        if any(sep in args.target for sep in "/\\") or target.suffix:
            raise InputError(f"{args.target} is neither a file nor a dataset name; check the path")
        ws = open_workspace(args)
        try:
            report = scan_dataset(ws, args.target, policy, progress=_progress(policy))
        finally:
            ws.lock()
        what = f"dataset {args.target!r}"
    print_report(report, as_json=args.json, what=what, policy=policy)
    return EXIT_OK


def cmd_anonymize(args: argparse.Namespace) -> int:
    from engine.data.anonymize import anonymize_dataset

    policy = _policy(args.policy, args.names)  # a bad policy fails before the passphrase
    ws = open_workspace(args)
    try:
        info, report = anonymize_dataset(ws, args.dataset, args.name, policy,
                                         progress=_progress(policy))
    finally:
        ws.lock()
    print_report(report, as_json=False, what=f"dataset {args.dataset!r}", policy=policy, applied=True)
    print(f"Stored the anonymized copy as dataset {info.name!r} ({info.rows:,} rows); "
          f"{args.dataset!r} is unchanged (delete it with `cloister rm {shlex.quote(args.dataset)}` if you wish). "
          "The audit log records the policy applied.")
    _say_mapping_kept(policy, info.name)
    _warn_identifiers_kept(report)
    _warn_values_left_in_text(report)
    return EXIT_OK


def import_anonymized(args: argparse.Namespace, imported, mapping, problems, history=(),
                      file_columns=None, label_columns=()) -> int:
    """The end of ``cloister import FILE --anonymize POLICY``: nothing but the anonymized table
    is written, and only into the encrypted workspace. ``file_columns``: the file's own, where
    ``--label-columns`` read ``label_columns`` of them into one."""
    from engine.data.anonymize import check_policy_reads, save_anonymized_import

    policy = _policy(args.anonymize)
    # Before the passphrase: fail fast, store nothing.
    check_policy_reads(policy, mapping, label_columns=label_columns,
                       file_columns=imported.column_names if file_columns is None else file_columns)
    from engine.cli.show_lines import replaced_line, what_is_replaced

    ws = open_workspace(args)
    try:
        before = what_is_replaced(ws, args.name) if args.replace else None
        info, report = save_anonymized_import(ws, args.name, imported, mapping, policy,
                                              replace=args.replace,
                                              skip_incomplete=args.skip_incomplete,
                                              history=history,
                                              label_delimiter=getattr(args, "label_delimiter", None))
        replaced = replaced_line(ws, args.name, *before) if before else ""
    finally:
        ws.lock()
    print_report(report, as_json=False, what=imported.source.name, policy=policy, applied=True)
    kept = ("were not stored" if not policy.reversible else
            "were not stored in it, only in the mapping of its reversible pseudonyms (below)")
    # Types the policy keeps ("ORGANIZATION = keep") were stored as found: not said, the line
    # read as if every finding above had been replaced.
    as_found = sorted(e for e in report.counts if policy.operator_for(e).action == "keep")
    also = (f" (those of {', '.join(as_found)}, which the policy keeps, were stored as written)"
            if as_found else "")
    print(f"Imported {info.rows:,} anonymized rows as dataset {info.name!r}; the original values "
          f"{kept}{also}.")
    if replaced:  # as a plain `import --replace` says it
        print(replaced)
    _say_mapping_kept(policy, info.name)
    _warn_identifiers_kept(report)
    _warn_values_left_in_text(report)
    return EXIT_OK


def _text_to_reidentify(args: argparse.Namespace) -> str:
    if (args.text is None) == (args.file is None):
        raise InputError("give the TEXT to re-identify or --file FILE ('-' for standard input): "
                         "one of the two")
    if args.text is not None:
        return str(args.text)
    if str(args.file) == "-":
        return sys.stdin.read()
    try:
        return read_typed_text(args.file)
    except FileNotFoundError:
        raise InputError(f"file {args.file} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {args.file} as UTF-8 text: {exc}") from None


def cmd_reidentify(args: argparse.Namespace) -> int:
    from engine.data.reidentify import reidentify

    text = _text_to_reidentify(args)  # before the passphrase: a bad file fails fast
    ws = open_workspace(args)
    try:
        result = reidentify(ws, args.dataset, text)
    finally:
        ws.lock()
    # The text alone on stdout (so it can be redirected); the counts on stderr.
    sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")
    if not result.total and not result.ambiguous:
        print(f"No pseudonym of dataset {args.dataset!r} was found in the text; it is printed as "
              "given.", file=sys.stderr)
        return EXIT_OK
    print(f"Re-identified {count_of(result.total, 'pseudonym')}"
          + (f"; {result.ambiguous:,} stand for more than one value and were left as they are"
             if result.ambiguous else "") + ". The output holds personal data.", file=sys.stderr)
    return EXIT_OK


def cmd_example_policy(args: argparse.Namespace) -> int:
    from resources.paths import resource

    sys.stdout.write(resource("anonymize-policy.example.toml").read_text(encoding="utf-8"))
    return EXIT_OK


def _add_names_option(parser: argparse.ArgumentParser) -> None:
    from privacy.pii.name_model import NAME_MODES

    parser.add_argument("--names", choices=NAME_MODES,
                        help="who finds names: rules (fast, the default), the bundled name model "
                        "(thorough, ~100 rows/s on a CPU) or both; overrides the policy's names")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan", help="find personal data in a file or dataset",
        description="Report the personal data in FILE (read directly, no workspace needed) or in "
        "stored DATASET: counts per type and column, masked examples, the share of text that would "
        "change, and proposed identifier columns.")
    p.add_argument("target", metavar="FILE|DATASET")
    p.add_argument("--policy", type=Path, metavar="POLICY.toml",
                   help="count what this policy would change (default: every finding)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_names_option(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_scan)

    p = subparsers.add_parser(
        "anonymize", help="store an anonymized copy of a dataset",
        description="Apply POLICY.toml to DATASET and store the result as a new dataset NEW. "
        "The original is not changed. `cloister example-policy > policy.toml` writes a policy to "
        "start from, every setting explained.")
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("--policy", type=Path, required=True, metavar="POLICY.toml",
                   help="what to do with each kind of personal data and each column (start "
                   "from `cloister example-policy`)")
    p.add_argument("--name", required=True, metavar="NEW", help="name of the anonymized dataset")
    _add_names_option(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_anonymize)

    p = subparsers.add_parser(
        "example-policy", help="print an anonymization policy to start from",
        description="Print the example anonymization policy (TOML, every setting explained), to "
        "save and edit: cloister example-policy > policy.toml")
    p.set_defaults(func=cmd_example_policy)

    p = subparsers.add_parser(
        "reidentify", help="turn a dataset's reversible pseudonyms back into the originals",
        description="Replace the pseudonyms of DATASET found in TEXT (or in --file FILE) by the "
        "original values, using the encrypted mapping kept when DATASET was anonymized with "
        "'reversible = true'. Prints personal data; the audit log records counts only.")
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("text", metavar="TEXT", nargs="?", default=None)
    p.add_argument("--file", type=Path, metavar="FILE", help="read the text from FILE ('-': stdin)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_reidentify)

    register_forget(subparsers)
