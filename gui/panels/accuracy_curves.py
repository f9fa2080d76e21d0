"""Validation accuracy per epoch: pretrained encoder and random weights, side by side.

Two plots with the same axes (linked), one colour per label budget in both,
so "100 labels, pretrained" and "100 labels, random" are the same colour in
the left and right plot. Training accuracy can be added as dotted lines.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

import gui.style  # noqa: F401  (pyqtgraph settings)
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

#: Okabe-Ito: distinct for the common colour-vision deficiencies.
BUDGET_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
INIT_TITLES = {"pretrained": "pretrained encoder", "random": "random initial weights"}
AXIS_WIDTH = 56   # pixels of each plot's left axis


class _Series:
    """One run's curves: validation (solid) and training (dotted) accuracy in percent."""

    def __init__(self, plot: pg.PlotItem, colour: str):
        self.epochs: list[float] = []
        self.val: list[float] = []
        self.train: list[float] = []
        self.val_item = plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                  symbolBrush=colour, symbolPen=None, antialias=True)
        self.train_item = plot.plot(pen=pg.mkPen(colour, width=1.5, style=Qt.DotLine),
                                    antialias=True)

    def set(self, val: dict[int, float], train: dict[int, float]) -> None:
        """The curves: epoch -> accuracy in 0..1, validation and training."""
        for item, values in ((self.val_item, val), (self.train_item, train)):
            x = np.asarray(sorted(values), dtype=float)
            item.setData(x, 100.0 * np.asarray([values[e] for e in sorted(values)], dtype=float))


class _SameTicks(pg.AxisItem):
    """The random plot's epoch axis: the ticks of the pretrained plot's, always.

    Tick spacing follows an axis's length in pixels, and the two plots are not
    quite as wide (their titles differ): the empty plots read "2 4 6 8" beside
    "1 2 3 … 9". With the same ticks, and numbers on the main ones only, they agree.
    """

    def __init__(self, leader: pg.AxisItem):
        super().__init__("bottom")
        self.leader = leader

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        return self.leader.tickValues(minVal, maxVal, self.leader.geometry().width())


class AccuracyCurvesPanel(QWidget):
    """Accuracy curves of a comparison, pretrained left and random right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "accuracyCurvesPanel", "Accuracy curves")
        self.graphics = named(pg.GraphicsLayoutWidget(), "accuracyPlots",
                              "Validation accuracy per epoch, pretrained and random "
                              "initialisation side by side")
        self.plots: dict[str, pg.PlotItem] = {}
        for col, (init, title) in enumerate(INIT_TITLES.items()):
            leader = self.plots.get("pretrained")
            axes = {"bottom": _SameTicks(leader.getAxis("bottom"))} if leader else None
            plot = self.graphics.addPlot(row=0, col=col, title=title, axisItems=axes)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "epoch")
            plot.setYRange(0, 100, padding=0.02)
            plot.setLimits(yMin=-5, yMax=105)
            plot.enableAutoRange(y=False)
            self.plots[init] = plot
        self.plots["pretrained"].setLabel("left", "accuracy (%)")
        # The same width for both left axes (one has a label, one not): plots of the same
        # width get the same epoch ticks, also before the first curve.
        for plot in self.plots.values():
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            # Numbers on the main ticks only: a slightly wider axis also numbered the
            # minor ones.
            plot.getAxis("bottom").setStyle(maxTextLevel=0)
        self.plots["random"].setYLink(self.plots["pretrained"])
        self.plots["random"].setXLink(self.plots["pretrained"])
        self._empty_epoch_axis()
        self.legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-6)
        side = self.graphics.addLayout(row=0, col=2)
        side.addItem(self.legend, row=0, col=0)
        side.addLabel("", row=1, col=0)
        side.layout.setRowStretchFactor(1, 1)
        self.graphics.ci.layout.setColumnStretchFactor(0, 1)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)
        self.train_check = named(QCheckBox("Training accuracy too (dotted)"),
                                 "showTrainAccuracyCheck", "Show training accuracy",
                                 "Add each run's accuracy on its labelled images")
        self.caption = caption_label("Run a comparison to see accuracy curves.",
                                     "accuracyCaption", "Accuracy curves caption",
                                     fixed_width=False)
        controls = QHBoxLayout()
        controls.addWidget(self.caption, 1)
        controls.addWidget(self.train_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self.series: dict[tuple[str, int], _Series] = {}
        self.colours: dict[int, str] = {}
        self.explicit: set[int] = set()
        self.train_check.toggled.connect(self._apply_train_visibility)

    def begin(self, budgets: list) -> None:
        """A new comparison of ``budgets`` (as asked: numbers and ``"all"``)."""
        for s in self.series.values():
            for plot in self.plots.values():
                plot.removeItem(s.val_item)
                plot.removeItem(s.train_item)
        self.series.clear()
        self.colours.clear()
        self.legend.clear()
        self.explicit = {b for b in budgets if isinstance(b, int)}
        self.caption.setText("Validation accuracy per epoch; one colour per label budget.")
        self._empty_epoch_axis()

    def _empty_epoch_axis(self) -> None:
        """Epochs 1..10 until curves come (instead of pyqtgraph's 0..1 for no data);
        the axis follows the curves from their first point on."""
        plot = self.plots["pretrained"]   # the random plot's x axis is linked to it
        plot.setXRange(1, 10, padding=0.02)
        plot.enableAutoRange(x=True)

    def label(self, budget: int) -> str:
        """``"100 labels"``, or ``"all (4500)"`` for a budget asked for as 'all'."""
        return f"{budget} labels" if budget in self.explicit else f"all ({budget})"

    def set_run(self, init: str, budget: int, val: dict[int, float],
                train: dict[int, float]) -> None:
        """A run's curves (epoch -> accuracy 0..1); its budget gets a colour and a legend entry."""
        if budget not in self.colours:
            colour = BUDGET_COLOURS[len(self.colours) % len(BUDGET_COLOURS)]
            self.colours[budget] = colour
            key_item = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), symbol="o",
                                       symbolSize=5, symbolBrush=colour, symbolPen=None)
            self.legend.addItem(key_item, self.label(budget))
        key = (init, budget)
        if key not in self.series and init in self.plots:
            self.series[key] = _Series(self.plots[init], self.colours[budget])
            self._apply_train_visibility()
        if key in self.series:
            self.series[key].set(val, train)

    def _apply_train_visibility(self, *_args) -> None:
        for s in self.series.values():
            s.train_item.setVisible(self.train_check.isChecked())
