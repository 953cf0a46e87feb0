"""Where a workspace lives, what folder a new one may take, and what to say when a folder is
not one (``privacy.vault.workspace`` uses these; the CLI and the desktop reach them through it)."""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from privacy.errors import FolderUnusable
from privacy.vault.atomic import is_part_name
from privacy.vault.index import AUDIT_FILE, OBJECTS_DIR
from privacy.vault.keyfile import VAULT_FILE_NAME


# What file managers leave in any folder they show: not the user's files.
_OS_CLUTTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".directory"})
# The workspace's lock file (``privacy.vault.workspace``); a new workspace's folder is checked
# for file locks with it before the vault file is written (``check_locks``).
LOCK_FILE = ".lock"
# An init at work keeps its lock file and its vault's part file for milliseconds: one younger
# than this may be another init's, finishing now, rather than what a killed one left.
_INIT_AT_WORK_S = 2.0


def _clutter(path: Path) -> bool:
    return path.name in _OS_CLUTTER or path.name.startswith("._")


def init_leftovers(root: Path) -> list[Path]:
    """What an init stopped before its vault file was in place (killed, a power cut) left in
    ``root``, when that is all ``root`` holds besides a file manager's clutter: the lock file
    of ``check_locks`` and the part file the vault file was being written to. Neither holds
    anything to keep: a part file holds at most the vault file, whose key, never used, encrypts
    nothing. Empty when ``root`` holds anything else, or nothing at all."""
    try:
        found = [p for p in Path(root).iterdir() if not _clutter(p)]
    except OSError:  # absent, a file, unreadable: no leftovers to speak of
        return []
    ours = [p for p in found if (p.name == LOCK_FILE or is_part_name(p.name))
            and p.is_file() and not p.is_symlink()]
    return ours if found and len(ours) == len(found) else []


def _remove_init_leftovers(root: Path, leftovers: list[Path]) -> None:
    """Remove an unfinished init's leftovers, so that this init finishes it. One just written
    may be another init's, at work now: it is waited out first, and if that init made the
    vault meanwhile, nothing is removed (creating it again is refused as a vault that exists)."""
    youngest = max((_modified(p) for p in leftovers), default=0.0)
    wait = youngest + _INIT_AT_WORK_S - time.time()
    if wait > 0:
        time.sleep(min(wait, _INIT_AT_WORK_S))
        if (root / VAULT_FILE_NAME).exists():
            return
    for path in leftovers:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _modified(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:  # gone already
        return 0.0


def _check_new_root(root: Path) -> None:
    """A new workspace needs a folder of its own: everything in it is encrypted and it is backed
    up or deleted whole, so a file there, or a folder of the user's own files, is refused. What
    an interrupted init left there is Cloister's own: it is removed, and this init finishes
    the job (refused, the user was told to choose an empty folder, and the default one, which
    they never chose, held only a hidden file they had to find)."""
    if root.exists() and not root.is_dir():
        raise FolderUnusable(f"{root} is a file, not a folder: choose a new or empty folder for "
                             "the workspace")
    leftovers = init_leftovers(root)
    if leftovers:
        _remove_init_leftovers(root, leftovers)
        return
    if root.is_dir() and any(not _clutter(p) for p in root.iterdir()):
        raise FolderUnusable(f"{root} already holds other files: a workspace needs a folder of "
                             "its own (everything in it is encrypted, and it is backed up or "
                             "deleted as a whole); choose a new or empty folder")


SETTINGS_FILE = "settings.json"


def settings_dir() -> Path:
    """The app's settings folder (``desktop.settings`` reads and writes the file; the CLI reads
    the workspace folder from it): ``$CLOISTER_SETTINGS_DIR``, else the user config folder."""
    override = os.environ.get("CLOISTER_SETTINGS_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("Cloister", appauthor=False))


def workspace_in_settings() -> str | None:
    """The workspace folder chosen in the app's Settings, if any (an unreadable file: none)."""
    import json

    try:
        raw = json.loads((settings_dir() / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    chosen = raw.get("workspace") if isinstance(raw, dict) else None
    return chosen if isinstance(chosen, str) and chosen.strip() else None


def default_workspace_dir(chosen: str | os.PathLike[str] | None = None, *,
                          in_settings: bool = True) -> Path:
    """Where the workspace is, decided here only (the CLI's --workspace and the desktop's
    setting pass their choice in): ``chosen`` if given, else the folder chosen in the app's
    Settings (the command line once ignored it, and told a user whose data was there to create
    a second, empty vault), else ``$CLOISTER_WORKSPACE``, else the platform's user data dir /
    ``workspace``: the same order in the app and on the command line, so both open one vault.
    ``in_settings=False``: where it is when Settings names no folder (what the Settings
    dialog shows its empty field stands for)."""
    if chosen:
        return Path(chosen).expanduser()
    set_there = workspace_in_settings() if in_settings else None
    if set_there:
        return Path(set_there).expanduser()
    override = os.environ.get("CLOISTER_WORKSPACE")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("Cloister", appauthor=False)) / "workspace"


def not_found_message(root: Path) -> str:
    """Why ``root`` cannot be opened when it has no vault file: a folder that still holds a
    workspace's other files lost the one with its keys (init cannot help; a backup can)."""
    root = Path(root)
    if (root / AUDIT_FILE).exists() or (root / OBJECTS_DIR).is_dir():
        return (f"the workspace at {root} has lost its {VAULT_FILE_NAME}, the file that holds "
                "its keys (its audit log and data files are there, but nothing can be "
                f"decrypted without it): put {VAULT_FILE_NAME} back from a backup of this "
                "workspace")
    if root.is_file():  # a data file given for the folder: 'cloister init' there cannot work
        return (f"{root} is a file, not a workspace folder: give the folder that holds the "
                f"workspace (its {VAULT_FILE_NAME}), or a new folder for 'cloister init'")
    if init_leftovers(root):  # only what an interrupted init left: init again finishes it
        return (f"no Cloister workspace at {root}: a 'cloister init' of this folder was "
                "interrupted before the workspace was made; run 'cloister init' for it again, "
                "which finishes it (nothing was stored there yet)")
    return f"no Cloister workspace at {root}; create one with 'cloister init'"


def check_room_for_new(root: Path, *, remove_folder: bool) -> None:
    """Refuse, before a vault is written, a disk without room for it, its index and its first
    audit entry (``NoRoomForChange``): a vault written without them was refused as "nothing
    changed", and the retry then said a workspace already existed there."""
    from privacy.vault.index import check_room

    try:
        check_room(root, 0)
    except OSError:
        if remove_folder:
            with contextlib.suppress(OSError):
                root.rmdir()
        raise


def check_locks(lock: Path, *, remove_folder: bool) -> None:
    """Refuse, before a vault is written, a folder whose file system has no file locks: take
    and drop ``lock`` once (``file_lock.LocksUnsupported`` says why and what to do). The lock
    file goes again either way: a create refused later (a weak passphrase) leaves no trace."""
    from privacy.vault import file_lock

    try:
        with file_lock.held(lock):
            pass
    except file_lock.LocksUnsupported:
        with contextlib.suppress(OSError):
            lock.unlink()
            if remove_folder:
                lock.parent.rmdir()
        raise
    with contextlib.suppress(OSError):
        lock.unlink()
