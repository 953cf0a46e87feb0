"""An empty curve plot says what will appear there, rather than show bare 0-1 axes that read as
a run that learnt nothing; the message goes with the first point and comes back on clear."""
from __future__ import annotations

from desktop.widgets.curves import CurvePlot


def _tick_values_shown(plot: CurvePlot) -> bool:
    return all(plot._plot.getAxis(axis).style["showValues"] for axis in ("bottom", "left"))


def test_the_empty_text_shows_until_a_curve_has_points_and_again_after_clear(qtbot):
    plot = CurvePlot(title="Training loss", y_label="loss", empty_text="The loss appears here.")
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitUntil(lambda: plot._plot is not None)
    assert plot.empty_text_shown() and not _tick_values_shown(plot)
    plot.set_series("loss", [], [])  # a series with no points yet is still nothing to see
    assert plot.empty_text_shown()
    plot.extend("loss", [1, 2, 3], [0.9, 0.7, 0.6])
    assert not plot.empty_text_shown() and _tick_values_shown(plot)
    view = plot._plot.getPlotItem().vb
    qtbot.waitUntil(lambda: view.viewRange()[0][1] >= 3)  # the curve, not the message, sets the range
    plot.clear()
    assert plot.empty_text_shown()
    (x0, x1), (y0, y1) = view.viewRange()
    assert x0 <= 0.5 <= x1 and y0 <= 0.5 <= y1  # the message is in view again


def test_data_set_before_the_plot_exists_is_drawn_without_the_message(qtbot):
    plot = CurvePlot(title="Validation", empty_text="Validation scores appear here.")
    qtbot.addWidget(plot)
    plot.set_series("val accuracy", [10, 20], [0.6, 0.8])  # before the first show: no plot yet
    plot.show()
    qtbot.waitUntil(lambda: plot._plot is not None)
    assert not plot.empty_text_shown() and plot.series()["val accuracy"] == ([10, 20], [0.6, 0.8])


def test_without_an_empty_text_nothing_is_added(qtbot):
    plot = CurvePlot(title="Curves")
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitUntil(lambda: plot._plot is not None)
    assert not plot.empty_text_shown()
