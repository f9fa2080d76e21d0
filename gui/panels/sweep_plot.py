"""A sweep's result: each final term against the swept value, one small plot per term.

The x axis is the first swept field (log-spaced when its values span a
factor of ten or more; categories when they are not numbers); runs that
differ in the other swept fields draw one line each. Points have their
run's colour, the lines' validation (solid) and training (dashed) means
are the last epoch's.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.export.research_summary import MEASURE_KEYS, MEASURE_WORDS
from engine.sweep.plan import short_fields, value_words, Axis
from gui.style import cache_axes
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.widgets.axes import readable_axis_items
from gui.widgets.markup import escaped

COLUMNS = 3


def sweep_x(values: list) -> tuple[list[float], list[tuple[float, str]] | None, bool]:
    """(x positions, category ticks or None, log axis) for the swept values."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numeric:
        order = list(dict.fromkeys(value_words(v) for v in values))
        return ([float(order.index(value_words(v))) for v in values],
                [(float(i), w) for i, w in enumerate(order)], False)
    xs = [float(v) for v in values]
    log = min(xs) > 0 and max(xs) / min(xs) >= 10
    return ([math.log10(x) for x in xs] if log else xs), None, log


class SweepPlotPanel(QWidget):
    """Final terms against the swept value (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "sweepPlotPanel", "Final terms against the swept value")
        self.graphics = named(pg.GraphicsLayoutWidget(), "sweepPlots",
                              "One plot per term: its final value against the swept value")
        self.caption = caption_label("", "sweepPlotCaption", "Sweep plot caption", wrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        self.plots: dict[str, pg.PlotItem] = {}

    def set_runs(self, runs: list, swept: list[str], term_names: list[str]) -> None:
        self.graphics.clear()
        self.plots = {}
        field = swept[0]
        others = swept[1:]
        xs, ticks, log = sweep_x([r.values.get(field) for r in runs])
        short = short_fields([Axis(f, ()) for f in swept])
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(runs):
            key = tuple(value_words(r.values.get(f)) for f in others)
            groups.setdefault(key, []).append(i)
        # The research measures (MIG, DCI, I(x; z), …) of the runs that have them, after the
        # terms: MIG against beta is the sweep that shows disentanglement.
        measured = [m for m in MEASURE_KEYS if any(m in r.measures() for r in runs)]
        for k, term in enumerate([*term_names, *measured]):
            measure = k >= len(term_names)
            plot = self.graphics.addPlot(row=k // COLUMNS, col=k % COLUMNS,
                                         title=MEASURE_WORDS[term] if measure else
                                         f"final {term}", axisItems=readable_axis_items())
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", escaped(field + (" (log)" if log else "")))
            cache_axes(plot)
            if ticks:
                plot.getAxis("bottom").setTicks([ticks])
            elif log:
                plot.getAxis("bottom").setLogMode(True)
            for g, (key, members) in enumerate(groups.items()):
                members = sorted(members, key=lambda i: xs[i])
                for part, style in ((("val", Qt.SolidLine),) if measure else
                                    (("val", Qt.SolidLine), ("train", Qt.DashLine))):
                    ys = [(runs[i].measures() if measure else runs[i].final(part)).get(
                        term, np.nan) for i in members]
                    if all(np.isnan(ys)):
                        continue
                    grey = "#333333" if part == "val" else "#999999"
                    plot.plot([xs[i] for i in members], ys,
                              pen=pg.mkPen(grey, width=1.5, style=style),
                              symbol="o" if part == "val" else "s", symbolSize=8,
                              symbolPen=None,
                              symbolBrush=[pg.mkBrush(runs[i].colour) for i in members])
            self.plots[term] = plot
        lines = "one line per " + ", ".join(short[f] for f in others) if others else ""
        self.caption.setText(
            f"The last epoch's means against {field}: solid validation, dashed training "
            f"batches; each point has its run's colour"
            + (" (the research measures: at the last scored epoch, on the validation images)"
               if measured else "") + f". {lines}".strip())
