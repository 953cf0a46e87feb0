"""Text the user must read keeps WCAG AA contrast (4.5:1) on whatever theme the system gives.

The style sheet takes its colours from the palette, so that light and dark themes show through;
but Qt's default palette puts the hint grey (placeholder text: the estimate, captions, subtitles)
at 3.9:1 on the window, and white on the selection colour at 3.7:1. Those two roles are pulled
toward the text colour (or darkened) until they read; the error red is chosen for the theme."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

AA = 4.5  # WCAG 2 minimum contrast for normal text

_ERROR_ON_LIGHT, _ERROR_ON_DARK = "#b3261e", "#ff8a80"  # 5.7:1 on #efefef, 5.4:1 on #353535


def luminance(colour: QColor) -> float:
    """WCAG relative luminance."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF()) + 0.0722 * linear(colour.blueF())


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _toward(colour: QColor, target: QColor, share: float) -> QColor:
    return QColor.fromRgbF(*(c + (t - c) * share for c, t in zip(colour.getRgbF()[:3], target.getRgbF()[:3])))


def flattened(colour: QColor, over: QColor) -> QColor:
    """The opaque colour a translucent one shows over ``over`` (Qt's hint grey is the text
    colour at half opacity: read as opaque, it looked black)."""
    return _toward(over, colour, colour.alphaF())


def readable(colour: QColor, target: QColor, *on: QColor) -> QColor:
    """``colour`` moved toward ``target`` in small steps until it has AA contrast on every
    background in ``on`` (as close to the theme's own colour as that allows)."""
    for step in range(11):
        moved = _toward(colour, target, step / 10)
        if all(contrast(moved, background) >= AA for background in on):
            return moved
    return QColor(target)


def readable_palette(palette: QPalette) -> QPalette:
    """The palette with its hint grey and its selection colour made readable, in the active
    and inactive groups, each from its own colours (disabled ones stay greyed, as disabled)."""
    role = QPalette.ColorRole
    palette = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        window, base, text = (palette.color(group, r) for r in (role.Window, role.Base, role.WindowText))
        hint = flattened(palette.color(group, role.PlaceholderText), window)
        palette.setColor(group, role.PlaceholderText, readable(hint, text, window, base))
        chosen, on_chosen = palette.color(group, role.Highlight), palette.color(group, role.HighlightedText)
        # The selection's text stays as the theme has it; the selection colour moves away from it.
        away = QColor("black") if luminance(on_chosen) > 0.5 else QColor("white")
        palette.setColor(group, role.Highlight, readable(chosen, away, on_chosen))
    return palette


def error_rule(palette: QPalette) -> str:
    """The style sheet's error colour for this theme (no single red reads on both)."""
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return ('QLabel#errorLabel, QLabel[error="true"] { color: %s; font-weight: 600; }'
            % (_ERROR_ON_DARK if dark else _ERROR_ON_LIGHT))
