"""One place that finds bundled resources, from a checkout and inside a PyInstaller bundle."""
from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The folder holding icons, the stylesheet and sample data.

    In a frozen one-folder build PyInstaller unpacks data under ``sys._MEIPASS``; the spec puts
    this package's files at ``resources/`` there.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent


def resource(*parts: str) -> Path:
    """Path of a bundled resource; raises FileNotFoundError naming it if it is missing."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"bundled resource missing: {path} (reinstall Cloister)")
    return path
