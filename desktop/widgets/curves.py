"""Line curves (loss, validation metrics) drawn with pyqtgraph, imported only when first shown.

pyqtgraph costs about 0.6 s to import; deferring it to the first time a plot is visible keeps
the window's cold start fast. Data set before that is kept and drawn when the plot appears.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette, QShowEvent, QTextOption
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.units import clipped

# Distinguishable on light and dark backgrounds (Okabe-Ito, colour-blind safe).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#999999"]


LEGEND_CHARS = 32  # a legend entry's name, at most


def shown_name(name: str) -> str:
    """A series as people read it: "val macro F1", as the tables say, not the key "val macro_f1"."""
    return name.replace("macro_f1", "macro F1").replace("micro_f1", "micro F1")

class CurvePlot(QWidget):
    def __init__(self, *, title: str, x_label: str = "step", y_label: str = "", empty_text: str = "",
                 smooth: Callable[[str], bool] = lambda _name: False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        # Which series are per-step values worth drawing as a trend (training loss); validation
        # points are few and exact, and are drawn as they are.
        self._smooth = smooth
        # Said across an empty plot, so that bare axes do not read as a run that learnt nothing.
        self._empty_text = empty_text
        self._empty_item: Any = None
        self._x_label = x_label
        self._y_label = y_label
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._plot: Any = None
        self._items: dict[str, tuple[Any, Any]] = {}
        self._x_partner: CurvePlot | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel(title)
        self._layout.addWidget(self._placeholder)
        self.setMinimumHeight(160)
        self._describe()

    # --- data (works whether or not the plot exists yet) ------------------------------------
    def clear(self) -> None:
        self._series.clear()
        if self._plot is not None:
            for items in self._items.values():
                for item in items:
                    self._plot.removeItem(item)
        self._items.clear()
        self._show_empty_text()
        self._describe()

    def set_series(self, name: str, xs: list[float], ys: list[float]) -> None:
        self._series[name] = (list(xs), list(ys))
        self._redraw(name)
        self._describe()

    def extend(self, name: str, xs: list[float], ys: list[float]) -> None:
        old_x, old_y = self._series.setdefault(name, ([], []))
        old_x.extend(xs)
        old_y.extend(ys)
        self._redraw(name)
        self._describe()

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        return {name: (list(x), list(y)) for name, (x, y) in self._series.items()}

    def link_x(self, other: CurvePlot) -> None:
        """Share the step axis with ``other`` (loss and validation line up under each other)."""
        self._x_partner = other
        if self._plot is not None and other._plot is not None:
            self._plot.setXLink(other._plot)

    # --- drawing -----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ensure_plot()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # The system switched between light and dark: pyqtgraph keeps the colours it was given.
        if event.type() == QEvent.Type.PaletteChange and self._plot is not None:
            self._apply_palette()

    def _apply_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self._plot.setBackground(palette.color(QPalette.ColorRole.Base))
        self._plot.setTitle(self._title, color=text)
        for axis in ("bottom", "left"):
            item = self._plot.getAxis(axis)
            item.setPen(text)
            item.setTextPen(text)
        legend = self._plot.getPlotItem().legend
        if legend is not None:
            legend.setLabelTextColor(text)
        if self._empty_item is not None:
            self._empty_item.setColor(palette.color(QPalette.ColorRole.PlaceholderText))

    def ensure_plot(self) -> None:
        if self._plot is not None:
            return
        import pyqtgraph as pg

        palette = self.palette()
        plot = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        plot.setTitle(self._title, color=text)
        plot.showGrid(x=True, y=True, alpha=0.2)
        # The legend sits under the plot, in rows of four, not over it: inside it hid the
        # validation curves, which run along the top (accuracy near 1.0) where it was anchored.
        legend = pg.LegendItem(colCount=4, labelTextColor=text)
        plot_item = plot.getPlotItem()
        plot_item.legend = legend  # where plot(name=...) adds its entry
        plot_item.layout.addItem(legend, 5, 1, 1, 2)  # below the step axis and its label
        for axis, label in (("bottom", self._x_label), ("left", self._y_label)):
            item = plot.getAxis(axis)
            item.setPen(text)
            item.setTextPen(text)
            item.enableAutoSIPrefix(False)  # "loss (x0.001)" reads badly; show plain values
            if label:
                item.setLabel(label)
        # One width for every value axis: plots whose step axes are linked line up on screen,
        # and pyqtgraph links by screen position (a wider axis shifted the partner's steps).
        plot.getAxis("left").setWidth(56)
        # Not a Tab stop of its own (an unnamed one, to a screen reader): the plot's latest
        # values are in its name instead (``_describe``).
        plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._layout.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        self._layout.addWidget(plot)
        self._plot = plot
        partner = self._x_partner
        if partner is not None and partner._plot is not None:
            plot.setXLink(partner._plot)
        elif partner is not None:
            partner._x_partner = self  # it links when it is drawn
        for name in self._series:
            self._redraw(name)
        self._show_empty_text()

    def empty_text_shown(self) -> bool:
        return self._empty_item is not None and self._empty_item.isVisible()

    def _show_empty_text(self) -> None:
        if self._plot is None or not self._empty_text:
            return
        if self._empty_item is None:
            import pyqtgraph as pg

            item = pg.TextItem(self._empty_text, color=self.palette().color(QPalette.ColorRole.PlaceholderText),
                               anchor=(0.5, 0.5))
            item.setPos(0.5, 0.5)  # the middle of an empty plot's default 0-1 range
            self._plot.addItem(item, ignoreBounds=True)
            self._empty_item = item
            # Kept in the middle of whatever the view shows: the step axis is shared, so the
            # partner's steps move this empty plot's range too (the text once sat off its left).
            vb = self._plot.getPlotItem().vb
            vb.sigRangeChanged.connect(lambda *_: self._center_empty_text())
            vb.sigResized.connect(lambda *_: self._center_empty_text())  # and wrapped anew
        empty = not any(xs for xs, _ys in self._series.values())
        self._set_empty(empty)
        if empty:
            vb = self._plot.getPlotItem().vb
            vb.setRange(yRange=(0, 1), padding=0)
            if not self._partner_steps():  # else the shared axis shows the partner's steps
                vb.setRange(xRange=(0, 1), padding=0)
            self._center_empty_text()

    def _redraw(self, name: str) -> None:
        if self._plot is None:
            return
        xs, ys = self._series[name]
        items = self._items.get(name)
        if items is None:
            import pyqtgraph as pg

            color = QColor(PALETTE[len(self._items) % len(PALETTE)])
            faint = QColor(color)
            faint.setAlpha(70)
            # The raw values, faint, under their trend once there are enough to smooth; the
            # legend names the trend (or the values themselves while they are few).
            raw = self._plot.plot(pen=pg.mkPen(color=faint, width=1))
            # The legend's names cut, and two a row once one is long: four long names a row
            # ("nihongo_sjis · 12-07 08:25:17") widened the scene past the view, and the curves'
            # last steps went off the right edge.
            main = self._plot.plot(pen=pg.mkPen(color=color, width=2), name=clipped(shown_name(name), LEGEND_CHARS),
                                   symbolSize=5, symbolBrush=color, symbolPen=color)
            items = self._items[name] = (main, raw)
            legend = self._plot.getPlotItem().legend
            if legend is not None and max(len(n) for n in self._items) > LEGEND_CHARS // 2:
                legend.setColumnCount(2)
        main, raw = items
        weight = smoothing_weight(len(xs)) if self._smooth(name) else 0.0
        raw.setVisible(weight > 0)
        raw.setData(xs, ys)
        main.setData(xs, smoothed(ys, weight), symbol="o" if len(xs) < 30 else None)
        if self.empty_text_shown() and xs:
            self._set_empty(False)
        self._fit()

    def _describe(self) -> None:
        """The plot in words, as a screen reader reads it: each curve's latest point."""
        latest = [f"{shown_name(name)} {ys[-1]:.3g} at {self._x_label} {xs[-1]:g}"
                  for name, (xs, ys) in self._series.items() if xs]
        self.setAccessibleName(f"{self._title}: " + ("; ".join(latest) or self._empty_text))

    def _partner_steps(self) -> list[float]:
        partner = self._x_partner
        if partner is None:
            return []
        return [x for xs, _ys in partner._series.values() for x in xs]

    def _fit(self) -> None:
        """Show every point: the values' own range, and on the shared step axis every step of
        this plot and its partner. Set here rather than left to pyqtgraph's auto-range, which
        a linked axis turns off for good (after a clear, a resumed run's curves were drawn
        outside a 0-1 view that never moved)."""
        steps = [x for xs, _ys in self._series.values() for x in xs] + self._partner_steps()
        if not steps or self._plot is None:
            return
        vb = self._plot.getPlotItem().vb
        vb.enableAutoRange(axis=vb.YAxis)
        low, high = min(steps), max(steps)
        vb.setXRange(low, high if high > low else low + 1, padding=0.02)

    def _center_empty_text(self) -> None:
        if self.empty_text_shown():
            vb = self._plot.getPlotItem().vb
            (x0, x1), (y0, y1) = vb.viewRange()
            # Wrapped to the plot's width (a narrow window cut it at both ends), lines centred.
            self._empty_item.setTextWidth(max(80.0, vb.width() - 24))
            self._empty_item.textItem.document().setDefaultTextOption(
                QTextOption(Qt.AlignmentFlag.AlignCenter))
            self._empty_item.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def drawn(self, name: str) -> tuple[list[float], bool]:
        """The line drawn for ``name`` (its trend, once smoothed) and whether the raw values
        show under it."""
        main, raw = self._items[name]
        return [float(y) for y in main.getData()[1]], raw.isVisible()

    def _set_empty(self, empty: bool) -> None:
        self._empty_item.setVisible(empty)
        for axis in ("bottom", "left"):  # no "step 0.1 ... 0.9" before there are steps
            self._plot.getAxis(axis).setStyle(showValues=not empty)


def smoothing_weight(points: int) -> float:
    """How much of the running trend each new point keeps: none for a few points (validation
    scores, short runs), then about a tenth of the curve's length (TensorBoard's smoothing, with
    the slider set by the length). Per-step losses on small batches jump by their batch's luck."""
    if points < 30:
        return 0.0
    return min(0.9, 1.0 - 10.0 / points)


def smoothed(ys: list[float], weight: float) -> list[float]:
    """An exponential moving average, started at the first value (no lag at the start)."""
    if weight <= 0:
        return list(ys)
    out: list[float] = []
    trend: float | None = None
    for y in ys:
        if not math.isfinite(y):  # a diverged step shows as itself and leaves the trend alone
            out.append(y)
            continue
        trend = y if trend is None else weight * trend + (1.0 - weight) * y
        out.append(trend)
    return out
