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


def test_a_long_jumpy_curve_is_drawn_as_its_trend_over_the_faint_raw_values(qtbot):
    import random

    from desktop.widgets.curves import smoothed

    rng = random.Random(13)
    steps = list(range(1, 301))
    losses = [1.0 / (1 + s / 50) + rng.uniform(-0.3, 0.3) for s in steps]  # jumpy, falling
    plot = CurvePlot(title="Training loss", smooth=lambda name: name == "loss")
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitUntil(lambda: plot._plot is not None)
    plot.set_series("val accuracy", steps, losses)  # a series not chosen for smoothing
    assert plot.drawn("val accuracy") == (losses, False)
    plot.extend("loss", steps[:10], losses[:10])
    line, raw_shown = plot.drawn("loss")
    assert line == losses[:10] and not raw_shown  # a few points are drawn as they are
    plot.extend("loss", steps[10:], losses[10:])
    line, raw_shown = plot.drawn("loss")
    assert raw_shown and len(line) == len(losses)
    jumps = sum(abs(b - a) for a, b in zip(losses, losses[1:]))
    assert sum(abs(b - a) for a, b in zip(line, line[1:])) < jumps / 5  # far calmer
    assert line[-1] < line[0] - 0.3  # and it still falls as the loss does
    assert plot.series()["loss"] == (steps, losses)  # what is kept is the raw values
    assert smoothed([1.0, float("nan"), 1.0], 0.5)[2] == 1.0  # a NaN step leaves the trend alone


def test_linked_plots_cleared_after_a_run_show_the_next_runs_steps(qtbot):
    """The Train page clears both plots when a run (or a resume) starts; the shared step axis
    then turned pyqtgraph's auto-range off for good, and a resumed run's curves were drawn far
    outside a 0-1 view that never moved. The empty plot's message stays in its view."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    host = QWidget()
    qtbot.addWidget(host)
    loss = CurvePlot(title="Training loss", empty_text="The loss appears here.")
    validation = CurvePlot(title="Validation", empty_text="Validation scores appear here.")
    layout = QVBoxLayout(host)
    layout.addWidget(loss)
    layout.addWidget(validation)
    validation.link_x(loss)
    host.resize(600, 500)
    host.show()
    qtbot.waitUntil(lambda: loss._plot is not None and validation._plot is not None)
    loss.extend("loss", list(range(1, 30)), [0.5] * 29)
    validation.extend("val", [10, 20], [0.9, 0.92])
    loss.clear()
    validation.clear()
    loss.extend("loss", list(range(30, 61)), [0.4] * 31)  # the resumed run, before validation

    def x_range(plot: CurvePlot) -> list[float]:
        return plot._plot.getPlotItem().vb.viewRange()[0]

    qtbot.waitUntil(lambda: x_range(loss)[0] <= 30 and x_range(loss)[1] >= 60)
    assert validation.empty_text_shown()
    x0, x1 = x_range(validation)
    assert x0 <= validation._empty_item.pos().x() <= x1 and x1 - x0 > 20  # in view, centred
    validation.extend("val", [30, 45, 60], [0.9, 0.92, 0.93])
    loss.extend("loss", [61, 62, 70], [0.3, 0.3, 0.2])  # steps past the last validation
    qtbot.waitUntil(lambda: x_range(loss)[1] >= 70 and x_range(validation)[1] >= 70)
    assert x_range(loss)[0] <= 30


def test_a_plot_follows_a_switch_between_light_and_dark(qtbot):
    """pyqtgraph keeps the colours it was built with: a page opened before the system went dark
    kept a white plot in a dark window."""
    from PySide6.QtGui import QColor, QPalette

    plot = CurvePlot(title="Training loss", empty_text="The loss appears here.")
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitUntil(lambda: plot._plot is not None)
    dark = QPalette(plot.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    plot.setPalette(dark)
    qtbot.waitUntil(lambda: plot._plot.backgroundBrush().color().name() == "#1e1e1e", timeout=5_000)
    assert plot._plot.getAxis("left").textPen().color().name() == "#e6e6e6"


def test_the_empty_text_wraps_inside_a_narrow_plot(qtbot):
    """At a 1024-pixel window the Validation placeholder was one line wider than its plot,
    cut at both ends ("/alidation scores appear here …")."""
    plot = CurvePlot(title="Validation", empty_text="Validation scores appear here as training "
                                                    "reaches them.")
    qtbot.addWidget(plot)
    plot.resize(300, 240)
    plot.show()
    plot.ensure_plot()
    qtbot.waitUntil(plot.empty_text_shown, timeout=5_000)
    item, vb = plot._empty_item, plot._plot.getPlotItem().vb
    qtbot.wait(50)
    text = item.mapRectToScene(item.boundingRect())
    view = vb.mapRectToScene(vb.boundingRect())
    assert view.left() <= text.left() and text.right() <= view.right(), (text, view)
    assert text.height() > 1.5 * item.textItem.document().firstBlock().layout().lineAt(0).height()


def test_long_curve_names_are_cut_in_a_legend_of_two_columns_and_the_curves_stay_in_view(qtbot):
    # Runs compared across datasets with long names: four entries a row widened the scene, and
    # the curves' last steps went off the right edge.
    plot = CurvePlot(title="Validation accuracy", y_label="accuracy")
    qtbot.addWidget(plot)
    plot.resize(700, 400)
    plot.show()
    qtbot.waitUntil(lambda: plot._plot is not None)
    names = [f"{dataset} · 12-07 08:25:1{i}" for i, dataset in
             enumerate(("nihongo_sjis_support_tickets", "客户投诉_2024_全年", "sms", "tickets"))]
    for name in names:
        plot.set_series(name, [1, 2, 3, 4, 5, 6], [0.5, 0.6, 0.7, 0.75, 0.8, 0.82])
    legend = plot._plot.getPlotItem().legend
    assert legend.columnCount == 2
    shown = [label.text for _sample, label in legend.items]
    assert all(len(text) <= 32 for text in shown) and shown[0].endswith("…")
    qtbot.wait(50)
    scene = plot._plot.getPlotItem().sceneBoundingRect()
    assert scene.right() <= plot._plot.viewport().width() + 1
