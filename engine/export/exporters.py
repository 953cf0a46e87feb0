"""Export a trained run as a standard Hugging Face folder (or ONNX), sealed unless asked not to.

Every file of the export is built in memory first: the config (label names: user data), the
safetensors weights, the tokenizer files and the model card. Then either

* sealed (the default): the files are packed as a tar stream straight into one passphrase-sealed
  file (``privacy.vault.sealed``), so no plaintext weight or label ever touches the disk; or
* plaintext (only when the user asks for it, choosing the path): the files are written into a
  hidden sibling folder which is renamed to the target at the end.

Either way a failure leaves no partial export behind. ``open_export`` turns a sealed export
back into the folder.
"""
from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TYPE_CHECKING

from engine.errors import CloisterError, InputError, refuse_odd_output
from privacy.errors import ChangeNotLogged
from privacy.vault.atomic import atomic_write_bytes, remove_leftovers, replace_retrying
from engine.export.formats import export_format_named
from engine.export.model_card import DataSummary, ModelCardInfo, PrivacySummary, render_model_card

if TYPE_CHECKING:
    from engine.vault import Vault

log = logging.getLogger(__name__)

SEALED_SUFFIX = ".cloister-export"


# -- building the files in memory ---------------------------------------------------------


def hf_config_bytes(model: Any, labels: tuple[str, ...], *, multi_label: bool = False) -> bytes:
    """config.json with the label names, as ``save_pretrained`` would write it."""
    config = copy.deepcopy(model.config)
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    config.architectures = [type(model).__name__]
    config.problem_type = (
        "multi_label_classification" if multi_label else "single_label_classification"
    )
    return config.to_json_string(use_diff=True).encode("utf-8")


def weights_bytes(model: Any) -> bytes:
    """model.safetensors in memory. Tensors sharing storage (tied weights) are cloned, since
    safetensors refuses shared storage; the "format" metadata marks them as PyTorch weights."""
    from safetensors.torch import save

    seen: set[int] = set()
    flat = {}
    for key, tensor in model.state_dict().items():
        t = tensor.detach().to("cpu").contiguous()
        if t.untyped_storage().data_ptr() in seen:
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        flat[key] = t
    return save(flat, metadata={"format": "pt"})


def tokenizer_files(tokenizer: Any, *, max_length: int | None = None) -> dict[str, bytes]:
    # The tokenizer holds only the base model's vocabulary and settings (no user data), so it
    # may pass through a private temporary folder; nothing with label names ever does.
    if max_length is not None:
        # What the model was trained and is scored at: `truncation=True` in transformers cuts
        # at model_max_length (the base model's 512), so a recipient's predictions on longer
        # texts differed from Cloister's, or failed past the position embeddings.
        tokenizer.model_max_length = max_length
        # The base model's config may carry a "max_length" of its own (MiniLM's says 128): a
        # reader of the export would take it for the length the model reads.
        if "max_length" in getattr(tokenizer, "init_kwargs", {}):
            tokenizer.init_kwargs["max_length"] = max_length
    from engine.models.weights import tokenizer_bytes

    return tokenizer_bytes(tokenizer)


def build_export_files(
    model: Any,
    tokenizer: Any,
    labels: tuple[str, ...],
    *,
    card: str,
    format: str = "hf",
    multi_label: bool = False,
    max_length: int = 128,
) -> dict[str, bytes]:
    """Every file of the export folder, name -> bytes, built in memory."""
    files = {"config.json": hf_config_bytes(model, labels, multi_label=multi_label)}
    files.update(export_format_named(format).model_files(model, tokenizer, max_length))
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    files.update(tokenizer_files(tokenizer, max_length=min(max_length, limit) if limit else max_length))
    files["README.md"] = card.encode("utf-8")
    return files


# -- writing: a plaintext folder or one sealed file ----------------------------------------


_STAGING = re.compile(r"\..+\.partial-[a-z0-9_]{8}")  # tempfile.mkdtemp's, as write_folder names it


def _taken(out: Path) -> bool:
    """Whether ``out`` holds something an export must not replace (anything but an empty folder)."""
    return os.path.lexists(out) and (out.is_symlink() or not out.is_dir() or any(out.iterdir()))


def _folder_taken(out: Path) -> InputError:
    return InputError(f"{out} already exists and is not an empty folder; choose a new path")


def _file_taken(out: Path) -> InputError:
    return InputError(f"{out} already exists; choose another file name or remove it")


def write_folder(files: Mapping[str, bytes], out: Path) -> Path:
    """Write ``files`` into a new folder ``out`` (absent or empty), all or nothing: what came
    to ``out`` meanwhile (another export to the same path) is never replaced."""
    out = Path(out)
    if _taken(out):
        raise _folder_taken(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # An earlier export into this folder that was killed outright left its plaintext staging
    # folder, under whatever name it was going to take (older than the grace: not one at work).
    remove_leftovers(out.parent, also=_STAGING)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        for name, data in files.items():
            _safe_name(name)
            # Owner-only whatever the umask (plain open() gave 0644, and 0666 under umask 000),
            # as predict's output is: a plaintext export carries the model.
            atomic_write_bytes(staging / name, data)
        try:
            if out.is_dir() and not out.is_symlink():
                # Empty when checked; rename cannot replace a folder everywhere (Windows). A
                # folder filled since refuses to go (and another export may have removed it).
                with contextlib.suppress(FileNotFoundError):
                    out.rmdir()
            # A rename never replaces a folder that holds anything, nor puts a folder over a
            # file: an export that finished first into ``out`` makes this one fail here.
            replace_retrying(staging, out)
        except OSError:
            if _taken(out):  # another export (or anything else) took the path meanwhile
                raise _folder_taken(out) from None
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def tar_stream(files: Mapping[str, bytes]) -> Iterator[bytes]:
    """The files as an uncompressed tar, yielded in pieces as it is produced."""
    sink = _Sink()
    now = int(time.time())
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(_safe_name(name))
            info.size, info.mtime, info.mode = len(data), now, 0o644
            tar.addfile(info, io.BytesIO(data))
            yield from sink.drain()
    yield from sink.drain()


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> Iterator[bytes]:
        parts, self._parts = self._parts, []
        yield from parts


def write_sealed(files: Mapping[str, bytes], out: Path, passphrase: str, *, kdf: Any = None) -> Path:
    from privacy.vault.sealed import seal_file

    """Seal ``files`` into the new file ``out``, all or nothing; a file that came to ``out``
    while this one was written (another export to the same path) is never replaced."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out.parent)
    try:
        seal_file(out, tar_stream(files), passphrase, kdf=kdf, replace=False)
    except FileExistsError:
        raise _file_taken(out) from None
    return out


def open_export(path: Path, out: Path, passphrase: str) -> Path:
    """Unseal an encrypted export into the folder ``out`` (absent or empty), all or nothing."""
    from privacy.vault.sealed import open_sealed

    path, out = Path(path), Path(out)
    if not path.is_file():
        raise InputError(f"{path} is not a file; give the sealed export written by `cloister export`")
    from privacy.vault.container import MAGIC

    with open(path, "rb") as start:
        if start.read(len(MAGIC)) != MAGIC:  # a TSV or a zip given by mistake: not "damaged"
            raise InputError(f"{path} is not a Cloister export (it does not start as one); give "
                             "the .cloister-export file written by `cloister export`. Nothing "
                             f"was written to {out}")
    from privacy.errors import ContainerError

    files: dict[str, bytes] = {}
    reader = _ChunkReader(open_sealed(path, passphrase))
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    raise InputError(f"{path}: unexpected entry {member.name!r} (not a plain file)")
                handle = tar.extractfile(member)
                assert handle is not None
                files[_safe_name(member.name)] = handle.read()
    except tarfile.TarError as exc:
        raise InputError(f"{path} is not a Cloister export (its content is not a tar archive)") from exc
    except ContainerError as exc:
        # The vault's advice ("restore it from a backup") is not the recipient's: an export is
        # damaged in copying, and whoever made it still has it.
        detail = str(exc).split("; restore it from a backup")[0]
        raise InputError(f"{detail}: the export is damaged or was cut short on its way here; copy "
                         f"it again from where it was made (or ask its sender). Nothing was written "
                         f"to {out}") from None
    return _writing_to(out, lambda: write_folder(files, out))


def _writing_to(out: Path, write: Any) -> Path:
    """``write()``, with an OS refusal (read-only folder, full disk) said as what to do; the
    writers leave nothing behind when they fail."""
    try:
        written: Path = write()
    except OSError as exc:
        raise InputError(f"could not write the export to {out}: {exc.strerror or exc}; choose a "
                         "folder you can write to, on a disk with free space. Nothing was "
                         "written") from exc
    return written


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (what ``open_sealed`` yields)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _safe_name(name: str) -> str:
    # Exports are flat folders; anything else could write outside the target.
    if not name or "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise InputError(f"refusing file name {name!r} in an export (exports are flat folders)")
    return name


# -- exporting a stored run ---------------------------------------------------------------


def export_run(
    ws: Vault,
    run_id: str,
    out: Path,
    *,
    format: str = "hf",
    plaintext: bool = False,
    passphrase: str | None = None,
    kdf: Any = None,
) -> Path:
    """Export a run's trained model; returns the folder (plaintext) or the sealed file written.

    Sealed (default): ``out`` names the file to write (inside it when ``out`` is a folder:
    ``<run_id>.cloister-export``; a name without a suffix gets that suffix) and ``passphrase``
    is required; ``kdf`` overrides the scrypt
    cost (tests). Plaintext: ``out`` is a new or empty folder.
    """
    from engine.models.weights import load_model, model_exists
    from engine.runs import load_run, no_model_yet, still_training
    from engine.training.checkpoint import has_checkpoint

    format = export_format_named(format).name  # an unknown or unusable format fails before any work
    out = Path(out).expanduser()
    record = load_run(ws, run_id)
    if still_training(record):
        raise InputError(f"{still_training(record)}; export it when it has finished "
                         "(`cloister runs` shows its status); nothing was written")
    prefix = f"runs/{run_id}/model"
    if not model_exists(ws, prefix):
        raise InputError(no_model_yet(record, resumable=has_checkpoint(ws, record.run_id)))
    if not plaintext:
        if not passphrase:
            raise InputError("an encrypted export needs a passphrase for the recipient; give one, "
                             "or export in plaintext explicitly (--plaintext)")
        if out.is_dir():
            out = out / f"{run_id}{SEALED_SUFFIX}"
        elif not out.suffix:  # "--out model" is one file, not a folder: named as what it is
            out = out.with_name(out.name + SEALED_SUFFIX)
        refuse_odd_output(out)  # a dangling link "does not exist", and would be replaced
        if os.path.lexists(out):  # said before any work; write_sealed refuses it again at the end
            raise _file_taken(out)
    model, tokenizer = load_model(ws, prefix, device="cpu")
    config = dict(record.config or {})
    card = render_model_card(card_info(ws, record, export_encrypted=not plaintext, format=format))
    files = build_export_files(model, tokenizer, tuple(record.labels), card=card, format=format,
                               multi_label=bool(config.get("multi_label", False)),
                               max_length=int(config.get("max_length", 128)))
    if plaintext:
        written = _writing_to(out, lambda: write_folder(files, out))
    else:
        assert passphrase  # checked above, before any work
        written = _writing_to(out, lambda: write_sealed(files, out, passphrase, kdf=kdf))
    try:
        ws.audit("export", run=run_id, format=format, encrypted=not plaintext)
    except BaseException as exc:  # a model that left the vault is never unlogged: take it back
        if written.is_dir():
            shutil.rmtree(written, ignore_errors=True)
        else:
            written.unlink(missing_ok=True)
        if isinstance(exc, ChangeNotLogged):
            reason = exc.__cause__.strerror if isinstance(exc.__cause__, OSError) else exc
            raise CloisterError(f"the export was not kept: the audit log could not record it "
                                f"({reason}); free space on the workspace's disk ({ws.root}) and "
                                "export again") from exc
        raise
    log.info("exported run %s as %s (%s)", run_id, format,
             "plaintext" if plaintext else "sealed")
    return written


def card_info(ws: Vault, record: Any, *, export_encrypted: bool, format: str = "hf") -> ModelCardInfo:
    """What the model card says about a run, gathered from the vault (no rows)."""
    import dataclasses

    from engine.data.anonymize import anonymization_said
    from engine.evaluation.report import load_report, report_key

    config = dict(record.config or {})
    report = load_report(ws, record.run_id) if ws.has(report_key(record.run_id)) else None
    model_path = config.get("model_path")
    base = Path(str(model_path)).name if model_path else "all-MiniLM-L6-v2 (bundled default)"
    from engine.runs import used_settings

    from engine.evaluation.prediction import training_columns

    hyperparameters = {k: v for k, v in used_settings(record).items()
                       if k not in ("dataset", "model_path")}
    read = _how_texts_are_read(ws, record.run_id)
    if read["window_overlap"] is not None:  # "None" (automatic) in the table, 8 in the prose
        hyperparameters["window_overlap"] = read["window_overlap"]
    if "eval_every_steps" in hyperparameters and hyperparameters["eval_every_steps"] is None:
        hyperparameters["eval_every_steps"] = "each epoch end"  # as the dry run says it
    columns = training_columns(ws, record) or {}
    return ModelCardInfo(
        run_id=record.run_id,
        base_model=base,
        labels=tuple(record.labels),
        data=_data_summary(ws, record, config),
        hyperparameters=hyperparameters,
        privacy=dataclasses.replace(_privacy_summary(record, export_encrypted),
                                    anonymization=anonymization_said(ws, record)),
        report=report,
        multi_label=bool(config.get("multi_label", False)),
        format=format,
        text_columns=tuple(columns.get("text_columns") or ()),
        separator=str(columns.get("separator", "\n")),
        **read,
    )


def _how_texts_are_read(ws: Vault, run_id: str) -> dict[str, Any]:
    """What the trained model's config says about reading its input (web markup stripped, long
    texts in windows), for the card; one read of the config for both."""
    from engine.data.markup import MARKUP, TEXT_CLEANING_KEY
    from engine.models.weights import load_config, model_exists
    from engine.training.windows import WINDOW_OVERLAP_KEY

    prefix = f"runs/{run_id}/model"
    config = load_config(ws, prefix) if model_exists(ws, prefix) else None
    overlap = getattr(config, WINDOW_OVERLAP_KEY, None)
    return {"strips_markup": getattr(config, TEXT_CLEANING_KEY, None) == MARKUP,
            "window_overlap": None if overlap is None else int(overlap)}


def _privacy_summary(record: Any, export_encrypted: bool) -> PrivacySummary:
    dp = getattr(record, "privacy", None)
    if not dp and (getattr(record, "config", None) or {}).get("dp"):
        # Trained with DP but stopped before anything recorded its ε: never "off".
        return PrivacySummary(export_encrypted=export_encrypted, differential_privacy=(
            "DP-SGD was on, but the run stopped before its ε was recorded: how much it spent "
            "is not known, so no guarantee is stated"))
    if not dp:
        return PrivacySummary(export_encrypted=export_encrypted)
    text = (f"DP-SGD, ε = {dp['epsilon_spent']:.3f} spent (target {dp['epsilon_target']:g}), "
            f"δ = {dp['delta']:.3g}, per "
            + (f"person (column '{dp['person_column']}')" if dp.get("person_column") else "training row"))
    return PrivacySummary(export_encrypted=export_encrypted, differential_privacy=text, dp=dp)


def _data_summary(ws: Vault, record: Any, config: Mapping[str, Any]) -> DataSummary:
    from engine.data.store import DatasetNotFound
    from engine.training.prepare import stored_for_run, stored_splits

    dataset, trained_on = record.dataset, getattr(record, "dataset_sha256", None)
    try:
        stored = stored_for_run(ws, record)
        train, validation, test = stored_splits(stored, dict(config))
    except DatasetNotFound:
        return DataSummary(dataset=dataset, sha256=trained_on,
                           note="the dataset was deleted after training")
    except CloisterError:
        # Imported again since training: the card says only what the run recorded.
        return DataSummary(dataset=dataset, sha256=trained_on,
                           note="the dataset was imported again after training (its contents or columns changed)")
    return DataSummary(
        dataset=dataset,
        sha256=stored.info.sha256 or None,
        split_rows={"train": len(train), "validation": len(validation), "test": len(test)},
        label_counts=dict(stored.info.labels),
    )
