"""Errors the privacy layer reports to users. Qt-free and engine-free."""
from __future__ import annotations


class PrivacyError(Exception):
    """Base for privacy-layer errors with a user-facing message (printed without traceback)."""

    exit_code = 1


# --- Vault and container errors (engineer B, issue #4). Each message names the file or setting
# concerned and says what the user can do; none ever contains decrypted data.


class ContainerError(PrivacyError):
    """An encrypted file is damaged, truncated, tampered with, or not a Cloister container."""


class WrongPassphrase(PrivacyError):
    """The passphrase does not open the vault or sealed file (the file itself looks intact)."""

    exit_code = 2  # the user's input, as a bad file or setting is: retry with the right one

    def __init__(self, message: str, *, passphrase_set: str = "") -> None:
        super().__init__(message)
        # When the vault's passphrase was set ("2026-12-06 08:03 UTC"; empty when not known):
        # each front end words the message its own way around it.
        self.passphrase_set = passphrase_set


class VaultDamaged(PrivacyError):
    """The vault file exists but cannot be parsed or fails its checksum."""


class VaultTooNew(PrivacyError):
    """The vault was written by a newer Cloister; this version refuses to touch it."""


class VaultLocked(PrivacyError):
    """The workspace was locked; its keys are gone and it must be unlocked again."""


class VaultNotFound(PrivacyError):
    """No vault at the given workspace location."""


class VaultExists(PrivacyError):
    """A vault already exists where a new one was to be created."""


class FolderUnusable(PrivacyError):
    """The folder chosen for a new workspace is a file, or already holds other files."""

    exit_code = 2


class NotInVault(PrivacyError):
    """The requested entry (dataset, run, file) is not in the workspace."""


# --- Integrity errors (issue #13): files were cut, deleted or put back from an older copy.


class ChangeNotLogged(PrivacyError):
    """A change was made, but the disk refused its audit entry: said as done, not as failed."""


class IntegrityError(PrivacyError):
    """The workspace does not match what the vault (and its copy outside the workspace) records:
    an audit log was cut or deleted, or an older copy of a file was put back. ``problems``:
    each disagreement found, for a caller that words its own message."""

    def __init__(self, message: str, problems: tuple[str, ...] = (), *,
                 restorable: bool = False) -> None:
        super().__init__(message)
        self.problems = problems
        # Whether accepting the workspace as it is (`accept_restore`) can work: its index reads
        # (an older copy put back), as opposed to an index missing or damaged.
        self.restorable = restorable


class WeakKdfRefused(PrivacyError):
    """A passphrase key derivation below Cloister's floor was asked for when writing a file."""

    exit_code = 2


class NoRoomForChange(OSError):
    """A change refused before it began because the workspace's disk has too little room for
    it and its audit entry (errno ENOSPC). Its message says that nothing was changed and what
    to do, so no generic disk advice is added to it."""
