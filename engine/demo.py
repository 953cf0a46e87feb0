"""The whole flow on the bundled defaults: sample data in, default MiniLM trained, metrics out.

Used by ``cloister demo`` (a throw-away workspace) and by front ends that offer a one-click
first run (``import_sample`` into the user's own workspace).
"""
from __future__ import annotations

import contextlib
import dataclasses
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TYPE_CHECKING

from engine.events import CancelToken, Event
from engine.training.config import TrainConfig

if TYPE_CHECKING:
    from engine.vault import Vault

SAMPLE_FILE = ("sample_data", "sms_spam_sample.csv")
SAMPLE_DATASET = "sms-spam-sample"
SAMPLE_ROWS = 600  # resources/sample_data/README.md; the demo test checks the 480 it trains on


def sample_path() -> Path:
    from resources.paths import resource

    return resource(*SAMPLE_FILE)


def import_sample(ws: Vault, *, name: str = SAMPLE_DATASET, replace: bool = False) -> Any:
    """Validate and store the bundled SMS spam sample as dataset ``name``; return its info."""
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.data.validation import validate

    imported = read_table(sample_path())
    mapping = infer_mapping(imported)
    return save_dataset(ws, name, imported, mapping, problems=validate(imported, mapping),
                        overwrite=replace)


def demo_config(*, dataset: str = SAMPLE_DATASET, epochs: int = 2, max_length: int = 64,
                model_path: str | None = None, dp_trainable: str | None = None) -> TrainConfig:
    """Settings that fit the sample on a laptop CPU in about a minute.

    SMS messages are short (a 160-character message is ~40 tokens), so 64 tokens cover nearly
    all of them; a higher learning rate than the usual 5e-5 suits only 60 steps.

    ``dp_trainable`` ("auto", "top-2", "lora", "all") trains with differential privacy at ε = 8 and
    the automatic DP settings instead. 480 training rows are far too few for DP to learn much:
    this shows the DP path working (ε spent, live), not DP's accuracy.
    """
    config = TrainConfig(dataset=dataset, model_path=model_path, epochs=epochs, batch_size=16,
                         learning_rate=1e-4, max_length=max_length, early_stopping_patience=None)
    if dp_trainable is None:
        return config
    from dataclasses import replace

    from engine.training.auto import TRAIN_SHARE, choose_dp_settings

    sample_rows = int(SAMPLE_ROWS * TRAIN_SHARE)  # the training share under the default split
    part = None if dp_trainable == "auto" else dp_trainable
    auto = {c.name: c.value for c in choose_dp_settings(sample_rows, part)}
    return replace(config, dp=True, dp_epsilon=8.0, **{**auto, "dp_trainable": part or auto["dp_trainable"]})


@contextlib.contextmanager
def _folder(root: Path | None) -> Iterator[Path]:
    """``root`` as given, or a temporary folder removed (with the workspace in it) on exit."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="cloister-demo-") as tmp:
        yield Path(tmp)


def run_demo(*, root: Path | None = None, config: TrainConfig | None = None,
             cancel: CancelToken | None = None) -> Iterator[Event]:
    """Create a workspace (a temporary one by default), import the sample, train; yield events.

    The temporary workspace (and its random passphrase) is gone when the generator finishes.
    """
    from privacy.vault.workspace import Workspace

    from engine.training import train
    from engine.failures import to_failed

    with _folder(root) as folder:
        ws = Workspace.create(folder / "workspace", secrets.token_urlsafe(24))
        vault_id = ws.vault_id
        try:
            try:
                import_sample(ws)
            except Exception as exc:  # noqa: BLE001 - like train(): end with Failed, never raise
                yield to_failed(exc, activity="importing the sample data")
                return
            for event in train(ws, config or demo_config(), cancel=cancel):
                yield _with_privacy_said(ws, event)
        finally:
            ws.lock()
            if root is None:  # the throw-away workspace goes: its record outside it goes too
                from privacy.vault.anchor import remove_mirror

                remove_mirror(vault_id)


def _with_privacy_said(ws: Any, event: Event) -> Event:
    """A DP demo's end says the guarantee, as `cloister train` does from the run record: the
    throw-away workspace, and the record with it, is gone once the demo ends."""
    from engine.events import Finished
    from engine.runs import load_run, privacy_said

    if not isinstance(event, Finished):
        return event
    try:
        said = privacy_said(load_run(ws, event.run_id).privacy)
    except Exception:  # noqa: BLE001 - the run finished: its end stands without the sentence
        return event
    return dataclasses.replace(event, info=(*event.info, said)) if said else event
