"""Icons from resources/icons (SVG), found through resources.paths so the frozen build works."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QBuffer, QByteArray, QSize
from PySide6.QtGui import QIcon, QImageReader, QPixmap

from resources.paths import resources_dir

_STROKE = 'stroke="#6b7b8c"'  # the icons' grey line colour


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The named icon, or an empty icon (logged by Qt) if the file is missing."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


_SCALES = (1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4)


@lru_cache(maxsize=None)
def nav_icon(name: str, size: int = 22) -> QIcon:
    """The icon, drawn in white when its sidebar entry is selected: Qt's own Selected mode tints
    the grey lines towards the highlight colour, and on the blue highlight they vanish."""
    base = icon(name)
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.exists():
        return base
    white = path.read_text(encoding="utf-8").replace(_STROKE, 'stroke="#ffffff"')
    result = QIcon(base)
    # One for each display scale the systems offer: for a size it was not given, the SVG engine
    # draws the grey lines tinted (at 150% they all but vanished on the highlight).
    for scale in _SCALES:
        data = QByteArray(white.encode("utf-8"))
        buffer = QBuffer(data)
        reader = QImageReader(buffer, QByteArray(b"svg"))
        side = round(size * scale)
        reader.setScaledSize(QSize(side, side))
        image = reader.read()
        if not image.isNull():
            result.addPixmap(QPixmap.fromImage(image), QIcon.Mode.Selected)
    return result
