"""Loss curves of several runs: one small plot per term, one colour per run.

Epoch means on the training batches (solid) and the validation set
(dashed), against the epoch: runs with other batch sizes or data sizes
still share the axis. A vertical line marks the epoch the comparison shows.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from gui.style import cache_axes
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.widgets.axes import readable_axis_items
from gui.widgets.markup import escaped

COLUMNS = 3


class CompareCurvesPanel(QWidget):
    """Per-term plots of the runs' epoch means (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "compareCurvesPanel", "Loss curves of the compared runs")
        self.graphics = named(pg.GraphicsLayoutWidget(), "compareCurvesPlots",
                              "One plot per loss term, one colour per run")
        self.log_check = named(QCheckBox("Log scale"), "compareLogScaleCheck", "Log scale",
                               "Loss axes on a log scale (terms that reach 0 or below, like "
                               "elbo, stay linear)")
        self.log_check.setChecked(True)
        self.log_check.toggled.connect(self._apply_log)
        self.caption = caption_label("solid: training batches · dashed: validation set",
                                     "compareCurvesCaption", "How to read the curves")
        top = QHBoxLayout()
        top.addWidget(self.log_check)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.lines: dict[str, pg.InfiniteLine] = {}
        self._positive: dict[str, bool] = {}

    def set_runs(self, runs: list, term_names: list[str]) -> None:
        """Plot ``runs`` (:class:`~engine.export.compared.ComparedRun` with ``colour``)."""
        self.graphics.clear()
        self.plots, self.lines, self._positive = {}, {}, {}
        first = None
        for k, term in enumerate(term_names):
            plot = self.graphics.addPlot(row=k // COLUMNS, col=k % COLUMNS, title=term,
                                         axisItems=readable_axis_items(integer_x=True))
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "epoch")
            cache_axes(plot)
            if first is None:
                first = plot
                legend = plot.addLegend(offset=(-4, 4), labelTextSize="8pt", verSpacing=-6)
                legend.setBrush(pg.mkBrush(255, 255, 255, 200))
            else:
                plot.setXLink(first)
            positive = True
            for r in runs:
                eh = r.run.epoch_history
                for part, style in (("train", Qt.SolidLine), ("val", Qt.DashLine)):
                    y = eh.get(part, {}).get(term)
                    if y is None or not len(y):
                        continue
                    positive &= bool(np.all(np.asarray(y) > 0))
                    # A run of one epoch is one point: a line alone would draw nothing
                    dot = dict(symbol="o" if part == "train" else "t", symbolSize=7,
                               symbolBrush=r.colour, symbolPen=None) if len(y) == 1 else {}
                    plot.plot(np.asarray(eh["epoch"], float), np.asarray(y, float),
                              pen=pg.mkPen(r.colour, width=2, style=style),
                              name=escaped(r.label) if part == "train" and plot is first else None,
                              **dot)
            line = pg.InfiniteLine(angle=90, movable=False,
                                   pen=pg.mkPen("#7a7a7a", width=1, style=Qt.DashLine))
            plot.addItem(line, ignoreBounds=True)
            line.hide()
            self.plots[term], self.lines[term] = plot, line
            self._positive[term] = positive
        self._apply_log(self.log_check.isChecked())

    def mark_epoch(self, epoch: int | None) -> None:
        for line in self.lines.values():
            if epoch is None:
                line.hide()
            else:
                line.setValue(float(epoch))
                line.show()

    def _apply_log(self, on: bool) -> None:
        for term, plot in self.plots.items():
            plot.setLogMode(y=on and self._positive.get(term, False))
