"""Application settings: where the workspace is, which device, when to lock. Qt-free.

Stored as JSON in ``$CLOISTER_SETTINGS_DIR`` when set (tests, portable installs), otherwise in
the platform's user config folder. Settings never hold user data: no file names of imported
data, no labels, no metrics — only these preferences.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

# The settings folder and file are defined beside the workspace's folders: the command line
# reads the workspace chosen here from the same file.
from privacy.vault.folders import SETTINGS_FILE, settings_dir

log = logging.getLogger(__name__)

# The device choices, worded the same in Settings and on the Train page: (title, TrainConfig value).
# "Automatic" is short enough for the Train page's narrow column; its tooltip says what it does.
AUTO_DEVICE_TIP = "Automatic: the GPU if there is one (CUDA or Apple), else the CPU"
DEVICES = (("Automatic", "auto"), ("CPU", "cpu"),
           *((f"GPU {n} (CUDA)", f"cuda:{n}") for n in range(8)), ("Apple GPU (MPS)", "mps"))


@dataclass(frozen=True)
class Settings:
    workspace: str = ""  # empty: the default workspace folder (privacy.vault.workspace)
    device: str = "auto"  # "auto", "cpu", "cuda:N" or "mps"
    idle_lock_minutes: int = 15  # 0 turns idle locking off
    model_folder: str = ""  # the base model last chosen on the Train page; empty: the default

    def validated(self) -> Settings:
        """A copy with out-of-range values replaced by defaults (a hand-edited file can't crash us)."""
        from engine.errors import InputError
        from engine.training.config import DeviceSetting

        try:
            device = str(DeviceSetting.parse(self.device))
        except InputError:
            device = "auto"
        try:
            minutes = max(0, min(24 * 60, int(self.idle_lock_minutes)))
        except (TypeError, ValueError):
            minutes = Settings.idle_lock_minutes
        return replace(self, device=device, idle_lock_minutes=minutes, workspace=str(self.workspace),
                       model_folder=str(self.model_folder or ""))


def load_settings() -> Settings:
    """Read the settings; a missing or unreadable file gives the defaults (logged, not fatal)."""
    path = settings_dir() / SETTINGS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in raw.items() if k in known}).validated()


def save_settings(settings: Settings) -> Path:
    """Write atomically and durably (the vault's own helper: temp file, fsync, rename, fsync of
    the folder) so a crash never leaves half a file."""
    from privacy.vault.atomic import atomic_write_bytes

    folder = settings_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # Qt's own settings go here too
    path = folder / SETTINGS_FILE
    atomic_write_bytes(path, json.dumps(asdict(settings.validated()), indent=2).encode("utf-8"))
    return path


def workspace_root(settings: Settings) -> Path:
    """The workspace folder: the setting, else what ``default_workspace_dir`` decides."""
    from privacy.vault.workspace import default_workspace_dir

    return default_workspace_dir(settings.workspace or None, in_settings=False)  # read already
