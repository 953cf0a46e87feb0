"""``cloister evaluate``, ``predict``, ``export`` and ``open-export``: using a trained run.

Texts and labels are printed only to the terminal, and only when asked (a prediction, or
``evaluate --misclassified N``); files are written only where the user points ``--output`` /
``--out``. Exports are sealed with their own passphrase unless ``--plaintext`` is given.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import unicodedata
from pathlib import Path
from typing import Any

from engine.export.formats import export_formats
from engine.cli.common import (
    add_label_columns_argument,
    add_workspace_options,
    ask_secret,
    note_old_mark,
    open_workspace,
    opened_as_read_before,
    positive_int,
    read_passphrase,
    require_strong_enough,
    require_workspace,
    resolve_run,
)
from engine.cli.predict_file_cmd import predict_to_file
from engine.errors import InputError, refuse_odd_output
from privacy.text_files import read_typed_text
from engine.evaluation.prediction_columns import MANY_LABELS, TOP_FOR_MANY, top_k_for
from engine.units import count_of, label_cell, pad, shown_width

EXPORT_PASSPHRASE_ENV = "CLOISTER_EXPORT_PASSPHRASE"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("evaluate", help="metrics of a run on its test split, a dataset or a file")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--data", metavar="NAME|FILE",
                   help="a dataset of the workspace or a labelled file (default: the run's test split)")
    p.add_argument("--text-column", metavar="C", action="append",
                   help="text column of --data FILE; repeat it for several, joined as training "
                   "joined them (default: the training data's where the file has them, else inferred)")
    p.add_argument("--label-column", metavar="L", help="label column of --data FILE (default: inferred)")
    add_label_columns_argument(p, help_text="a multi-label run's labels in --data FILE as one 0/1 "
                               "column each, as import reads them: name the columns "
                               "(toxic,obscene,insult), or 'auto' for those named like the run's "
                               "labels (the default where the file has them and no label column)")
    p.add_argument("--sheet", metavar="NAME", help="the worksheet of --data WORKBOOK (default: the first)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="whether the first row of --data FILE names the columns (default: detected)")
    p.add_argument("--misclassified", metavar="N", type=int, default=0,
                   help="also print the N most confident mistakes (their texts)")
    p.add_argument("--stored", action="store_true",
                   help="print the test report stored when the run finished, without scoring "
                   "anything again (it stands when the dataset was imported again or deleted)")
    _common(p)
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser("predict", help="classify a text, or every row of a file")
    p.add_argument("run", metavar="RUN")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", action="append", metavar="TEXT",
                      help="a text to classify (repeatable); - reads it from standard input, "
                      "which keeps it out of the process list other users of the machine can read")
    what.add_argument("--input", type=Path, metavar="FILE", help="CSV/TSV/JSONL/JSON/XLSX/Parquet to classify")
    p.add_argument("--output", type=Path, metavar="FILE",
                   help="where to write --input with predictions added (format from its suffix)")
    p.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    p.add_argument("--text-column", metavar="C", action="append",
                   help="text column of --input; repeat it for several, joined as training joined "
                   "them (default: the training data's where the file has them all, else inferred)")
    p.add_argument("--no-header", action="store_true",
                   help="the first row of --input is data, not column names")
    p.add_argument("--sheet", metavar="NAME", help="the worksheet of --input WORKBOOK (default: the first)")
    p.add_argument("--top-k", type=int, metavar="K",
                   help="show only the K most probable labels; with --input, write them as "
                        "top_1_label, top_1_prob, ... instead of a prob_<label> column per label "
                        f"(the default beyond {MANY_LABELS} labels is {TOP_FOR_MANY})")
    p.add_argument("--batch-size", type=positive_int, default=64,
                   help="texts scored at once (default 64; lower it if memory runs out)")
    _common(p)
    p.set_defaults(func=cmd_predict)

    p = subparsers.add_parser("export", help="export a run's model (sealed unless --plaintext)")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="sealed file to write (PATH.cloister-export when PATH has no suffix), or a "
                   "folder to put it in (one that exists, or PATH/); with --plaintext, a new folder")
    formats = export_formats()
    p.add_argument("--format", choices=[f.name for f in formats], default=formats[0].name,
                   help="; ".join(f"{f.name}: {f.title}" for f in formats) + f" (default: {formats[0].name})")
    p.add_argument("--plaintext", action="store_true",
                   help="write an unencrypted folder (the model and label names readable by anyone)")
    p.add_argument("--export-passphrase-file", type=Path, metavar="FILE",
                   help=f"passphrase for the sealed export (else ${EXPORT_PASSPHRASE_ENV}, else a prompt)")
    p.add_argument("--json", action="store_true",
                   help="print where it was written as JSON (--out may add a suffix or a name)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("open-export", help="unseal an encrypted export into a folder")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder")
    p.add_argument("--export-passphrase-file", type=Path, metavar="FILE",
                   help=f"the export's passphrase (else ${EXPORT_PASSPHRASE_ENV}, else a prompt)")
    p.add_argument("--json", action="store_true", help="print the folder written as JSON")
    p.set_defaults(func=cmd_open_export)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto",
                   help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_workspace_options(p)


def _device(args: argparse.Namespace) -> str | None:
    """The device asked for, checked as training checks it: an unknown name, or a GPU that is
    not there, is refused with the reason instead of failing inside torch."""
    if args.device == "auto":
        return None
    from engine.training.devices import choose_device

    return str(choose_device(args.device, configure_threads=False).device)


def _export_passphrase(args: argparse.Namespace, *, confirm: bool) -> str:
    """The sealed export's own passphrase: not the workspace's, since it goes to a recipient."""
    path = args.export_passphrase_file
    if path is not None:
        try:
            lines = read_typed_text(path).splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the export passphrase file {path}: {exc}") from None
        if not lines or not lines[0]:
            raise InputError(f"export passphrase file {path} is empty; put the passphrase on its first line")
        note_old_mark(Path(path), lines[0])
        if confirm:  # sealing a new export, not opening one
            require_strong_enough(lines[0], "export passphrase")
        return lines[0]
    if os.environ.get(EXPORT_PASSPHRASE_ENV):
        if confirm:
            require_strong_enough(os.environ[EXPORT_PASSPHRASE_ENV], "export passphrase")
        return os.environ[EXPORT_PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        plaintext = " (or --plaintext for an unencrypted folder)" if confirm else ""  # export's
        raise InputError(f"no export passphrase: use --export-passphrase-file FILE or set "
                         f"{EXPORT_PASSPHRASE_ENV}{plaintext}")
    first = ask_secret("Export passphrase: ")
    if not first:
        raise InputError("the export passphrase must not be empty")
    if confirm and ask_secret("Repeat it: ") != first:
        raise InputError("the two passphrases differ; nothing was exported")
    if confirm:
        require_strong_enough(first, "export passphrase")
    return first


# -- evaluate ------------------------------------------------------------------------------


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.evaluation.evaluate import evaluate_run, test_split_dataset_rows
    from engine.evaluation.report import UNTESTED_NOTE

    if args.misclassified < 0:
        raise InputError("--misclassified must be 0 or more")
    if args.stored and args.data is not None:
        raise InputError("--stored prints the report the run made of its own test split: drop "
                         "--data, or drop --stored to score --data")
    columns = [flag for flag, value in (("--text-column", args.text_column),
                                        ("--label-column", args.label_column),
                                        ("--label-columns", args.label_columns),
                                        ("--sheet", args.sheet),
                                        ("--header/--no-header", args.header is not None)) if value]
    if columns and (args.data is None or not Path(args.data).expanduser().exists()):
        # They name a file's columns; a stored dataset has its own (they were ignored silently).
        raise InputError(f"{' and '.join(columns)} name the columns (or sheet) of a labelled "
                         "--data FILE; the test split and the vault's datasets use the columns "
                         "chosen at import")
    ws = open_workspace(args)
    args.run = resolve_run(ws, args.run)  # a unique start or end of the id will do
    if args.stored:
        from engine.evaluation.report import load_report

        report = load_report(ws, args.run)
    else:
        report = evaluate_run(ws, args.run, data=args.data, text_column=args.text_column,
                              label_column=args.label_column, device=_device(args),
                              sheet=args.sheet, header=args.header,
                              label_columns=args.label_columns)
    mistakes = report.misclassified[: args.misclassified]
    # Mistakes of the run's own test split are also placed in the dataset (`cloister show`).
    in_dataset = (test_split_dataset_rows(ws, args.run) if args.data is None and mistakes
                  else None)
    if args.json:
        data = report.to_dict()
        # Counted from 1, as the text below, import, inspect and show count rows.
        data["misclassified"] = [{**m.__dict__, "row": m.row + 1} | (
            {"dataset_row": in_dataset[m.row]} if in_dataset else {}) for m in mistakes]
        data["misclassified_total"] = len(report.misclassified)
        print(json.dumps(data, indent=2))
        return 0
    source = args.data or ("its test split (the report stored when it finished)" if args.stored
                           else "the test split")
    print(f"run {args.run} on {source}: {report.n} rows")
    from engine.runs import load_run

    if load_run(ws, args.run).privacy:  # what the guarantee covers, and that this is not it
        print("  note: the model was trained with differential privacy; these metrics are "
              "computed on the rows as they are and are not private", file=sys.stderr)
    if report.rows_not_read:
        print(f"  warning: {report.rows_not_read_text} They were not scored.", file=sys.stderr)
    if report.label_columns:
        from engine.data.label_columns import shown

        ignored = (f"; other 0/1 columns, not labels of the run, left out: "
                   f"{shown(report.columns_ignored)}" if report.columns_ignored else "")
        print(f"  note: labels read from the 0/1 columns {shown(report.label_columns)}{ignored}",
              file=sys.stderr)
    if report.labels_fixed_as:
        print(f"  note: {report.labels_fixed_text()}", file=sys.stderr)
    if report.labels_read_as:
        print("  note: labels read as the model's, written differently: " + ", ".join(
            f"{given!r} as {known!r}" for given, known in report.labels_read_as), file=sys.stderr)
    if report.rows_without_text:
        print(f"  warning: {report.rows_without_text_text()}; the {report.n:,} rows above are "
              "those with text", file=sys.stderr)
    if report.repeated_in_training:  # the run's own test split, from a dataset with repeats
        from engine.runs import dataset_name_now

        # The fix it names goes to the dataset's name now (a rename kept the run's old one).
        now = dataset_name_now(ws, load_run(ws, args.run))
        print(f"  warning: {report.repeats_text(now)}", file=sys.stderr)
    if report.trained_rows:
        print(f"  warning: {report.trained_rows:,} of these {report.n:,} rows are rows the run "
              "trained or validated on: the scores below overstate how it does on new data",
              file=sys.stderr)
    elif args.data is not None and report.trained_rows is None:  # silence read as "no overlap"
        print("  note: whether any of these rows are rows the run trained on cannot be told (its "
              "dataset was deleted or imported again since)", file=sys.stderr)
    for name, value in report.headline().items():
        print(f"  {name:<12} {value:.4f}")
        if name == "accuracy":  # how far a split of this size can be trusted
            print(f"  {'':<12} {report.interval_text()}"
                  + ("" if report.people else f" ({report.n:,} rows)"))
    width = max(5, *(shown_width(label_cell(m.label, 60)) for m in report.per_class))
    print(f"\n  {'label':<{width}}  precision  recall  f1      support")
    for m in report.per_class:
        precision, recall, f1 = m.shown()
        print(f"  {pad(label_cell(m.label, 60), width)}  {precision:<9}  {recall:<6}  {f1:<6}  {m.support}")
    if not all(m.tested for m in report.per_class):
        print(f"  {UNTESTED_NOTE}")
    if report.confusion and len(report.labels) > MANY_LABELS:
        _print_top_confusions(report)
    elif report.confusion:
        cell = max(6, *(len(str(v)) for row in report.confusion for v in row))
        # Labels longer than a cell ("Credit reporting, …", "Credit card …") would head their
        # columns identically once cut: the columns are numbered instead, as the rows say.
        labels = [label_cell(label, 60) for label in report.labels]
        numbered = any(shown_width(label) > cell for label in labels)
        heads = [f"#{i}" if numbered else label for i, label in enumerate(labels, start=1)]
        print("\n  confusion (rows: true, columns: predicted"
              + (", numbered as the rows)" if numbered else ")"))
        tags = [f"#{i} " if numbered else "" for i in range(1, len(labels) + 1)]
        left = max(len(t) + shown_width(label) for t, label in zip(tags, labels))
        print(f"  {'':<{left}}  " + " ".join(pad(h, cell, right=True) for h in heads))
        for tag, label, row in zip(tags, labels, report.confusion):
            print(f"  {pad(tag + label, left)}  " + " ".join(f"{v:>{cell}}" for v in row))
    print(f"\n  {count_of(len(report.misclassified), 'misclassified row')}"
          + ("" if mistakes else " (show them with --misclassified N)"))
    # Counted from 1 as import, inspect and show count rows (the report keeps 0-based places);
    # the test split's rows are its own, not the dataset's.
    where = "row" if args.data is not None else "test-split row"
    if mistakes and report.rows_not_read:  # the file's own numbers are higher past a skipped row
        print(f"  (rows are numbered among the {report.n + len(report.rows_without_text):,} "
              "rows read, not counting the "
              f"{report.rows_not_read:,} that could not be)")
    for wrong in mistakes:
        text = (wrong.text or "").replace("\n", " ")
        placed = f" (dataset row {in_dataset[wrong.row]:,})" if in_dataset else ""
        print(f"  {where} {wrong.row + 1}{placed}: true {wrong.true_label}, predicted {wrong.predicted_label} "
              f"({wrong.confidence:.2f}): {text[:200]}")
    return 0


def _print_top_confusions(report: Any, shown: int = 20) -> None:
    """Past ``MANY_LABELS`` labels a matrix is no read for a terminal (320 labels printed 654
    lines of up to 2,000 characters): the most frequent mistakes instead, by count."""
    mistakes = sorted(((n, i, j) for i, row in enumerate(report.confusion)
                       for j, n in enumerate(row) if i != j and n), key=lambda c: (-c[0], c[1], c[2]))
    total = sum(n for n, _, _ in mistakes)
    print(f"\n  confusion: {len(report.labels):,} labels are too many for a matrix here "
          f"(the desktop's Results page shows it whole); "
          + (f"the {min(shown, len(mistakes))} most frequent of {count_of(total, 'mistake')}:"
             if mistakes else "no mistakes"))
    for n, i, j in mistakes[:shown]:
        print(f"  {n:>6}  true {label_cell(report.labels[i], 60)}, predicted "
              f"{label_cell(report.labels[j], 60)}")


# -- predict -------------------------------------------------------------------------------


def cmd_predict(args: argparse.Namespace) -> int:
    from engine.evaluation.prediction import Predictor

    if args.top_k is not None and args.top_k < 1:
        raise InputError("--top-k must be 1 or more")
    if args.input is not None and args.output is None:
        raise InputError("--input needs --output FILE: where to write the rows with predictions")
    if args.input is None and args.output is not None:
        raise InputError("--output goes with --input FILE; for --text the result is printed")
    if args.input is None and args.sheet is not None:
        raise InputError("--sheet picks the worksheet of an --input workbook; for --text there is none")
    if args.output is not None:
        refuse_odd_output(args.output, flag="--output")
    if args.output is not None and args.output.is_dir():
        raise InputError(f"{args.output} is a folder: give a file name for the predictions, such "
                         f"as {args.output / 'predictions.csv'} (nothing was written)")
    if args.output is not None and args.output.exists() and not args.overwrite:
        from engine.evaluation.file_prediction import output_exists

        raise output_exists(args.output)  # before the model loads; predict_file checks at the write
    if args.text and "-" in args.text:
        if args.text.count("-") > 1:
            raise InputError("--text - reads standard input, which holds one text: give it once")
        if str(getattr(args, "passphrase_file", None)) == "-":  # it read the passphrase as text
            raise InputError("--text - and --passphrase-file - both read standard input: give "
                             "the passphrase in a file or $CLOISTER_PASSPHRASE, or the text "
                             "with --text")
        given = sys.stdin.read().rstrip("\r\n")  # before any passphrase prompt reads a terminal
        args.text = [given if text == "-" else text for text in args.text]
    blank = [i for i, text in enumerate(args.text or (), start=1) if not text.strip()]
    if blank:
        raise InputError(f"--text number {blank[0]} is empty: give the text to classify")
    ws = open_workspace(args)
    args.run = resolve_run(ws, args.run)
    predictor = Predictor.from_run(ws, args.run, device=_device(args), batch_size=args.batch_size)
    if args.input is not None:
        return predict_to_file(ws, predictor, args)[0]  # audited by the engine with the write
    # On a terminal, past MANY_LABELS labels, the likeliest few (as a predicted file names
    # them): 320 labels printed 320 lines a text. --json keeps every one unless told.
    top_k = args.top_k if args.json else top_k_for(len(predictor.labels), args.top_k)
    predictions = predictor.predict(args.text, top_k=top_k)
    # A long text read only in part is said, on stderr with --json too, as predict --input
    # says it of a file's (a 100,000-character text got a label and no word of it).
    cut = [predictor.tokens_if_cut(text) for text in args.text]
    for number, tokens in enumerate(cut, start=1):
        if tokens is not None:
            which = "the text" if len(args.text) == 1 else f"text {number}"
            print(f"cloister: note: {which} is {tokens:,} tokens, longer than the model reads: "
                  f"only the first {predictor.read_said} counted, as in training.", file=sys.stderr)
    # A run trained on an anonymized copy reads its input anonymized: said on stderr, and what
    # it read given in --json's "read_as" on stdout, not echoed on stderr (which scripts send
    # to log files: anything the detectors missed would be kept there).
    read_as = [predictor.anonymized(text) for text in args.text]
    for number, read in enumerate(read_as, start=1):
        if read is not None and not args.json:
            which = "the text" if len(args.text) == 1 else f"text {number}"
            print(f"cloister: note: {which} was anonymized as the run's training rows were before "
                  "the model read it (--json gives what it read, as \"read_as\")", file=sys.stderr)
    if args.json:
        print(json.dumps([{"text": t, "label": p.label, "confidence": p.confidence,
                           "labels": list(p.labels), "probabilities": p.probabilities,
                           "cut": tokens is not None, "read_as": read}
                          for t, p, tokens, read in zip(args.text, predictions, cut, read_as)],
                         indent=2))
        return 0
    for text, prediction in zip(args.text, predictions):
        if len(args.text) > 1:
            print(text if len(text) <= 80 else text[:77] + "...")
        print(f"  {prediction.label or '(no label above threshold)'}  {prediction.confidence:.4f}")
        if list(prediction.probabilities) != [prediction.label]:  # --top-k 1: said above
            width = max([24, *(shown_width(label_cell(label, 60)) for label in prediction.probabilities)])
            for label, p in prediction.probabilities.items():  # padded by width: CJK, emoji
                print(f"    {pad(label_cell(label, 60), width)} {p:.4f}")
        if args.top_k is None and top_k is not None and top_k < len(predictor.labels):
            print(f"    (the {top_k} likeliest of {len(predictor.labels):,} labels; --top-k N for more)")
    return 0


# -- export ----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from engine.export.exporters import export_run

    if args.plaintext and args.export_passphrase_file is not None:
        raise InputError("--plaintext writes an unencrypted folder, which takes no passphrase: drop "
                         "--export-passphrase-file, or drop --plaintext to seal the export with it")
    out = Path(args.out).expanduser()
    if not args.plaintext and args.out.endswith(("/", os.sep)):  # "exports/": a folder, made
        out.mkdir(parents=True, exist_ok=True)
    require_workspace(args)  # "no workspace here" before any passphrase is asked for
    vault_passphrase = read_passphrase(args)
    ws = open_workspace(args, passphrase=vault_passphrase)
    args.run = resolve_run(ws, args.run)
    passphrase = None if args.plaintext else _export_passphrase(args, confirm=True)
    if passphrase is not None and (  # compared as the vault's KDF reads them, accents composed
            unicodedata.normalize("NFC", passphrase) == unicodedata.normalize("NFC", vault_passphrase)):
        ws.lock()
        raise InputError("the export passphrase is the workspace's own: whoever is given it to "
                         "open the export could unlock the whole vault; choose another (nothing "
                         "was written)")
    del vault_passphrase
    written = export_run(ws, args.run, out, format=args.format,
                         plaintext=args.plaintext, passphrase=passphrase)
    if args.plaintext:
        print("cloister: warning: anyone who can read that folder can use the model and see its "
              "label names, and a model can reveal parts of the texts it was trained on: keep it "
              "where the data may go", file=sys.stderr)
    if args.json:  # the path written: `--out model` writes model.cloister-export
        # "run_id" as `train` and `runs` name it; "run" kept for scripts written before.
        print(json.dumps({"run_id": args.run, "run": args.run, "format": args.format,
                          "sealed": not args.plaintext, "output": str(written)}))
    elif args.plaintext:
        print(f"exported run {args.run} ({args.format}) as a PLAINTEXT folder: {written}")
    else:
        print(f"exported run {args.run} ({args.format}), sealed: {written}")
        # Quoted as a shell reads it: a path with spaces is pasted back whole.
        print(f"open it with: cloister open-export {shlex.quote(str(written))} --out FOLDER")
    return 0


def cmd_open_export(args: argparse.Namespace) -> int:
    from engine.export.exporters import open_export
    from privacy.errors import WrongPassphrase

    if not Path(args.file).is_file():  # said before a passphrase is asked for, not after
        raise InputError(f"no export file at {args.file}: check the path")
    try:
        folder, _ = opened_as_read_before(lambda secret: open_export(args.file, args.out, secret),
                                          _export_passphrase(args, confirm=False), "this export")
    except WrongPassphrase:
        raise InputError(f"wrong passphrase for the export {args.file}: give the passphrase chosen "
                         "when it was exported (its own, not the workspace's), with "
                         f"--export-passphrase-file FILE or ${EXPORT_PASSPHRASE_ENV}; nothing was "
                         "written") from None
    print(json.dumps({"output": str(folder)}) if args.json else f"unsealed {args.file} into {folder}")
    return 0
