"""``cloister predict RUN --input FILE --output FILE``: a file's rows predicted, with progress
(a bar on a terminal, a line at each further tenth in a log) and the result said as text or
JSON. Kept apart from the other model commands (engine/cli/model_cmds.py), which are long
enough."""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from engine.units import count_of

LOG_PROGRESS_MIN_S, LOG_PROGRESS_MAX_S = 5.0, 60.0


def predict_to_file(ws: Any, predictor: Any, args: argparse.Namespace) -> tuple[int, int]:
    """Run batch prediction with a progress bar -> (exit code, rows written)."""
    from engine.events import Cancelled, Failed, FailureKind, Finished, Progress
    from engine.evaluation.file_prediction import predict_file

    last_shown = time.monotonic()
    # The bar redraws one line in place: on a terminal only (in a log, 88 frames on one line).
    # A log (a nightly job's) gets a plain line at each further tenth, at most every few
    # seconds, and at least every minute, so that a long run is seen to move.
    bar = not args.json and sys.stderr.isatty()
    tenths_said = 0
    drawn = False  # a bar line is open on stderr: end it before anything else is written there
    read = ""  # the first progress line says which column the texts came from

    def end_bar() -> None:
        if drawn:
            sys.stderr.write("\n")

    for event in predict_file(predictor, args.input, args.output, text_column=args.text_column,
                              header=False if args.no_header else None, ws=ws,
                              sheet=args.sheet, top_k=args.top_k, overwrite=args.overwrite):
        if isinstance(event, Progress) and not read:
            read = event.message
            if not args.json:
                print(f"cloister: {read}", file=sys.stderr)
        if isinstance(event, Progress) and bar:
            now = time.monotonic()
            if now - last_shown > 0.1 or event.done == event.total:
                last_shown, drawn = now, True
                _bar(event.done, event.total)
        elif isinstance(event, Progress) and event.total and 0 < event.done < event.total:
            now, tenths = time.monotonic(), event.done * 10 // event.total
            if ((tenths > tenths_said and now - last_shown >= LOG_PROGRESS_MIN_S)
                    or now - last_shown >= LOG_PROGRESS_MAX_S):
                last_shown, tenths_said = now, tenths
                print(f"cloister: {event.done:,} of {event.total:,} rows predicted "
                      f"({event.done / event.total:.0%})", file=sys.stderr, flush=True)
        elif isinstance(event, Finished):
            end_bar()
            rows = int(event.metrics.get("rows", 0))
            without = int(event.metrics.get("rows_without_text", 0))
            formulas = int(event.metrics.get("formula_like_cells", 0))
            warnings = list(event.notes)
            if formulas:  # on stderr with --json too: a script's log keeps it
                warnings.insert(0, f"{count_of(formulas, 'cell')} of {args.output.name} "
                                f"{'starts' if formulas == 1 else 'start'} with =, +, - or @: a "
                                "spreadsheet opening it may run them as formulas. Import it as "
                                "text (Data > From Text/CSV) or write .xlsx, whose cells stay text")
                print(f"cloister: warning: {warnings[0]}", file=sys.stderr)
            for note in event.notes:  # on stderr with --json too, like the formulas warning
                print(f"cloister: warning: {note}", file=sys.stderr)
            for said in event.info:
                print(f"cloister: {said} `--top-k N` writes another number.", file=sys.stderr)
            if args.json:
                print(json.dumps({"rows": rows, "rows_without_text": without,
                                  "rows_not_read": int(event.metrics.get("rows_not_read", 0)),
                                  "formula_like_cells": formulas, "output": str(args.output),
                                  "texts_cut": int(event.metrics.get("texts_cut", 0)),
                                  # "seconds" kept for scripts written before; the runs'
                                  # own key beside it
                                  "seconds": round(event.duration_seconds, 3),
                                  "duration_seconds": round(event.duration_seconds, 3),
                                  "read": read, "warnings": warnings, "info": list(event.info)}))
            else:
                print(f"{rows:,} rows predicted in {event.duration_seconds:.1f} s -> {args.output}")
                if without:
                    print(f"cloister: {without} of them had no text: their prediction cells are "
                          "left empty", file=sys.stderr)
            cut = predictor.cut_said(int(event.metrics.get("texts_cut", 0)))
            if cut:
                print(f"cloister: note: {cut}", file=sys.stderr)
            return 0, rows
        elif isinstance(event, Failed):
            end_bar()
            print(f"cloister: error: {event.message}", file=sys.stderr)
            code = 2 if event.kind in (FailureKind.BAD_DATA, FailureKind.BAD_SETTING) else 1
            if args.json:  # as every command's errors with --json
                print(json.dumps({"error": event.message, "exit_code": code}))
            return code, 0
        elif isinstance(event, Cancelled):
            end_bar()
            print("cloister: cancelled; nothing was written", file=sys.stderr)
            return 130, 0
    return 1, 0  # pragma: no cover - predict_file always ends with a terminal event


def _bar(done: int, total: int) -> None:
    fraction = done / total if total else 1.0
    filled = int(fraction * 30)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} rows")
    sys.stderr.flush()
