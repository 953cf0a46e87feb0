"""A folder with one sub-folder per label holding ``.txt`` files (Create ML's text layout).

    reviews/positive/001.txt   ->  text = file contents, label = "positive", file = "positive/001.txt"
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from engine.errors import InputError
from engine.data.importing.registry import ReadRequest, reader
from engine.data.importing.source import check_size, decode, os_error
from engine.data.importing.table import ImportedTable
from engine.data.problems import Problem, Severity

_LAYOUT = ("Cloister reads a folder with one sub-folder per label, each holding .txt files "
           "(e.g. reviews/positive/001.txt, reviews/negative/002.txt).")


def _visible(name: str) -> bool:
    # Hidden and tool folders (.DS_Store, __MACOSX, .ipynb_checkpoints) are not labels.
    return not name.startswith((".", "__"))


def _inside(path: Path, real_root: Path) -> bool:
    """Whether ``path``, its links followed, is in the folder being imported: a folder received
    from someone else may hold a link named like an example ("pos/zz.txt") to a file of this
    machine's (a private key), which would become a row of the dataset and part of the model."""
    try:
        path.resolve().relative_to(real_root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _label_folders(root: Path, outside: list[Path]) -> list[Path]:
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise os_error(root, exc) from exc
    real_root = root.resolve()
    outside += [p for p in entries if p.is_dir() and _visible(p.name) and not _inside(p, real_root)]
    folders = [p for p in entries if p.is_dir() and _visible(p.name) and p not in outside]
    if not folders:
        loose = [p for p in entries if p.is_file() and p.suffix.lower() == ".txt"]
        found = f" Its {len(loose)} .txt files are directly in the folder." if loose else ""
        raise InputError(f"{root} has no label sub-folders.{found} {_LAYOUT}")
    return folders


def _read_text_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise os_error(path, exc) from exc


@reader("folder", suffixes=(), description="a folder with one sub-folder of .txt files per label")
def read_folder(root: Path, request: ReadRequest) -> ImportedTable:
    problems: list[Problem] = []
    files: list[tuple[str, Path]] = []
    ignored = 0
    outside: list[Path] = []  # links that lead out of the folder: skipped, and said
    real_root = root.resolve()
    for folder in _label_folders(root, outside):
        found = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if not all(_visible(part) for part in path.relative_to(root).parts):
                continue
            # rglob does not go down linked folders, so only a linked file can lead out (and
            # resolving every path costs a third of the reading time of 20,000 small files).
            if path.is_symlink() and not _inside(path, real_root):
                outside.append(path)
                continue
            if path.suffix.lower() != ".txt":
                ignored += 1
                continue
            files.append((folder.name, path))
            found += 1
        if not found:
            problems.append(Problem(
                severity=Severity.WARNING, code="empty-label-folder",
                message=f"label folder {folder.name!r} has no .txt files; it was ignored",
                hint="Put the examples of this label in it as .txt files, or remove the folder.",
                file=str(folder),
            ))
    if outside:
        first = outside[0].relative_to(root).as_posix()
        problems.append(Problem(
            severity=Severity.WARNING, code="links-outside-folder",
            message=f"{len(outside):,} link{'s' if len(outside) != 1 else ''} in the folder "
                    f"{'lead' if len(outside) != 1 else 'leads'} outside it (such as {first}) and "
                    f"{'were' if len(outside) != 1 else 'was'} not read",
            hint="Only files inside the folder are read. Copy the files themselves into the label "
                 "folders if they belong to the dataset.", file=str(root),
        ))
    if not files:
        raise InputError(f"{root} has label sub-folders but no .txt files in them. {_LAYOUT}")
    check_size(root, sum(path.stat().st_size for _, path in files), request.max_bytes)
    if ignored:
        problems.append(Problem(
            severity=Severity.INFO, code="ignored-files",
            message=f"{ignored:,} {'file that is' if ignored == 1 else 'files that are'} not .txt "
                    f"{'was' if ignored == 1 else 'were'} ignored",
            hint="Save examples as .txt files if they should be part of the dataset.", file=str(root),
        ))

    texts: list[str] = []
    encodings: Counter[str] = Counter()
    legacy: list[str] = []
    for _, path in files:
        data = _read_text_file(path)
        if not data.strip():
            texts.append("")  # validation reports the empty example with its file
            encodings["utf-8"] += 1
            continue
        decoded = decode(path, data, what="a text file")
        encodings[decoded.encoding] += 1
        if any(p.code == "legacy-encoding" for p in decoded.problems):
            legacy.append(path.relative_to(root).as_posix())
        texts.append(decoded.text.rstrip("\r\n"))
    if legacy:
        problems.append(Problem(
            severity=Severity.WARNING, code="legacy-encoding",
            message=f"{len(legacy):,} files are not UTF-8 and were read as Windows-1252 (Latin-1), "
            f"e.g. {legacy[0]}",
            hint="If accented characters look wrong, save the files as UTF-8.", file=str(root),
        ))
    table = pa.table({
        "text": pa.array(texts, type=pa.string()),
        "label": pa.array([label for label, _ in files], type=pa.string()),
        "file": pa.array([p.relative_to(root).as_posix() for _, p in files], type=pa.string()),
    })
    encoding = encodings.most_common(1)[0][0] if len(encodings) == 1 else "mixed"
    return ImportedTable(table=table, source=root, format="folder", encoding=encoding,
                         problems=tuple(problems), first_data_line=1)
