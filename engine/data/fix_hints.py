"""Which fix resolves which problem: the ``cloister import`` flag that reports print under each
problem code, a short phrase for the desktop's buttons, and the flag of each applied fix kind."""
from __future__ import annotations

from dataclasses import dataclass

from engine.data.fixes import DEFAULT_MIN_CLASS_SIZE, NEW_CLASS


@dataclass(frozen=True)
class FixHint:
    """How a problem is fixed: the ``cloister import`` flag, and a short phrase for buttons."""

    flag: str
    label: str


def cap_long(max_tokens: int) -> FixHint:
    """The fix for texts far beyond ``max_tokens`` tokens: cut them at that many (a cut at 512
    left every text flagged beyond a limit of 64 as it was), and never below the 8 tokens that
    ``--cap-long`` takes (it refuses fewer)."""
    max_tokens = max(8, int(max_tokens))
    return FixHint(f"--cap-long {max_tokens}", f"Cut long texts at {max_tokens} tokens")


FIX_FOR_CODE: dict[str, FixHint] = {
    "empty-text": FixHint("--drop-empty", "Drop rows with empty text or no label"),
    "missing-label": FixHint("--drop-empty", "Drop rows with empty text or no label"),
    "duplicate-row": FixHint("--drop-duplicates", "Drop repeated rows"),
    "conflicting-labels": FixHint("--resolve-conflicts majority",
                                  "Keep each text's majority label"),
    "class-too-small": FixHint(f"--min-class-size {DEFAULT_MIN_CLASS_SIZE} --merge-small-into "
                               f"{NEW_CLASS}", f"Merge tiny classes into {NEW_CLASS!r}"),
    "class-small": FixHint(f"--min-class-size 10 --merge-small-into {NEW_CLASS}",
                           f"Merge small classes into {NEW_CLASS!r}"),
    "text-too-long": cap_long(512),  # the usual model limit; validation names the one checked
    "markup-in-text": FixHint("--strip-markup", "Remove web markup from the texts"),
    "mojibake-in-text": FixHint("--repair-encoding", "Repair text encoded twice"),
    "mojibake-in-label": FixHint("--repair-encoding", "Repair text encoded twice"),
    "label-variants": FixHint("--merge-label-variants",
                              "Merge labels that differ only in how they are written"),
    "single-class": FixHint("--label-column L", "Choose another label column"),
    "no-label-column": FixHint("--label-column L", "Choose the label column"),
    "unreadable-rows": FixHint("--skip-incomplete", "Leave out the rows that cannot be read"),
}


def fix_for(code: str) -> FixHint | None:
    return FIX_FOR_CODE.get(code)


# The flag that asked for each fix kind, as a dataset's history names them: "--" + the kind,
# but for these two.
_FLAG_OF_KIND = {"small-classes": "--min-class-size", "drop-classes": "--drop-class"}


def flag_of_kind(kind: str) -> str:
    """``--drop-duplicates`` for the kind "drop-duplicates": the flag of a fix that ran."""
    return _FLAG_OF_KIND.get(kind, f"--{kind}")
