"""The sidebar's icons stay visible on the blue highlight of the selected page."""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon


def _brightest_line(icon: QIcon, mode: QIcon.Mode, ratio: float = 1.0) -> int:
    """The lightness of the most opaque pixels: the icon's lines, whatever is behind them."""
    image = icon.pixmap(QSize(22, 22), ratio, mode).toImage()
    opaque = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())
              if image.pixelColor(x, y).alpha() > 200]
    assert opaque, "the icon drew nothing"
    return max(color.lightness() for color in opaque)


def test_a_selected_sidebar_icon_is_drawn_in_white(qapp) -> None:  # noqa: ANN001
    from desktop.icons import nav_icon

    for name in ("datasets", "train", "results", "tryit", "runs"):
        icon = nav_icon(name)
        assert _brightest_line(icon, QIcon.Mode.Normal) < 160, name  # grey lines on a light list
        assert _brightest_line(icon, QIcon.Mode.Selected) > 240, name  # white on the highlight
        for ratio in (1.25, 1.5, 2.0, 3.0):  # at 150% they were drawn grey again
            assert _brightest_line(icon, QIcon.Mode.Selected, ratio) > 240, (name, ratio)
