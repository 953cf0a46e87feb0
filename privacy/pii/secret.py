"""The workspace's pseudonym secret: 32 random bytes kept encrypted in the vault.

Created on first use and never shown. It keys every pseudonym (``privacy.pii.pseudonym``), so
the same value gets the same surrogate across the workspace's datasets, and a different
workspace gives different ones.
"""
from __future__ import annotations

import secrets

from privacy.pii.pseudonym import SECRET_BYTES, Pseudonymizer
from privacy.vault.workspace import Workspace

SECRET_KEY = "privacy/pseudonym-secret"


def pseudonym_secret(ws: Workspace) -> bytes:
    if ws.exists(SECRET_KEY):
        return ws.read_bytes(SECRET_KEY)
    secret = secrets.token_bytes(SECRET_BYTES)
    ws.write_bytes(SECRET_KEY, secret)
    ws.audit("privacy.pseudonym_secret_created")
    return secret


def workspace_pseudonymizer(ws: Workspace) -> Pseudonymizer:
    return Pseudonymizer(pseudonym_secret(ws))
