"""Icons from resources/icons (SVG), found through resources.paths so the frozen build works."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from resources.paths import resources_dir


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The named icon, or an empty icon (logged by Qt) if the file is missing."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
